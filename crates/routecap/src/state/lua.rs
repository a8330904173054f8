//! The server-side scripts: one per lifecycle step (sharing one prelude),
//! plus anchoring, usage imports, config changes and the read.
//!
//! Layout of every step script:
//! - `KEYS[1]` the namespace's config hash (`ver`, `anchor`, `pending`,
//!   `doc`, …), `KEYS[2]` the operation's reply key, `KEYS[3]` the call's
//!   hash, then 9 keys per owner (see `owner_keys`: 6 window counters, the
//!   owner hash, live calls, reservations); end, touch and cancel get only
//!   2 per owner (live calls, reservations) and no per-owner arguments.
//! - `ARGV[1]` the event instant (Unix seconds), `[2]` the retention of
//!   replies and settled calls (seconds), `[3]` the lease (seconds), `[4]`
//!   the `ver:anchor` the caller believes in, `[5]` the number of owners,
//!   `[6]` the call id, `[7]` the target id, `[8]`/`[9]` step arguments,
//!   then 12 per owner: 9 limits (empty = none) and 3 window ends (`-` = a
//!   window older than the anchor's: totals only, as memory keeps the
//!   latest window only).
//! - Caller rules (SPEC §9): `connect` may take one more key after the
//!   owners', the caller's history hash, and 5 more arguments: the caller
//!   (also without the key, kept in the call record), the longest rule
//!   window, the target's duplicate basis (`c`/`v`/empty) and window, and
//!   the `different` window (empty: none); `convert` takes 2: the longest
//!   window (0: record nothing) and the caller key prefix.
//!
//! Replies: `ok`, `refused`, `err:…` (a lifecycle error), `target:ID` (the
//! call is on another target: ask again), `stale:VER:ANCHOR` (the config
//! or the anchor moved: reload and ask again), `anchor` (the step would
//! apply but some owner's imported usage is not anchored yet: anchor at
//! this instant and ask again). An applied step keeps its operation id and
//! `ok` in the call record, so a retry answers `ok` again; anything else
//! changed nothing, so a retry simply asks again.

/// Shared by every step: argument access, idempotency, cap checks, writes.
const PRELUDE: &str = r#"
local at = tonumber(ARGV[1])
local ttl = tonumber(ARGV[2])
local lease = tonumber(ARGV[3])
local nown = tonumber(ARGV[5])
local call = ARGV[6]
local KB, AB, KN, AN = 3, 9, 9, 12
-- end, touch and cancel get only each owner's live and held sets (fewer
-- KEYS and ARGV: building them is a good part of a script's cost)
local LIVE, HELD = 8, 9
if nown > 0 and #KEYS - 3 == 2 * nown then KN, LIVE, HELD = 2, 1, 2 end
local function k(o, i) return KEYS[KB + (o - 1) * KN + i] end
local function a(o, i) return ARGV[AB + (o - 1) * AN + i] end
local function num(v) return tonumber(v) or 0 end
-- window counters outlive their window by an hour: expiries are relative
-- to the event's instant (the server clock never decides), so the grace
-- covers clock skew between the callers and the server
local function expire_window(key, wend) redis.call('EXPIRE', key, math.max(wend - at, 0) + 3600) end
-- the call record: the last applied operation (`op`, its reply `rep`)
-- makes a retry answer the same without applying again; a record past
-- `gone` (event time) reads as absent
local function load(...)
  local r = redis.call('HMGET', KEYS[3], 'op', 'rep', 'gone', ...)
  if r[1] == KEYS[2] then return nil, r[2] end
  local f = {}
  if r[3] == false or num(r[3]) > at then
    for i = 4, #r do f[i - 3] = r[i] end
  end
  return f
end
-- write the record's fields with the operation and its reply, kept
-- until `gone` (the server drops it then too, relative to the event)
local function save(gone, ...)
  redis.call('HSET', KEYS[3], 'op', KEYS[2], 'rep', 'ok', 'gone', gone, ...)
  redis.call('EXPIRE', KEYS[3], math.max(gone - at, 1))
  return 'ok'
end
local g = redis.call('HMGET', KEYS[1], 'ver', 'anchor', 'pending')
local seen = (g[1] or '') .. ':' .. (g[2] or '')
if ARGV[4] ~= seen then return 'stale:' .. seen end
local pending = num(g[3]) > 0
local metas = {}
-- n, r: totals; il, ilu: imported live calls and until when they hold;
-- p: imported usage not anchored yet, ph..prm its periodic amounts
local function meta(o)
  local m = metas[o]
  if not m then
    m = redis.call('HMGET', k(o, 7), 'n', 'r', 'il', 'ilu', 'p', 'ph', 'pd', 'pm', 'prh', 'prd', 'prm')
    metas[o] = m
  end
  return m
end
local function win(o, i)
  -- only owners with pending usage have `p`: none when nothing is pending
  if not pending then return num(redis.call('GET', k(o, i))) end
  local m = meta(o)
  if m[5] then return num(m[5 + i]) end
  return num(redis.call('GET', k(o, i)))
end
local function live_n(o)
  local m = meta(o)
  local n = redis.call('ZCOUNT', k(o, LIVE), '(' .. ARGV[1], '+inf')
  if m[3] and (not m[4] or num(m[4]) > at) then n = n + num(m[3]) end
  return n
end
local function reached(o, own)
  local held = redis.call('ZCOUNT', k(o, HELD), '(' .. ARGV[1], '+inf') - own
  local m = meta(o)
  for i = 1, 3 do
    local lim = a(o, i)
    if lim ~= '' and win(o, i) + held >= tonumber(lim) then return true end
    lim = a(o, 4 + i)
    if lim ~= '' and win(o, 3 + i) >= tonumber(lim) then return true end
  end
  local lim = a(o, 4)
  if lim ~= '' and num(m[1]) + held >= tonumber(lim) then return true end
  lim = a(o, 8)
  if lim ~= '' and num(m[2]) >= tonumber(lim) then return true end
  lim = a(o, 9)
  if lim ~= '' and live_n(o) + held >= tonumber(lim) then return true end
  return false
end
-- the caller history (SPEC §9): `c:<target>`/`v:<target>` hold the
-- caller's last connect/conversion there, `last` the latest of them; the
-- hash lives until `last` + the longest rule window (`keep`) + the hour
-- of grace, relative to the event instant like the window counters
local function within(e, w)
  e = tonumber(e)
  return e ~= nil and w ~= nil and e <= at and at < e + w
end
local function record_caller(key, field, keep)
  local old = tonumber(redis.call('HGET', key, field))
  if not old or at > old then redis.call('HSET', key, field, ARGV[1]) end
  local last = math.max(num(redis.call('HGET', key, 'last')), at)
  redis.call('HSET', key, 'last', last)
  redis.call('EXPIRE', key, last - at + keep + 3600)
end
-- the arguments after the owners' (caller rules)
local CB = AB + nown * AN
local function add(o, count, rev)
  for i = 1, 3 do
    local wend = a(o, 9 + i)
    if wend ~= '-' then
      -- the expiry is set once, when the window's counter is created
      if count > 0 and redis.call('INCRBY', k(o, i), count) == count then
        expire_window(k(o, i), tonumber(wend))
      end
      if rev > 0 and redis.call('INCRBY', k(o, 3 + i), rev) == rev then
        expire_window(k(o, 3 + i), tonumber(wend))
      end
    end
  end
  if count > 0 then redis.call('HINCRBY', k(o, 7), 'n', count) end
  if rev > 0 then redis.call('HINCRBY', k(o, 7), 'r', rev) end
end
"#;

const CONNECT: &str = r#"
local f, done = load('phase', 'target', 'exp')
if done then return done end
local own = 0
if f[1] == 'c' then return 'err:already_connected' end
if f[1] == 'r' and num(f[3]) > at then
  if f[2] ~= ARGV[7] then return 'err:reserved_other:' .. f[2] end
  own = 1
end
for o = 1, nown do
  if reached(o, own) then return 'refused' end
end
-- caller rules: the caller's history key follows the owners' keys
local caller, ckey = ARGV[CB + 1] or '', KEYS[KB + nown * KN + 1]
if ckey then
  local h = redis.call('HMGET', ckey, 'c:' .. ARGV[7], 'v:' .. ARGV[7])
  local basis, dw, rw = ARGV[CB + 3], tonumber(ARGV[CB + 4]), tonumber(ARGV[CB + 5])
  if basis == 'c' and within(h[1], dw) then return 'refused' end
  if basis == 'v' and within(h[2], dw) then return 'refused' end
  if within(h[1], rw) then return 'refused' end
end
if pending then return 'anchor' end
local count = tonumber(ARGV[8])
for o = 1, nown do
  redis.call('ZREMRANGEBYSCORE', k(o, LIVE), '-inf', ARGV[1])
  if own == 1 then redis.call('ZREM', k(o, HELD), call) end
  redis.call('ZADD', k(o, LIVE), at + lease, call)
  add(o, count, 0)
end
if ckey then record_caller(ckey, 'c:' .. ARGV[7], tonumber(ARGV[CB + 2])) end
if f[1] then redis.call('DEL', KEYS[3]) end
if caller ~= '' then
  return save(at + lease + ttl, 'phase', 'c', 'target', ARGV[7], 'lease', at + lease, 'caller', caller)
end
return save(at + lease + ttl, 'phase', 'c', 'target', ARGV[7], 'lease', at + lease)
"#;

const RESERVE: &str = r#"
local f, done = load('phase', 'exp')
if done then return done end
if f[1] == 'c' or (f[1] == 'r' and num(f[2]) > at) then return 'err:already_exists' end
for o = 1, nown do
  if reached(o, 0) then return 'refused' end
end
if pending then return 'anchor' end
local exp = tonumber(ARGV[8])
for o = 1, nown do
  redis.call('ZREMRANGEBYSCORE', k(o, HELD), '-inf', ARGV[1])
  redis.call('ZADD', k(o, HELD), exp, call)
end
if f[1] then redis.call('DEL', KEYS[3]) end
return save(exp, 'phase', 'r', 'target', ARGV[7], 'exp', ARGV[8])
"#;

const CONVERT: &str = r#"
local f, done = load('phase', 'target', 'conv', 'exp', 'gone', 'caller')
if done then return done end
if f[1] == 'r' and num(f[4]) > at then return 'err:not_connected' end
if f[1] ~= 'c' then return 'err:unknown_call' end
if f[2] ~= ARGV[7] then return 'target:' .. f[2] end
if f[3] then return 'err:already_converted' end
if nown == 0 then return 'err:target_removed' end
if pending then return 'anchor' end
local count, rev = tonumber(ARGV[8]), tonumber(ARGV[9])
for o = 1, nown do
  add(o, count, rev)
end
-- a known caller's conversion, when some rule reads it: the key is built
-- here from the record (same hash tag, so the same slot)
local keep = num(ARGV[CB + 1])
if keep > 0 and f[6] then
  record_caller(ARGV[CB + 2] .. string.len(f[6]) .. ':' .. f[6], 'v:' .. ARGV[7], keep)
end
return save(tonumber(f[5]) or at + ttl, 'conv', ARGV[1])
"#;

const END: &str = r#"
local f, done = load('phase', 'target', 'ended', 'exp', 'lease')
if done then return done end
if f[1] == 'r' and num(f[4]) > at then return 'err:not_connected' end
if f[1] ~= 'c' then return 'err:unknown_call' end
if f[2] ~= ARGV[7] then return 'target:' .. f[2] end
if f[3] then return 'err:already_ended' end
if pending and nown > 0 then return 'anchor' end
-- ended calls leave the live set here; lapsed ones are pruned by the
-- next connect (reads count by score, so they never hold)
for o = 1, nown do
  redis.call('ZREM', k(o, LIVE), call)
end
-- settled at the end, or earlier when the lease had run out
return save(math.min(at, num(f[5])) + ttl, 'ended', ARGV[1])
"#;

const TOUCH: &str = r#"
local f, done = load('phase', 'target', 'ended', 'exp', 'lease')
if done then return done end
if f[1] == 'r' and num(f[4]) > at then return 'err:not_connected' end
if f[1] ~= 'c' then return 'err:unknown_call' end
if f[2] ~= ARGV[7] then return 'target:' .. f[2] end
if f[3] then return 'err:already_ended' end
if num(f[5]) <= at then return 'err:lease_expired:' .. f[5] end
if pending and nown > 0 then return 'anchor' end
for o = 1, nown do
  redis.call('ZADD', k(o, LIVE), 'XX', at + lease, call)
end
return save(at + lease + ttl, 'lease', at + lease)
"#;

const CANCEL: &str = r#"
local f, done = load('phase', 'target', 'exp')
if done then return done end
if f[1] == 'c' then return 'err:not_reserved' end
if f[1] ~= 'r' or num(f[3]) <= at then return 'err:unknown_call' end
if f[2] ~= ARGV[7] then return 'target:' .. f[2] end
for o = 1, nown do
  redis.call('ZREM', k(o, HELD), call)
end
-- kept (as cancelled, phase `x`) so that a retry answers the same
return save(at + ttl, 'phase', 'x')
"#;

/// No call record: the reply is stored under the operation's own key.
const RESET: &str = r#"
local done = redis.call('GET', KEYS[2])
if done then return done end
for o = 1, nown do
  redis.call('HSET', k(o, 7), 'n', 0, 'r', 0)
end
redis.call('SET', KEYS[2], 'ok', 'EX', ttl)
return 'ok'
"#;

/// Anchor imported usage not anchored yet to the windows of the instant:
/// `KEYS[1]` the config hash, then 7 per owner (6 window counters of the
/// instant, the owner hash); `ARGV[1]` the instant, `[2]` the lease,
/// `[3]` the `ver` expected, `[4]` the number of owners, then 3 window
/// ends per owner. A no-op when nothing is pending.
pub(crate) const ANCHOR: &str = r#"
local at = tonumber(ARGV[1])
local g = redis.call('HMGET', KEYS[1], 'ver', 'pending', 'anchor')
if (g[1] or '') ~= ARGV[3] then return 'stale:' .. (g[1] or '') .. ':' .. (g[3] or '') end
if not g[3] then redis.call('HSET', KEYS[1], 'anchor', ARGV[1]) end
if (tonumber(g[2]) or 0) == 0 then return 'ok' end
local n = tonumber(ARGV[4])
for o = 1, n do
  local b = 1 + (o - 1) * 7
  local m = redis.call('HMGET', KEYS[b + 7], 'p', 'ph', 'pd', 'pm', 'prh', 'prd', 'prm', 'ilu')
  if m[1] then
    for i = 1, 6 do
      local v = tonumber(m[1 + i]) or 0
      if v ~= 0 then
        local key = KEYS[b + i]
        redis.call('INCRBY', key, v)
        local wend = tonumber(ARGV[4 + (o - 1) * 3 + ((i - 1) % 3) + 1])
        redis.call('EXPIRE', key, math.max(wend - at, 0) + 3600)
      end
    end
    redis.call('HDEL', KEYS[b + 7], 'p', 'ph', 'pd', 'pm', 'prh', 'prd', 'prm')
    if not m[8] then redis.call('HSET', KEYS[b + 7], 'ilu', at + tonumber(ARGV[2])) end
  end
end
redis.call('HSET', KEYS[1], 'pending', 0)
return 'ok'
"#;

/// A usage import at an instant: `KEYS[1]` the config hash, then 7 per
/// owner (6 window counters of the instant, the owner hash); `ARGV[1]` the
/// instant, `[2]` until when imported live calls hold, `[3]` the `ver`
/// expected, `[4]` the number of owners, then 12 per owner: 9 amounts
/// (hourly, daily, monthly counts, the same revenues, total, total
/// revenue, live; empty = not named) and 3 window ends. Each named amount
/// replaces what the state holds for that window.
pub(crate) const IMPORT: &str = r#"
local at = tonumber(ARGV[1])
local g = redis.call('HMGET', KEYS[1], 'ver', 'anchor')
if (g[1] or '') ~= ARGV[3] then return 'stale:' .. (g[1] or '') .. ':' .. (g[2] or '') end
local n = tonumber(ARGV[4])
for o = 1, n do
  local b = 1 + (o - 1) * 7
  local ab = 4 + (o - 1) * 12
  for i = 1, 6 do
    local v = ARGV[ab + i]
    if v ~= '' then
      local key = KEYS[b + i]
      redis.call('SET', key, v)
      local wend = tonumber(ARGV[ab + 9 + ((i - 1) % 3) + 1])
      redis.call('EXPIRE', key, math.max(wend - at, 0) + 3600)
    end
  end
  if ARGV[ab + 7] ~= '' then redis.call('HSET', KEYS[b + 7], 'n', ARGV[ab + 7]) end
  if ARGV[ab + 8] ~= '' then redis.call('HSET', KEYS[b + 7], 'r', ARGV[ab + 8]) end
  if ARGV[ab + 9] ~= '' then redis.call('HSET', KEYS[b + 7], 'il', ARGV[ab + 9], 'ilu', ARGV[2]) end
end
return 'ok'
"#;

/// A config change, atomically: owners the server does not hold yet are
/// born with their imported usage, removed ones die (with their
/// reservations), every group's live calls and reservations become the
/// union of its members', and the new document and version are stored.
///
/// `KEYS[1]` the config hash; then 7 per owner of the new config (6
/// window counters of `as_of`, the owner hash); 3 per removed owner (owner
/// hash, live, held); per group of the new config its live and held sets
/// then each member's live and held sets.
/// `ARGV[1]` the `ver` expected (`*` = any), `[2]` `bump` or `keep` (the
/// version and document), `[3]` document, `[4]` format, `[5]` file, `[6]`
/// owners, `[7]` removed owners, `[8]` groups, `[9]` call key prefix,
/// `[10]` `1` when the config has `as_of` (births are anchored there),
/// `[11]` the as_of instant; then 13 per owner (9 amounts, 3 window ends,
/// imported live until); 1 per removed owner (`t` or `g`); 1 per group
/// (its member count). Replies the dropped reservations' call ids.
pub(crate) const CONFIG: &str = r#"
local g = redis.call('HMGET', KEYS[1], 'ver', 'pending')
if ARGV[1] ~= '*' and (g[1] or '') ~= ARGV[1] then return {'stale', g[1] or ''} end
local pending = tonumber(g[2]) or 0
local nb, nd, ng = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
local anchored = ARGV[10] == '1'
local kb, ab = 1, 11
for o = 1, nb do
  local h = KEYS[kb + 7]
  if redis.call('EXISTS', h) == 0 then
    local v = function(i) return ARGV[ab + i] end
    redis.call('HSET', h, 'n', v(7), 'r', v(8), 'il', v(9))
    if anchored then
      -- no expiry here (no event instant to count from): the next step
      -- counting in the window sets it
      for i = 1, 6 do
        if v(i) ~= '0' then redis.call('INCRBY', KEYS[kb + i], v(i)) end
      end
      redis.call('HSET', h, 'ilu', v(13))
    else
      redis.call('HSET', h, 'p', 1, 'ph', v(1), 'pd', v(2), 'pm', v(3), 'prh', v(4), 'prd', v(5), 'prm', v(6))
      pending = pending + 1
    end
  end
  kb = kb + 7
  ab = ab + 13
end
local dropped = {}
for o = 1, nd do
  local h, live, held = KEYS[kb + 1], KEYS[kb + 2], KEYS[kb + 3]
  if redis.call('HEXISTS', h, 'p') == 1 then pending = pending - 1 end
  if ARGV[ab + 1] == 't' then
    for _, c in ipairs(redis.call('ZRANGE', held, 0, -1)) do
      dropped[#dropped + 1] = c
      redis.call('DEL', ARGV[9] .. string.len(c) .. ':' .. c)
    end
  end
  redis.call('DEL', h, live, held)
  kb = kb + 3
  ab = ab + 1
end
for o = 1, ng do
  local m = tonumber(ARGV[ab + 1])
  local live, held = KEYS[kb + 1], KEYS[kb + 2]
  redis.call('DEL', live, held)
  if m > 0 then
    local lives, helds = {}, {}
    for i = 1, m do
      lives[i] = KEYS[kb + 2 + (i - 1) * 2 + 1]
      helds[i] = KEYS[kb + 2 + (i - 1) * 2 + 2]
    end
    -- a call is in one member's sets only, except a stale entry left by
    -- an earlier life of the call id: the latest expiry wins, never a sum
    lives[#lives + 1] = 'AGGREGATE'; lives[#lives + 1] = 'MAX'
    helds[#helds + 1] = 'AGGREGATE'; helds[#helds + 1] = 'MAX'
    redis.call('ZUNIONSTORE', live, m, unpack(lives))
    redis.call('ZUNIONSTORE', held, m, unpack(helds))
  end
  kb = kb + 2 + 2 * m
  ab = ab + 1
end
redis.call('HSET', KEYS[1], 'pending', math.max(pending, 0))
if ARGV[2] == 'bump' then
  redis.call('HSET', KEYS[1], 'ver', (tonumber(g[1]) or 0) + 1, 'doc', ARGV[3], 'format', ARGV[4], 'file', ARGV[5])
elseif not g[1] then
  redis.call('HSET', KEYS[1], 'ver', 1)
end
return {'ok', redis.call('HGET', KEYS[1], 'ver'), unpack(dropped)}
"#;

/// Read-only: `ver`, `anchor`, then per owner its counters at the read
/// instant. `KEYS[1]` the config hash, then 9 keys per owner; `ARGV[1]`
/// the instant, `ARGV[2]` the number of owners. Each owner row: 6 window
/// amounts (the pending ones when not anchored), total, total revenue,
/// own live calls, imported live calls, until when they hold, `1` when
/// pending, the earliest lease, then the live reservations (call, expiry).
/// An optional last key, a caller's history hash, adds a last row: its
/// fields and values.
pub(crate) const READ: &str = r#"#!lua flags=no-writes
local n = tonumber(ARGV[2])
local g = redis.call('HMGET', KEYS[1], 'ver', 'anchor')
local out = { { g[1] or '', g[2] or '' } }
for o = 1, n do
  local b = 1 + (o - 1) * 9
  local m = redis.call('HMGET', KEYS[b + 7], 'n', 'r', 'il', 'ilu', 'p', 'ph', 'pd', 'pm', 'prh', 'prd', 'prm')
  local row = {}
  for i = 1, 6 do
    if m[5] then row[i] = m[5 + i] or '0' else row[i] = redis.call('GET', KEYS[b + i]) or '0' end
  end
  row[7] = m[1] or '0'
  row[8] = m[2] or '0'
  row[9] = tostring(redis.call('ZCOUNT', KEYS[b + 8], '(' .. ARGV[1], '+inf'))
  row[10] = m[3] or '0'
  row[11] = m[4] or ''
  row[12] = m[5] and '1' or '0'
  local first = redis.call('ZRANGEBYSCORE', KEYS[b + 8], '(' .. ARGV[1], '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
  row[13] = first[2] or ''
  local holds = redis.call('ZRANGEBYSCORE', KEYS[b + 9], '(' .. ARGV[1], '+inf', 'WITHSCORES')
  for i = 1, #holds do row[13 + i] = holds[i] end
  out[o + 1] = row
end
-- the caller's history, when asked: its key follows the owners'
if KEYS[2 + n * 9] then out[n + 2] = redis.call('HGETALL', KEYS[2 + n * 9]) end
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

/// The size in bytes of the connect script (for the benchmark's anchor).
pub(crate) fn connect_script_len() -> usize {
    step(CONNECT).len()
}
