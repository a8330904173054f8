//! The lifecycle steps' Lua source: one step per function (sharing one
//! prelude), loaded as one Functions library.
//!
//! Layout of every step script:
//! - `KEYS[1]` the namespace's config hash (`ver`, `anchor`, `pending`,
//!   `doc`, …), `KEYS[2]` the operation's reply key, `KEYS[3]` the call's
//!   hash, then 3 keys per owner: the owner hash (totals and the latest
//!   hour, day and month window as slots, as memory keeps them), live
//!   calls, reservations; end, touch and cancel get only 2 per owner (live
//!   calls, reservations) and no per-owner arguments.
//! - `ARGV[1]` the event instant (Unix seconds), `[2]` the retention of
//!   replies and settled calls (seconds), `[3]` the lease (seconds), `[4]`
//!   the `ver:anchor` the caller believes in, `[5]` the number of owners,
//!   `[6]` the call id, `[7]` the target id, `[8]`/`[9]` step arguments,
//!   then 12 per owner: the starts of the hour, day and month windows
//!   containing the instant (Unix s, computed in the owner's zone by the
//!   caller; `-` = a window older than the anchor's: totals only, as
//!   memory keeps no window before the one imported usage anchors to) and
//!   9 limits (empty = none).
//! - Caller rules (`duplicates`, `repeat_callers`): `connect` may take one more key after the
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
//!
//! The steps are one Functions library ([`library`]): `FCALL` runs a step
//! without building the prelude's helpers again (they are built at
//! `FUNCTION LOAD`), which cut a step's server time by 15–25% here. Each
//! owner is one hash read (`HMGET`) and one hash write (`HSET`) plus its
//! sorted sets, instead of a key per window (a third fewer commands).
//!
//! Where a connect's server time goes (a target and one group, measured
//! with `redis-benchmark` on stripped variants, see the README): ~3 us the
//! call with its 9 keys and 33 arguments (0.03–0.1 us per argument),
//! ~0.6 us per `redis.call` beyond the command itself, ~4 us creating the
//! call record, the rest Lua work (number parsing and formatting, tables).
//! So the hot path counts without building tables, formats numbers
//! itself (`%d`; Redis formats Lua numbers with `%.17g`, slower), and
//! prunes an uncapped owner's live set once a lease instead of every
//! connect; the limits stay arguments (moving them into the server would
//! spare ~1–2 us of ~33).

/// Shared by every step: argument access, idempotency, cap checks, writes.
const PRELUDE: &str = r#"
-- per call, set by `setup` (Redis runs one function at a time)
local KEYS, ARGV, at, ttl, lease, nown, call, KB, AB, KN, AN, O, LIVE, HELD, pending, FIELDS, metas, prevs, CB
local function k(o, i) return KEYS[KB + (o - 1) * KN + i] end
local function a(o, i) return ARGV[AB + (o - 1) * AN + i] end
local function num(v) return tonumber(v) or 0 end
-- integers as Redis stores them (a Lua number would print as %.14g)
local function int(v) return string.format('%d', v) end
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
-- (numbers go as `int` strings: Redis would format them with %.17g,
-- several times slower)
local function save(gone, ...)
  redis.call('HSET', KEYS[3], 'op', KEYS[2], 'rep', 'ok', 'gone', int(gone), ...)
  redis.call('EXPIRE', KEYS[3], int(math.max(gone - at, 1)))
  return 'ok'
end
-- the held sets a reservation was put in, as the call record keeps them
-- (`hk`: each key as `<length>:<key>`), and taking the call out of them:
-- a call id reserved again after its reservation lapsed (or confirmed by
-- a connect) is listed once, whatever owners the earlier one was on
local function held_keys()
  local parts = {}
  for o = 1, nown do
    local key = k(o, HELD)
    parts[o] = string.len(key) .. ':' .. key
  end
  return table.concat(parts)
end
-- (answers whether the call has a record at all, even one past `gone`)
local function leave_held()
  local r = redis.call('HMGET', KEYS[3], 'hk', 'phase')
  local list = r[1]
  if not list then return r[2] ~= false end
  local i = 1
  while i <= #list do
    local colon = string.find(list, ':', i, true)
    local n = colon and tonumber(string.sub(list, i, colon - 1))
    if not n then return true end
    redis.call('ZREM', string.sub(list, colon + 1, colon + n), call)
    i = colon + n + 1
  end
  return true
end
-- the owner hash, one read: [1..3] the hour/day/month slot starts, [4..6]
-- their counts, [7..9] their revenues, [10] n, [11] r totals, [12] il,
-- [13] ilu imported live calls and until when they hold, [14] hx the
-- latest reservation expiry (absent: none), [15] lp when the live set is
-- next pruned, [16] p: imported usage not anchored yet, [17..22] its
-- periodic amounts (read only when pending)
local BASE = {'h', 'd', 'm', 'nh', 'nd', 'nm', 'rh', 'rd', 'rm', 'n', 'r', 'il', 'ilu', 'hx', 'lp'}
local WITHP = {'h', 'd', 'm', 'nh', 'nd', 'nm', 'rh', 'rd', 'rm', 'n', 'r', 'il', 'ilu', 'hx', 'lp',
  'p', 'ph', 'pd', 'pm', 'prh', 'prd', 'prm'}
local SLOT, CNT, REV = {'h', 'd', 'm'}, {'nh', 'nd', 'nm'}, {'rh', 'rd', 'rm'}
-- the previous window of each period, where an event of a node running
-- a little behind still counts against its window's caps
local PREV = {'h0', 'd0', 'm0', 'nh0', 'nd0', 'nm0', 'rh0', 'rd0', 'rm0'}
local function meta(o)
  local m = metas[o]
  if not m then
    m = redis.call('HMGET', k(o, O), unpack(FIELDS))
    metas[o] = m
  end
  return m
end
-- the previous slots, read only for an event older than the latest slot
local function prev(o)
  local m = prevs[o]
  if not m then
    m = redis.call('HMGET', k(o, O), unpack(PREV))
    prevs[o] = m
  end
  return m
end
-- count (i = 1..3) or revenue (4..6) in the window of the instant: a slot
-- counts for its own window only
local function win(o, i)
  local m = meta(o)
  if m[16] then return num(m[16 + i]) end
  local p = (i - 1) % 3 + 1
  local s = a(o, p)
  if m[p] == s then return num(m[3 + i]) end
  if m[p] and s ~= '-' and tonumber(s) < tonumber(m[p]) then
    local q = prev(o)
    if q[p] == s then return num(q[3 + i]) end
  end
  return 0
end
local function live_n(o)
  local m = meta(o)
  local n = redis.call('ZCOUNT', k(o, LIVE), '(' .. ARGV[1], '+inf')
  if m[12] and (not m[13] or num(m[13]) > at) then n = n + num(m[12]) end
  return n
end
-- live reservations, less the call's own; none when the latest expiry
-- the owner hash knows has passed or it knows none (spares the set)
local function held_n(o, own)
  if num(meta(o)[14]) <= at then return 0 end
  return redis.call('ZCOUNT', k(o, HELD), '(' .. ARGV[1], '+inf') - own
end
local function reached(o, own)
  local m = meta(o)
  local b = AB + (o - 1) * AN
  -- live reservations count against count caps: read once, when needed
  local held
  for i = 1, 3 do
    local lim = ARGV[b + 3 + i]
    if lim ~= '' then
      held = held or held_n(o, own)
      if win(o, i) + held >= tonumber(lim) then return true end
    end
    lim = ARGV[b + 7 + i]
    if lim ~= '' and win(o, 3 + i) >= tonumber(lim) then return true end
  end
  local lim = ARGV[b + 7]
  if lim ~= '' then
    held = held or held_n(o, own)
    if num(m[10]) + held >= tonumber(lim) then return true end
  end
  lim = ARGV[b + 11]
  if lim ~= '' and num(m[11]) >= tonumber(lim) then return true end
  lim = ARGV[b + 12]
  if lim ~= '' and live_n(o) + (held or held_n(o, own)) >= tonumber(lim) then return true end
  return false
end
-- the caller history (duplicate and repeat callers): `c:<target>`/`v:<target>` hold the
-- caller's last connect/conversion there, `last` the latest of them; the
-- hash lives until `last` + the longest rule window (`keep`) + the hour
-- of grace, relative to the event instant
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
-- count in the windows of the instant and the totals, one write per
-- owner: a later window takes the latest slot (the former one becomes the
-- previous slot); an event of the previous window counts there; one of
-- an older window counts in the totals only (memory's rule); `lp`, when
-- given, is written in the same command (the live set's next pruning)
local function add_any(o, count, rev, lp)
  local set, n = {}, 0
  local function put(f, v) set[n + 1] = f; set[n + 2] = v; n = n + 2 end
  if lp then put('lp', lp) end
  if count == 0 and rev == 0 then
    if n > 0 then redis.call('HSET', k(o, O), unpack(set)) end
    return
  end
  local m = meta(o)
  for p = 1, 3 do
    local s = a(o, p)
    if s == '-' then
      -- a window older than the anchor's: totals only
    elseif m[p] == s then
      if count > 0 then put(CNT[p], int(num(m[3 + p]) + count)) end
      if rev > 0 then put(REV[p], int(num(m[6 + p]) + rev)) end
    elseif not m[p] or tonumber(m[p]) < tonumber(s) then
      if m[p] then
        put(PREV[p], m[p]); put(PREV[3 + p], m[3 + p] or '0'); put(PREV[6 + p], m[6 + p] or '0')
      end
      put(SLOT[p], s); put(CNT[p], int(count)); put(REV[p], int(rev))
    else
      local q = prev(o)
      if q[p] == s then
        if count > 0 then put(PREV[3 + p], int(num(q[3 + p]) + count)) end
        if rev > 0 then put(PREV[6 + p], int(num(q[6 + p]) + rev)) end
      elseif not q[p] or tonumber(q[p]) < tonumber(s) then
        put(PREV[p], s); put(PREV[3 + p], int(count)); put(PREV[6 + p], int(rev))
      end
    end
  end
  if count > 0 then put('n', int(num(m[10]) + count)) end
  if rev > 0 then put('r', int(num(m[11]) + rev)) end
  redis.call('HSET', k(o, O), unpack(set))
end
-- the common case of a connect: every window of the instant is its
-- period's latest slot, a count and no revenue (no tables, one command)
local function add(o, count, rev, lp)
  local m = meta(o)
  local b = AB + (o - 1) * AN
  if rev ~= 0 or count <= 0 or m[1] ~= ARGV[b + 1] or m[2] ~= ARGV[b + 2] or m[3] ~= ARGV[b + 3] then
    return add_any(o, count, rev, lp)
  end
  local nh, nd, nm, n = int(num(m[4]) + count), int(num(m[5]) + count), int(num(m[6]) + count), int(num(m[10]) + count)
  if lp then
    redis.call('HSET', k(o, O), 'nh', nh, 'nd', nd, 'nm', nm, 'n', n, 'lp', lp)
  else
    redis.call('HSET', k(o, O), 'nh', nh, 'nd', nd, 'nm', nm, 'n', n)
  end
end
-- one step's call: its keys and arguments, checked against the config
-- version; answers `stale:…` when the caller runs another config
local function setup(keys, args)
  KEYS, ARGV = keys, args
  at = tonumber(ARGV[1])
  ttl = tonumber(ARGV[2])
  lease = tonumber(ARGV[3])
  nown = tonumber(ARGV[5])
  call = ARGV[6]
  KB, AB, KN, AN = 3, 9, 3, 12
  -- end, touch and cancel get only each owner's live and held sets
  O, LIVE, HELD = 1, 2, 3
  if nown > 0 and #KEYS - 3 == 2 * nown then KN, O, LIVE, HELD = 2, 0, 1, 2 end
  local g = redis.call('HMGET', KEYS[1], 'ver', 'anchor', 'pending')
  local seen = (g[1] or '') .. ':' .. (g[2] or '')
  if ARGV[4] ~= seen then return 'stale:' .. seen end
  pending = num(g[3]) > 0
  FIELDS = pending and WITHP or BASE
  metas, prevs = {}, {}
  -- the arguments after the owners' (caller rules)
  CB = AB + nown * AN
  return nil
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
local untl = int(at + lease)
-- a reservation of this call (confirmed, or lapsed and read as absent)
-- leaves every held set it was put in; a record past `gone` is replaced
-- whole (none of its fields may outlive it)
local recorded = leave_held()
for o = 1, nown do
  -- lapsed calls leave the live set of an owner with a concurrency cap
  -- at once (its size never passes the cap), of another at most once a
  -- lease (reads count by score: pruning only bounds the set's size)
  local lp
  local capped = a(o, 12) ~= ''
  if capped or num(meta(o)[15]) <= at then
    redis.call('ZREMRANGEBYSCORE', k(o, LIVE), '-inf', ARGV[1])
    if not capped then lp = int(at + math.max(lease, 1)) end
  end
  if own == 1 then redis.call('ZREM', k(o, HELD), call) end
  redis.call('ZADD', k(o, LIVE), untl, call)
  add(o, count, 0, lp)
end
if ckey then record_caller(ckey, 'c:' .. ARGV[7], tonumber(ARGV[CB + 2])) end
if f[1] or recorded then redis.call('DEL', KEYS[3]) end
if caller ~= '' then
  return save(at + lease + ttl, 'phase', 'c', 'target', ARGV[7], 'lease', untl, 'caller', caller)
end
return save(at + lease + ttl, 'phase', 'c', 'target', ARGV[7], 'lease', untl)
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
-- an earlier life of the call id (a lapsed reservation, read past its
-- `gone`) leaves the held sets it was in
leave_held()
for o = 1, nown do
  redis.call('ZREMRANGEBYSCORE', k(o, HELD), '-inf', ARGV[1])
  redis.call('ZADD', k(o, HELD), exp, call)
  -- the latest expiry, so that connects skip the set once it passed
  redis.call('HSET', k(o, O), 'hx', int(math.max(num(meta(o)[14]), exp)))
end
redis.call('DEL', KEYS[3])
save(exp, 'phase', 'r', 'target', ARGV[7], 'exp', ARGV[8], 'hk', held_keys())
-- forgotten at its expiry, but the record stays a retention longer so
-- that the call id reserved again finds the held sets to leave
redis.call('EXPIRE', KEYS[3], int(math.max(exp - at, 1) + ttl))
return 'ok'
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
  redis.call('HSET', k(o, O), 'n', 0, 'r', 0)
end
redis.call('SET', KEYS[2], 'ok', 'EX', ttl)
return 'ok'
"#;

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

/// The step scripts as one Redis Functions library: the prelude's helpers
/// and constant tables are built once, at `FUNCTION LOAD`, instead of by
/// every `EVALSHA` (a good part of a step's server time). Library and
/// function names carry a hash of the source, so processes of two
/// routecap versions sharing a server never call each other's steps.
/// Returns the library source and the prefix of its function names
/// (`<prefix><step>`).
pub(crate) fn library() -> (String, String) {
    let mut body = String::from(PRELUDE);
    for (name, step) in STEPS {
        body.push_str(&format!(
            "redis.register_function('@@{name}', function(keys, args)\n\
             local stale = setup(keys, args)\n\
             if stale then return stale end\n{step}\nend)\n"
        ));
    }
    // FNV-1a: stable across builds and platforms
    let hash = body.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    let prefix = format!("routecap_{hash:016x}_");
    let source = format!(
        "#!lua name=routecap_{hash:016x}\n{}",
        body.replace("'@@", &format!("'{prefix}"))
    );
    (source, prefix)
}

/// The size in bytes of the connect step (prelude and body; for the
/// benchmark's anchor, a raw `EVALSHA` of a script this large).
pub(crate) fn connect_script_len() -> usize {
    PRELUDE.len() + CONNECT.len()
}
