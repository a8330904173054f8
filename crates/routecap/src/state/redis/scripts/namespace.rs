//! The scripts over a whole namespace: anchoring, usage imports, config
//! changes and the read (plain scripts, run by `EVALSHA`).

/// Anchor imported usage not anchored yet to the windows of the instant:
/// `KEYS[1]` the config hash, then 1 per owner (its hash); `ARGV[1]` the
/// instant, `[2]` the lease, `[3]` the `ver` expected, `[4]` the number of
/// owners, then 3 window starts per owner. A no-op when nothing is pending.
pub(crate) const ANCHOR: &str = r#"
local at = tonumber(ARGV[1])
local g = redis.call('HMGET', KEYS[1], 'ver', 'pending', 'anchor')
if (g[1] or '') ~= ARGV[3] then return 'stale:' .. (g[1] or '') .. ':' .. (g[3] or '') end
if not g[3] then redis.call('HSET', KEYS[1], 'anchor', ARGV[1]) end
if (tonumber(g[2]) or 0) == 0 then return 'ok' end
local n = tonumber(ARGV[4])
local SLOT, CNT, REV = {'h', 'd', 'm'}, {'nh', 'nd', 'nm'}, {'rh', 'rd', 'rm'}
for o = 1, n do
  local key = KEYS[1 + o]
  local m = redis.call('HMGET', key, 'p', 'ph', 'pd', 'pm', 'prh', 'prd', 'prm', 'ilu', 'h', 'd', 'm', 'nh', 'nd', 'nm', 'rh', 'rd', 'rm')
  if m[1] then
    -- the pending amounts become the slots of the instant's windows
    -- (added to a slot of the same window, replacing an older one)
    local set = {}
    for p = 1, 3 do
      local s = ARGV[4 + (o - 1) * 3 + p]
      local c, r = tonumber(m[1 + p]) or 0, tonumber(m[4 + p]) or 0
      if m[8 + p] == s then
        c = c + (tonumber(m[11 + p]) or 0)
        r = r + (tonumber(m[14 + p]) or 0)
      end
      if m[8 + p] == s or not m[8 + p] or tonumber(m[8 + p]) < tonumber(s) then
        for _, v in ipairs({SLOT[p], s, CNT[p], string.format('%d', c), REV[p], string.format('%d', r)}) do set[#set + 1] = v end
      end
    end
    if not m[8] then set[#set + 1] = 'ilu'; set[#set + 1] = at + tonumber(ARGV[2]) end
    if #set > 0 then redis.call('HSET', key, unpack(set)) end
    redis.call('HDEL', key, 'p', 'ph', 'pd', 'pm', 'prh', 'prd', 'prm')
  end
end
redis.call('HSET', KEYS[1], 'pending', 0)
return 'ok'
"#;

/// A usage import at an instant: `KEYS[1]` the config hash, then 1 per
/// owner (its hash); `ARGV[1]` the instant, `[2]` until when imported
/// live calls hold, `[3]` the `ver` expected, `[4]` the number of owners,
/// then 12 per owner: 9 amounts (hourly, daily, monthly counts, the same
/// revenues, total, total revenue, live; empty = not named) and 3 window
/// starts. Each named amount replaces what the state holds for the window
/// containing the instant (memory's rule: a slot of an older window moves
/// to this one, emptied first; a slot of a later window stays).
pub(crate) const IMPORT: &str = r#"
local at = tonumber(ARGV[1])
local g = redis.call('HMGET', KEYS[1], 'ver', 'anchor')
if (g[1] or '') ~= ARGV[3] then return 'stale:' .. (g[1] or '') .. ':' .. (g[2] or '') end
local n = tonumber(ARGV[4])
local SLOT, CNT, REV = {'h', 'd', 'm'}, {'nh', 'nd', 'nm'}, {'rh', 'rd', 'rm'}
local PREV = {'h0', 'd0', 'm0', 'nh0', 'nd0', 'nm0', 'rh0', 'rd0', 'rm0'}
for o = 1, n do
  local key = KEYS[1 + o]
  local ab = 4 + (o - 1) * 12
  local m = redis.call('HMGET', key, 'h', 'd', 'm', 'nh', 'nd', 'nm', 'rh', 'rd', 'rm')
  local set = {}
  local function put(f, v) set[#set + 1] = f; set[#set + 1] = v end
  for p = 1, 3 do
    local c, r, s = ARGV[ab + p], ARGV[ab + 3 + p], ARGV[ab + 9 + p]
    if c ~= '' or r ~= '' then
      local cur = m[p]
      if not cur or tonumber(cur) < tonumber(s) then
        -- the former window stays as the previous slot
        if cur then
          put(PREV[p], cur); put(PREV[3 + p], m[3 + p] or '0'); put(PREV[6 + p], m[6 + p] or '0')
        end
        put(SLOT[p], s); put(CNT[p], 0); put(REV[p], 0)
        cur = s
      end
      if cur == s then
        if c ~= '' then put(CNT[p], c) end
        if r ~= '' then put(REV[p], r) end
      end
    end
  end
  if ARGV[ab + 7] ~= '' then put('n', ARGV[ab + 7]) end
  if ARGV[ab + 8] ~= '' then put('r', ARGV[ab + 8]) end
  if ARGV[ab + 9] ~= '' then put('il', ARGV[ab + 9]); put('ilu', ARGV[2]) end
  if #set > 0 then redis.call('HSET', key, unpack(set)) end
end
return 'ok'
"#;

/// A config change, atomically: owners the server does not hold yet are
/// born with their imported usage, removed ones die (with their
/// reservations), every group's live calls and reservations become the
/// union of its members', and the new document and version are stored.
///
/// `KEYS[1]` the config hash; then 1 per owner of the new config (its
/// hash); 3 per removed owner (owner hash, live, held); per group of the
/// new config its hash, live and held sets then each member's live and
/// held sets.
/// `ARGV[1]` the `ver` expected (`*` = any, empty = none: an emptied
/// namespace), `[2]` `bump` or `keep` (the version and document), or
/// `seed:N` (store the document at version N at least), `[3]` document, `[4]` format, `[5]` file, `[6]`
/// owners, `[7]` removed owners, `[8]` groups, `[9]` call key prefix,
/// `[10]` `1` when the config has `as_of` (births are anchored there),
/// `[11]` the as_of instant; then 19 per owner (9 amounts, 3 window
/// starts, imported live until, then the window moves of a zone change:
/// the hour, day and month starts holding the change instant in the old
/// zone and in the new one, empty when none); 1 per removed owner (`t` or
/// `g`); 1 per group (its member count). Replies the dropped reservations'
/// call ids.
///
/// A zone change moves an anchored owner's slots as memory does
/// (`Counters::rezone`): the slot of the old window holding the change
/// instant takes the new window's start and keeps its count; an older slot
/// becomes the new window, empty; a later one stays. The previous-window
/// slots of a moved period are dropped (they belong to the old zone).
pub(crate) const CONFIG: &str = r#"
local g = redis.call('HMGET', KEYS[1], 'ver', 'pending')
if ARGV[1] ~= '*' and (g[1] or '') ~= ARGV[1] then return {'stale', g[1] or ''} end
local pending = tonumber(g[2]) or 0
local nb, nd, ng = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
local anchored = ARGV[10] == '1'
local kb, ab = 1, 11
for o = 1, nb do
  local h = KEYS[kb + 1]
  if redis.call('EXISTS', h) == 0 then
    local v = function(i) return ARGV[ab + i] end
    redis.call('HSET', h, 'n', v(7), 'r', v(8), 'il', v(9))
    if anchored then
      -- the slots of the as_of windows
      redis.call('HSET', h, 'h', v(10), 'd', v(11), 'm', v(12), 'nh', v(1), 'nd', v(2), 'nm', v(3),
        'rh', v(4), 'rd', v(5), 'rm', v(6), 'ilu', v(13))
    else
      redis.call('HSET', h, 'p', 1, 'ph', v(1), 'pd', v(2), 'pm', v(3), 'prh', v(4), 'prd', v(5), 'prm', v(6))
      pending = pending + 1
    end
  elseif ARGV[ab + 14] ~= '' then
    local m = redis.call('HMGET', h, 'h', 'd', 'm', 'p')
    if not m[4] then
      local SLOT, CNT, REV = {'h', 'd', 'm'}, {'nh', 'nd', 'nm'}, {'rh', 'rd', 'rm'}
      local PREV = {'h0', 'd0', 'm0', 'nh0', 'nd0', 'nm0', 'rh0', 'rd0', 'rm0'}
      local set = {}
      for p = 1, 3 do
        local from, to = ARGV[ab + 13 + p], ARGV[ab + 16 + p]
        if m[p] and from ~= to and tonumber(m[p]) <= tonumber(from) then
          set[#set + 1] = SLOT[p]; set[#set + 1] = to
          if tonumber(m[p]) < tonumber(from) then
            set[#set + 1] = CNT[p]; set[#set + 1] = 0
            set[#set + 1] = REV[p]; set[#set + 1] = 0
          end
          redis.call('HDEL', h, PREV[p], PREV[3 + p], PREV[6 + p])
        end
      end
      if #set > 0 then redis.call('HSET', h, unpack(set)) end
    end
  end
  kb = kb + 1
  ab = ab + 19
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
  local h, live, held = KEYS[kb + 1], KEYS[kb + 2], KEYS[kb + 3]
  redis.call('DEL', live, held)
  if m > 0 then
    local lives, helds = {}, {}
    for i = 1, m do
      lives[i] = KEYS[kb + 3 + (i - 1) * 2 + 1]
      helds[i] = KEYS[kb + 3 + (i - 1) * 2 + 2]
    end
    -- a call is in one member's sets only, except a stale entry left by
    -- an earlier life of the call id: the latest expiry wins, never a sum
    lives[#lives + 1] = 'AGGREGATE'; lives[#lives + 1] = 'MAX'
    helds[#helds + 1] = 'AGGREGATE'; helds[#helds + 1] = 'MAX'
    redis.call('ZUNIONSTORE', live, m, unpack(lives))
    redis.call('ZUNIONSTORE', held, m, unpack(helds))
  end
  -- the group's reservations changed: its latest expiry is theirs
  local top = redis.call('ZRANGE', held, -1, -1, 'WITHSCORES')
  if top[2] then redis.call('HSET', h, 'hx', top[2]) else redis.call('HDEL', h, 'hx') end
  kb = kb + 3 + 2 * m
  ab = ab + 1
end
redis.call('HSET', KEYS[1], 'pending', math.max(pending, 0))
if ARGV[2] == 'bump' or string.sub(ARGV[2], 1, 5) == 'seed:' then
  -- a namespace seeded again after it was emptied continues above the
  -- last version its processes saw: a version never names two configs
  local ver = math.max((tonumber(g[1]) or 0) + 1, tonumber(string.sub(ARGV[2], 6)) or 0)
  redis.call('HSET', KEYS[1], 'ver', string.format('%d', ver), 'doc', ARGV[3], 'format', ARGV[4], 'file', ARGV[5])
elseif not g[1] then
  redis.call('HSET', KEYS[1], 'ver', 1)
end
return {'ok', redis.call('HGET', KEYS[1], 'ver'), unpack(dropped)}
"#;

/// Read-only: `ver`, `anchor`, then per owner its counters at the read
/// instant. `KEYS[1]` the config hash, then 3 keys per owner (hash, live,
/// held); `ARGV[1]` the instant, `ARGV[2]` the number of owners, then 3
/// window starts per owner. Each owner row: 6 window amounts (the pending
/// ones when not anchored), total, total revenue, own live calls, imported
/// live calls, until when they hold, `1` when pending, the earliest lease,
/// then the live reservations (call, expiry). An optional last key, a
/// caller's history hash, adds a last row: its fields and values.
pub(crate) const READ: &str = r#"#!lua flags=no-writes
local n = tonumber(ARGV[2])
local g = redis.call('HMGET', KEYS[1], 'ver', 'anchor')
local out = { { g[1] or '', g[2] or '' } }
for o = 1, n do
  local b = 1 + (o - 1) * 3
  local m = redis.call('HMGET', KEYS[b + 1], 'n', 'r', 'il', 'ilu', 'p', 'ph', 'pd', 'pm', 'prh', 'prd', 'prm',
    'h', 'd', 'm', 'nh', 'nd', 'nm', 'rh', 'rd', 'rm', 'h0', 'd0', 'm0', 'nh0', 'nd0', 'nm0', 'rh0', 'rd0', 'rm0')
  local row = {}
  for i = 1, 6 do
    local p = (i - 1) % 3 + 1
    local s = ARGV[2 + (o - 1) * 3 + p]
    if m[5] then
      row[i] = m[5 + i] or '0'
    elseif m[11 + p] == s then
      row[i] = m[14 + i] or '0'
    elseif m[20 + p] == s then
      row[i] = m[23 + i] or '0'
    else
      row[i] = '0'
    end
  end
  row[7] = m[1] or '0'
  row[8] = m[2] or '0'
  row[9] = tostring(redis.call('ZCOUNT', KEYS[b + 2], '(' .. ARGV[1], '+inf'))
  row[10] = m[3] or '0'
  row[11] = m[4] or ''
  row[12] = m[5] and '1' or '0'
  local first = redis.call('ZRANGEBYSCORE', KEYS[b + 2], '(' .. ARGV[1], '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
  row[13] = first[2] or ''
  local holds = redis.call('ZRANGEBYSCORE', KEYS[b + 3], '(' .. ARGV[1], '+inf', 'WITHSCORES')
  for i = 1, #holds do row[13 + i] = holds[i] end
  out[o + 1] = row
end
-- the caller's history, when asked: its key follows the owners'
if KEYS[2 + n * 3] then out[n + 2] = redis.call('HGETALL', KEYS[2 + n * 3]) end
return out
"#;
