//! The server-side scripts, one per lifecycle step, sharing one prelude.
//!
//! Layout of every step script:
//! - `KEYS[1]` the anchor key, `KEYS[2]` the operation's reply key,
//!   `KEYS[3]` the call's hash, then 11 keys per owner (see `owner_keys`).
//! - `ARGV[1]` the event instant (Unix seconds), `[2]` the retention of
//!   replies and settled calls (seconds), `[3]` the lease (seconds), `[4]`
//!   the anchor the caller expects (`-` fixed by the config, empty = none
//!   yet, else Unix seconds), `[5]` the number of owners, `[6]` the call
//!   id, `[7]` the target id, `[8]`/`[9]` step arguments, then 21 per
//!   owner: 9 limits (empty = none), 3 window ends, 9 imported amounts.

/// Shared by every step: argument access, idempotency, cap checks, writes.
const PRELUDE: &str = r#"
local at = tonumber(ARGV[1])
local ttl = tonumber(ARGV[2])
local lease = tonumber(ARGV[3])
local expect = ARGV[4]
local nown = tonumber(ARGV[5])
local call = ARGV[6]
local KB, AB, KN, AN = 3, 9, 11, 21
local function k(o, i) return KEYS[KB + (o - 1) * KN + i] end
local function a(o, i) return ARGV[AB + (o - 1) * AN + i] end
local function num(v) return tonumber(v) or 0 end
-- expiries are relative to the event's instant, never the server clock:
-- a replay of past instants keeps its keys; an hour's grace covers skew
local GRACE = 3600
local function expire_after(key, instant) redis.call('EXPIRE', key, math.max(instant - at, 0) + GRACE) end
local function finish(reply)
  redis.call('SET', KEYS[2], reply, 'EX', ttl)
  return reply
end
local done = redis.call('GET', KEYS[2])
if done then return done end
local anchor = redis.call('GET', KEYS[1])
if expect ~= '-' and (anchor or '') ~= expect then return 'anchor:' .. (anchor or '') end
local function held_n(o) return redis.call('ZCOUNT', k(o, 10), '(' .. ARGV[1], '+inf') end
local function live_n(o) return redis.call('ZCOUNT', k(o, 9), '(' .. ARGV[1], '+inf') + num(a(o, 21)) end
local function fresh_totals(o) return redis.call('EXISTS', k(o, 11)) == 0 end
local function reached(o, own)
  local held = held_n(o) - own
  local fresh = fresh_totals(o)
  for i = 1, 3 do
    local lim = a(o, i)
    if lim ~= '' and num(redis.call('GET', k(o, i))) + num(a(o, 12 + i)) + held >= tonumber(lim) then return true end
    lim = a(o, 4 + i)
    if lim ~= '' and num(redis.call('GET', k(o, 4 + i))) + num(a(o, 16 + i)) >= tonumber(lim) then return true end
  end
  local lim = a(o, 4)
  if lim ~= '' then
    local t = num(redis.call('GET', k(o, 4))) + held
    if fresh then t = t + num(a(o, 16)) end
    if t >= tonumber(lim) then return true end
  end
  lim = a(o, 8)
  if lim ~= '' then
    local t = num(redis.call('GET', k(o, 8)))
    if fresh then t = t + num(a(o, 20)) end
    if t >= tonumber(lim) then return true end
  end
  lim = a(o, 9)
  if lim ~= '' and live_n(o) + held >= tonumber(lim) then return true end
  return false
end
local function anchor_now()
  if expect == '' then redis.call('SET', KEYS[1], ARGV[1]) end
end
local function prune(o)
  redis.call('ZREMRANGEBYSCORE', k(o, 9), '-inf', ARGV[1])
  redis.call('ZREMRANGEBYSCORE', k(o, 10), '-inf', ARGV[1])
end
local function add(o, count, rev)
  for i = 1, 3 do
    if a(o, 9 + i) == '-' then
      -- a window older than the anchor's: totals only
    elseif count > 0 then
      redis.call('INCRBY', k(o, i), count)
      expire_after(k(o, i), tonumber(a(o, 9 + i)))
    end
    if rev > 0 and a(o, 9 + i) ~= '-' then
      redis.call('INCRBY', k(o, 4 + i), rev)
      expire_after(k(o, 4 + i), tonumber(a(o, 9 + i)))
    end
  end
  if count > 0 then redis.call('INCRBY', k(o, 4), count) end
  if rev > 0 then redis.call('INCRBY', k(o, 8), rev) end
end
"#;

const CONNECT: &str = r#"
local f = redis.call('HMGET', KEYS[3], 'phase', 'target', 'exp')
local own = 0
if f[1] == 'c' then return finish('err:already_connected') end
if f[1] == 'r' and num(f[3]) > at then
  if f[2] ~= ARGV[7] then return finish('err:reserved_other:' .. f[2]) end
  own = 1
end
for o = 1, nown do
  if reached(o, own) then return finish('refused') end
end
anchor_now()
local count = tonumber(ARGV[8])
for o = 1, nown do
  prune(o)
  redis.call('ZREM', k(o, 10), call)
  redis.call('ZADD', k(o, 9), at + lease, call)
  add(o, count, 0)
end
redis.call('DEL', KEYS[3])
redis.call('HSET', KEYS[3], 'phase', 'c', 'target', ARGV[7], 'at', ARGV[1], 'lease', at + lease, 'counted', count)
expire_after(KEYS[3], at + lease + ttl)
return finish('ok')
"#;

const RESERVE: &str = r#"
local f = redis.call('HMGET', KEYS[3], 'phase', 'exp')
if f[1] == 'c' or (f[1] == 'r' and num(f[2]) > at) then return finish('err:already_exists') end
for o = 1, nown do
  if reached(o, 0) then return finish('refused') end
end
anchor_now()
local exp = tonumber(ARGV[8])
for o = 1, nown do
  prune(o)
  redis.call('ZADD', k(o, 10), exp, call)
end
redis.call('DEL', KEYS[3])
redis.call('HSET', KEYS[3], 'phase', 'r', 'target', ARGV[7], 'at', ARGV[1], 'exp', ARGV[8])
expire_after(KEYS[3], exp + ttl)
return finish('ok')
"#;

const CONVERT: &str = r#"
local f = redis.call('HMGET', KEYS[3], 'phase', 'target', 'conv', 'exp')
if f[1] == 'r' and num(f[4]) > at then return finish('err:not_connected') end
if f[1] ~= 'c' then return finish('err:unknown_call') end
if f[2] ~= ARGV[7] then return 'target:' .. f[2] end
if f[3] then return finish('err:already_converted') end
anchor_now()
local count, rev = tonumber(ARGV[8]), tonumber(ARGV[9])
for o = 1, nown do
  prune(o)
  add(o, count, rev)
end
redis.call('HSET', KEYS[3], 'conv', ARGV[1], 'revenue', ARGV[9])
if count > 0 then redis.call('HSET', KEYS[3], 'counted', 1) end
return finish('ok')
"#;

const END: &str = r#"
local f = redis.call('HMGET', KEYS[3], 'phase', 'target', 'ended', 'exp')
if f[1] == 'r' and num(f[4]) > at then return finish('err:not_connected') end
if f[1] ~= 'c' then return finish('err:unknown_call') end
if f[2] ~= ARGV[7] then return 'target:' .. f[2] end
if f[3] then return finish('err:already_ended') end
anchor_now()
for o = 1, nown do
  prune(o)
  redis.call('ZREM', k(o, 9), call)
end
redis.call('HSET', KEYS[3], 'ended', ARGV[1])
expire_after(KEYS[3], at + ttl)
return finish('ok')
"#;

const TOUCH: &str = r#"
local f = redis.call('HMGET', KEYS[3], 'phase', 'target', 'ended', 'exp', 'lease')
if f[1] == 'r' and num(f[4]) > at then return finish('err:not_connected') end
if f[1] ~= 'c' then return finish('err:unknown_call') end
if f[2] ~= ARGV[7] then return 'target:' .. f[2] end
if f[3] then return finish('err:already_ended') end
if num(f[5]) <= at then return finish('err:lease_expired:' .. f[5]) end
anchor_now()
for o = 1, nown do
  redis.call('ZADD', k(o, 9), 'XX', at + lease, call)
end
redis.call('HSET', KEYS[3], 'lease', at + lease)
expire_after(KEYS[3], at + lease + ttl)
return finish('ok')
"#;

const CANCEL: &str = r#"
local f = redis.call('HMGET', KEYS[3], 'phase', 'target', 'exp')
if f[1] == 'c' then return finish('err:not_reserved') end
if f[1] ~= 'r' or num(f[3]) <= at then return finish('err:unknown_call') end
if f[2] ~= ARGV[7] then return 'target:' .. f[2] end
for o = 1, nown do
  redis.call('ZREM', k(o, 10), call)
end
redis.call('DEL', KEYS[3])
return finish('ok')
"#;

const RESET: &str = r#"
for o = 1, nown do
  redis.call('SET', k(o, 4), 0)
  redis.call('SET', k(o, 8), 0)
  redis.call('SET', k(o, 11), 1)
end
return finish('ok')
"#;

/// Read-only: the anchor, then per owner its counters at the read
/// instant, live calls, the reset flag, the earliest lease and its live
/// reservations. `KEYS[1]` the anchor, then 11 keys per owner; `ARGV[1]`
/// the instant, `ARGV[2]` the number of owners.
pub(crate) const READ: &str = r#"#!lua flags=no-writes
local n = tonumber(ARGV[2])
local out = { { redis.call('GET', KEYS[1]) or '' } }
for o = 1, n do
  local b = 1 + (o - 1) * 11
  local row = {}
  for i = 1, 8 do row[i] = redis.call('GET', KEYS[b + i]) or '0' end
  row[9] = tostring(redis.call('ZCOUNT', KEYS[b + 9], '(' .. ARGV[1], '+inf'))
  row[10] = tostring(redis.call('EXISTS', KEYS[b + 11]))
  local first = redis.call('ZRANGEBYSCORE', KEYS[b + 9], '(' .. ARGV[1], '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
  row[11] = first[2] or ''
  local holds = redis.call('ZRANGEBYSCORE', KEYS[b + 10], '(' .. ARGV[1], '+inf', 'WITHSCORES')
  for i = 1, #holds do row[11 + i] = holds[i] end
  out[o + 1] = row
end
return out
"#;

/// The source of each step script.
pub(crate) fn step(body: &str) -> String {
    format!("{PRELUDE}{body}")
}

/// Step bodies by name.
pub(crate) const STEPS: [(&str, &str); 7] = [
    ("connect", CONNECT),
    ("reserve", RESERVE),
    ("convert", CONVERT),
    ("end", END),
    ("touch", TOUCH),
    ("cancel", CANCEL),
    ("reset", RESET),
];
