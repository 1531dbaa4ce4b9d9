-- qless.lua: the unified qless core (generation 2 wire protocol) for Redis 7.0+.
--
-- Called as `EVALSHA <sha> 0 <command> <now> [args...]`; the same source, with its last line
-- swapped for redis.register_function (src/client/script.ts), is the function library `qless`:
-- `FCALL qless 0 <command> <now> [args...]`.
--
-- Commands: qless-core's whole set, plus one extension other qless clients never send (section
-- "Extensions"): `complete.pop <now> <pop-queue> <count> <complete's arguments...>`, a complete
-- and the next pop for the same worker in one call, leaving what the two commands leave.
--
-- Rules this file keeps:
--  * no Lua global is ever written (Redis 7 globals are read-only);
--  * the top level only defines local functions and literal tables: a function library sees no
--    globals (not even `math` or `cjson`) while it loads;
--  * EVALSHA re-runs the top level on every call and each closure created costs ~0.1 us, so
--    only helpers shared by several commands live at the top level; each section's commands
--    are created on demand by that section's `<section>_command(name)` (one closure per call),
--    and helpers private to one command are nested inside it;
--  * JSON objects are built with table constructors in a fixed key order, because cjson emits
--    keys in Lua's hash order and other qless clients compare the strings;
--  * values stored as text (hash fields) stay Lua numbers where qless-core passes numbers
--    (Redis formats them: %.17g on 7.0), unless their text is a plain integer that every Redis
--    writes back the same, and strings where it passes strings; arguments Redis only parses
--    (scores, ranges, counts) may go as any text of the same value;
--  * cost (Redis 7.0, callgrind): a redis.call ~3k instructions, each further argument or reply
--    element ~2k, a Lua number argument ~2.5k more (Redis prints it with %.17g), a cjson number
--    ~2.7k, a number formatted or parsed in Lua 1.5-6k, a short text decoded ~1.6k (a history
--    entry ~7.5k), a string.match with captures 2-4k, a select() over varargs ~1k, a table,
--    string or closure ~1k with its GC share. So a command reads each config option, each
--    tracked flag and each job field once, several reads of one hash share an HMGET (the legacy
--    `history` field comes with the job's other fields), the jobs of one pop share their stats,
--    lock and worker-set writes, scores and counts go over as text (see now_score), known JSON
--    texts are not decoded, and hot paths avoid temporary tables. Every shortcut leaves the same
--    keys, values, replies and events, in the same order, as the plain per-job sequence.

----------------------------------------------------------------------------------------------
-- Helpers
----------------------------------------------------------------------------------------------

local function publish(channel, message)
  redis.call('publish', 'ql:' .. channel, message)
end

-- Turning a Lua number into an argument costs Redis a %.17g snprintf (as much as a short
-- command), so numbers that are only scores, ranges or counts are handed over as text that
-- parses to the very same value; hash values stay Lua numbers (their text is Redis's choice).
-- Per call (reset by `dispatch`: the function library keeps top-level locals between calls):
-- `now_text`, now as the job `time` field holds it (%.20f), and `now_score`, now as a score:
-- the caller's own text when it is plain decimal (Lua and Redis parse it with the same
-- strtod), else %.17g.
local now_arg, now_text, now_score

local function time_text(now)
  if not now_text then now_text = string.format('%.20f', now) end
  return now_text
end

local function score_of_now(now)
  if not now_score then
    now_score = string.match(now_arg, '^%d+%.?%d*$') and now_arg or string.format('%.17g', now)
  end
  return now_score
end

local function is_tracked(jid)
  return redis.call('zscore', 'ql:tracked', jid) ~= false
end

-- Whether each of `jids` (at least one) is tracked, as a list in the same order: one ZMSCORE
-- per 100 of them.
local function tracked_flags(jids)
  if #jids == 1 then return { redis.call('zscore', 'ql:tracked', jids[1]) ~= false } end
  local flags
  for first = 1, #jids, 100 do
    local last = math.min(first + 99, #jids)
    local scores = redis.call('zmscore', 'ql:tracked', unpack(jids, first, last))
    if first == 1 then flags = scores end
    for i = first, last do
      flags[i] = scores[i - first + 1] ~= false
    end
  end
  return flags
end

-- Midnight (UTC) of the day holding `t`: the bin of every per-day statistic.
local function day_of(t)
  return t - (t % 86400)
end

-- Per call (reset by `dispatch`): the day of now as stats keys name it (%.14g), formatted once
-- for the complete and the pop of one call; `now_floor`, floor(now) as history entries hold it.
local now_day, now_floor

-- `name value` pairs from list[first] on; a later duplicate wins.
local function options_from(list, first)
  local options = {}
  for i = first, #list, 2 do
    options[list[i]] = list[i + 1]
  end
  return options
end

----------------------------------------------------------------------------------------------
-- Config
----------------------------------------------------------------------------------------------

-- A fresh table per call: `config.get` without a key assigns the stored options into it, and
-- this constructor's order is what fixes the emitted key order.
local function config_defaults()
  return {
    ['application'] = 'qless',
    ['heartbeat'] = 60,
    ['grace-period'] = 10,
    ['stats-history'] = 30,
    ['histogram-history'] = 7,
    ['jobs-history-count'] = 50000,
    ['jobs-history'] = 604800,
  }
end

-- config_defaults()'s value of one option, without building that table (EVALSHA runs this
-- file's top level on every call); nil for an option without default.
local function config_default(key)
  if key == 'heartbeat' then return 60
  elseif key == 'grace-period' then return 10
  elseif key == 'jobs-history-count' then return 50000
  elseif key == 'jobs-history' then return 604800
  elseif key == 'application' then return 'qless'
  elseif key == 'stats-history' then return 30
  elseif key == 'histogram-history' then return 7
  end
end

-- The stored string, else the option's default, else `fallback`.
local function config_get(key, fallback)
  return redis.call('hget', 'ql:config', key) or config_default(key) or fallback
end

-- Per call (reset by `dispatch`): complete.pop reads the options of its pop and of its complete
-- in one HMGET (the complete writes none), this reply: [1] <pop queue>-heartbeat, [2] heartbeat,
-- [3] <pop queue>-max-concurrency, [4] max-job-history, [5] jobs-history-count, [6] jobs-history.
-- Commands that read several options name them in one HMGET and apply the defaults themselves
-- (a helper taking the names as varargs cost more than the read).
local options_ahead

local function config_command(name)
  if name == 'config.get' then
    return function(now, key)
      if key ~= nil then return config_get(key) end
      local all = config_defaults()
      local stored = redis.call('hgetall', 'ql:config')
      for i = 1, #stored, 2 do
        all[stored[i]] = stored[i + 1]
      end
      return cjson.encode(all)
    end
  elseif name == 'config.set' then
    return function(now, option, value)
      if not option then error('config.set(): Arg "option" missing') end
      if not value then error('config.set(): Arg "value" missing') end
      publish('log', cjson.encode({ event = 'config_set', option = option, value = value }))
      redis.call('hset', 'ql:config', option, value)
    end
  elseif name == 'config.unset' then
    return function(now, option)
      if not option then error('config.unset(): Arg "option" missing') end
      publish('log', cjson.encode({ event = 'config_unset', option = option }))
      redis.call('hdel', 'ql:config', option)
    end
  end
end

----------------------------------------------------------------------------------------------
-- Job: helpers shared with other sections
----------------------------------------------------------------------------------------------

-- Jobs written by old clients keep their history as a JSON array in the `history` field; it
-- moves into the `-history` list the first time the history is read or appended to. `legacy` is
-- the field as the caller read it (false: absent) after any earlier migration of this job (a
-- caller that migrates through it clears its copy), or nil to read it here.
local function migrate_history(jid, legacy)
  local key = 'ql:j:' .. jid
  if legacy == nil then legacy = redis.call('hget', key, 'history') end
  if not legacy then return end
  local list = key .. '-history'
  for _, old in ipairs(cjson.decode(legacy)) do
    redis.call('rpush', list, cjson.encode({ math.floor(old.put), 'put', { q = old.q } }))
    if old.popped then
      redis.call('rpush', list, cjson.encode({ math.floor(old.popped), 'popped', { worker = old.worker } }))
    end
    if old.failed then
      redis.call('rpush', list, cjson.encode({ math.floor(old.failed), 'failed' }))
    end
    if old.done then
      redis.call('rpush', list, cjson.encode({ math.floor(old.done), 'done' }))
    end
  end
  redis.call('hdel', key, 'history')
end

-- Appends `[floor(when), what, extra]`, keeping the first entry and the newest ones within
-- `max-job-history` (so n = 2 and n <= 0 never trim, n = 1 keeps two). `legacy` as for
-- migrate_history; `cap`, if given, is max-job-history as a number (nil: read here); `entry`, if
-- given, is the entry already encoded (only for a finite `when`: cjson refuses the others).
local function history_add(when, jid, what, extra, legacy, cap, entry)
  if legacy ~= false then migrate_history(jid, legacy) end
  local list = 'ql:j:' .. jid .. '-history'
  if cap == nil then cap = tonumber(config_get('max-job-history', 100)) end
  -- (when - when is 0 for finite numbers, NaN for infinities and NaN.)
  if cap > 0 and (cap < 3 or cap % 1 ~= 0 or when - when ~= 0) then
    -- Caps below 3 (and fractional ones), or a time cjson refuses: qless-core's trim as it is,
    -- before the push.
    if redis.call('llen', list) >= cap then
      local first = redis.call('lpop', list)
      redis.call('ltrim', list, 2 - cap, -1)
      redis.call('lpush', list, first)
    end
    redis.call('rpush', list, entry or cjson.encode({ math.floor(when), what, extra }))
    return
  end
  if not entry then entry = cjson.encode({ math.floor(when), what, extra }) end
  -- Push, then trim only if the push went past the cap (RPUSH returns the length, so no LLEN):
  -- first entry + newest cap - 1 is the list that trimming to first + newest cap - 2 before the
  -- push leaves.
  local length = redis.call('rpush', list, entry)
  if cap > 0 and length > cap then
    local first = redis.call('lpop', list)
    redis.call('ltrim', list, 1 - cap, -1)
    redis.call('lpush', list, first)
  end
end

-- The text cjson makes of `{ floor(now), what }` or, given `name`, of
-- `{ floor(now), what, { [name] = value } }` (`done`, `popped` by a worker, `put` into a queue),
-- built without tables: cjson writes numbers with %.14g like tostring. Nil for a now that is not
-- finite (cjson refuses it: the caller encodes and fails as before).
local function now_entry(now, what, name, value)
  if now - now ~= 0 then return nil end
  if not now_floor then now_floor = tostring(math.floor(now)) end
  if not name then return '[' .. now_floor .. ',"' .. what .. '"]' end
  return '[' .. now_floor .. ',"' .. what .. '",{"' .. name .. '":' .. cjson.encode(value) .. '}]'
end

-- history_add at `now` of an entry whose extra is nothing or the one field `name` = `value`.
local function history_add_now(now, jid, what, name, value, legacy, cap)
  local entry = now_entry(now, what, name, value)
  local extra = nil
  if name and not entry then extra = { [name] = value } end
  history_add(now, jid, what, extra, legacy, cap, entry)
end

-- The job objects of get/multiget/peek/pop/track for `jids`, in order; returns them and the jids
-- that have no job (nil if none). Each job's fields are read in this order: [1] jid, [2] klass,
-- [3] queue, [4] priority, [5] retries, [6] remaining, [7] data, [8] tags, [9] failure,
-- [10] spawned_from_jid, [11] the legacy `history` field, [12] state, [13] worker, [14] expires.
-- `known`, if given, holds them as they are now for each position of `jids` (pop has them),
-- `tracked` the jobs' tracked flags, and `item_text`, `item` a history entry and the object
-- decoding it would give (pop's `popped` entry, which it built).
local function job_objects(jids, known, tracked, item_text, item)
  local objects, missing = {}, nil
  if #jids == 0 then return objects, missing end
  tracked = tracked or tracked_flags(jids)
  -- With several jobs, equal stored texts (`{}` failures, the `popped` entry of one pop...) are
  -- decoded once; the objects share the result, which nothing writes to.
  local values, items
  if #jids > 1 then values, items = {}, {} end
  local linked
  for i, jid in ipairs(jids) do
    local key = 'ql:j:' .. jid
    -- One EXISTS per 50 jobs tells that (as usual) none has dependents or dependencies.
    if #jids == 1 then
      linked = redis.call('exists', key .. '-dependents', key .. '-dependencies') > 0
    elseif i % 50 == 1 then
      local keys = {}
      for n = i, math.min(i + 49, #jids) do
        keys[#keys + 1] = 'ql:j:' .. jids[n] .. '-dependents'
        keys[#keys + 1] = 'ql:j:' .. jids[n] .. '-dependencies'
      end
      linked = redis.call('exists', unpack(keys)) > 0
    end
    local f = known and known[i] or redis.call('hmget', key, 'jid', 'klass', 'queue', 'priority',
      'retries', 'remaining', 'data', 'tags', 'failure', 'spawned_from_jid', 'history', 'state', 'worker', 'expires')
    if not f[1] then
      missing = missing or {}
      missing[#missing + 1] = jid
    else
      migrate_history(jid, f[11])
      -- History entries become objects: the extra object with `when` and `what` set on it.
      local history = {}
      for n, raw in ipairs(redis.call('lrange', key .. '-history', '0', '-1')) do
        local dict = raw == item_text and item or items and items[raw]
        if not dict then
          local entry = cjson.decode(raw)
          dict = entry[3] or {}
          dict.when = entry[1]
          dict.what = entry[2]
          if items then items[raw] = dict end
        end
        history[n] = dict
      end
      -- `{}` (no tags, no failure) is by far the most common text: no decoding needed.
      local tags = f[8] == '{}' and {} or values and values[f[8]]
      if tags == nil then
        tags = cjson.decode(f[8])
        if values then values[f[8]] = tags end
      end
      local failure_text = f[9] or '{}'
      local failure = failure_text == '{}' and {} or values and values[failure_text]
      if failure == nil then
        failure = cjson.decode(failure_text)
        if values then values[failure_text] = failure end
      end
      objects[#objects + 1] = {
        jid = f[1],
        klass = f[2],
        state = f[12],
        queue = f[3],
        worker = f[13] or '',
        tracked = tracked[i],
        priority = tonumber(f[4]),
        expires = tonumber(f[14]) or 0,
        retries = tonumber(f[5]),
        remaining = math.floor(tonumber(f[6])),
        data = f[7],
        tags = tags,
        history = history,
        failure = failure,
        spawned_from_jid = f[10],
        dependents = linked and redis.call('smembers', key .. '-dependents') or {},
        dependencies = linked and redis.call('smembers', key .. '-dependencies') or {},
      }
    end
  end
  return objects, missing
end

-- Work score: priority first, then earlier arrival (a smaller now/1e10 sorts higher).
local function work_add(queue, now, priority, jid)
  redis.call('zadd', 'ql:q:' .. queue .. '-work', priority - (now / 10000000000), jid)
end

local function forget_in_queue(queue, jid)
  local prefix = 'ql:q:' .. queue
  redis.call('zrem', prefix .. '-work', jid)
  redis.call('zrem', prefix .. '-locks', jid)
  redis.call('zrem', prefix .. '-scheduled', jid)
end

-- Marks a job failed: its failure record, its failure group, and the failure counts of the
-- day under `queue` (fail, and retries exhausted by retry or by pop).
local function fail_job(now, jid, queue, group, message, when, worker)
  redis.call('hmset', 'ql:j:' .. jid, 'state', 'failed', 'worker', '', 'expires', '',
    'failure', cjson.encode({ group = group, message = message, when = when, worker = worker }))
  redis.call('sadd', 'ql:failures', group)
  redis.call('lpush', 'ql:f:' .. group, jid)
  local stats = 'ql:s:stats:' .. day_of(now) .. ':' .. queue
  redis.call('hincrby', stats, 'failures', 1)
  redis.call('hincrby', stats, 'failed', 1)
end

-- Adds wait/run samples (seconds; one number, or a list in order) to the day's Welford
-- mean/variance and histogram with one read and one write. The result is what adding them one
-- by one leaves: each stored %.17g number reads back as the same double, so the means are
-- bit-identical, and new fields appear in the same order (the first sample's bin, total, mean,
-- vk, then later new bins).
local function stats_add(now, queue, kind, samples)
  -- The histogram bin of a sample: whole seconds under a minute, then m, h, d. Seconds 0 to 59
  -- (nearly every job's) are cut from a constant rather than formatted (%.14g, ~3k instructions);
  -- -0 keeps its formatted `s-0`.
  local function histogram_bin(value)
    local whole = math.floor(value)
    if whole < 60 then
      if whole >= 10 then
        return 's' .. string.sub(
          '1011121314151617181920212223242526272829303132333435363738394041424344454647484950515253545556575859',
          2 * whole - 19, 2 * whole - 18)
      elseif whole >= 1 or (whole == 0 and 1 / whole > 0) then
        return 's' .. string.sub('0123456789', whole + 1, whole + 1)
      end
      return 's' .. whole
    elseif whole < 3600 then
      return 'm' .. math.floor(whole / 60)
    elseif whole < 86400 then
      return 'h' .. math.floor(whole / 3600)
    end
    return 'd' .. math.floor(whole / 86400)
  end
  if not now_day then now_day = tostring(day_of(now)) end
  local key = 'ql:s:' .. kind .. ':' .. now_day .. ':' .. queue
  local single = type(samples) == 'number' and samples
  local n = single and 1 or #samples
  local first_bin = histogram_bin(single or samples[1])
  -- Several samples: the bins in order of first appearance, and how many samples each gets.
  local bins, added
  if not single then
    bins, added = { first_bin }, { [first_bin] = 1 }
    for i = 2, n do
      local bin = histogram_bin(samples[i])
      if added[bin] then
        added[bin] = added[bin] + 1
      else
        bins[#bins + 1] = bin
        added[bin] = 1
      end
    end
  end
  local stored
  if bins then
    stored = redis.call('hmget', key, 'total', 'mean', 'vk', unpack(bins))
  else
    stored = redis.call('hmget', key, 'total', 'mean', 'vk', first_bin)
  end
  -- A bin HINCRBY would refuse (not a canonical integer) goes through HINCRBY one sample at a
  -- time, failing where it always did.
  local plain = true
  for i = 4, #stored do
    local old = stored[i]
    if old and not (old == '0' or (#old < 16 and string.match(old, '^%-?[1-9]%d*$'))) then plain = false end
  end
  local count, mean, vk = tonumber(stored[1]) or 0, tonumber(stored[2]) or 0, tonumber(stored[3]) or 0
  for i = 1, n do
    local value = single or samples[i]
    if count == 0 then
      count, mean, vk = 1, value, 0
    else
      count = count + 1
      local previous = mean
      mean = mean + (value - mean) / count
      vk = vk + (value - mean) * (value - previous)
    end
    if not plain then
      redis.call('hincrby', key, histogram_bin(value), 1)
      redis.call('hmset', key, 'total', count, 'mean', mean, 'vk', vk)
    end
  end
  if not plain then return end
  local first_count = (tonumber(stored[4]) or 0) + (added and added[first_bin] or 1)
  if not bins or #bins == 1 then
    redis.call('hmset', key, first_bin, first_count, 'total', count, 'mean', mean, 'vk', vk)
    return
  end
  local fields = { first_bin, first_count, 'total', count, 'mean', mean, 'vk', vk }
  for i = 2, #bins do
    fields[#fields + 1] = bins[i]
    fields[#fields + 1] = (tonumber(stored[3 + i]) or 0) + added[bins[i]]
  end
  redis.call('hmset', key, unpack(fields))
end

----------------------------------------------------------------------------------------------
-- Job: commands
----------------------------------------------------------------------------------------------

local function job_command(name)
  if name == 'get' then
    return function(now, jid)
      if not jid then error('Job(): no jid provided') end
      local object = job_objects({ jid })[1]
      if not object then return nil end
      return cjson.encode(object)
    end

  elseif name == 'multiget' then
    return function(now, ...)
      return cjson.encode((job_objects({ ... })))
    end

  elseif name == 'heartbeat' then
    return function(now, jid, worker, data)
      if not jid then error('Job(): no jid provided') end
      if not worker then error('Heatbeat(): Arg "worker" missing') end
      local key = 'ql:j:' .. jid
      local f = redis.call('hmget', key, 'worker', 'state', 'queue')
      local owner, state = f[1], f[2]
      -- (An option of a queue has no default: its HGET goes without config_get's lookup of one.)
      local expires = now
        + tonumber(redis.call('hget', 'ql:config', (f[3] or '') .. '-heartbeat') or config_get('heartbeat', 60))
      -- The data is checked before the job: bad JSON fails even for a missing job.
      if data then data = cjson.decode(data) end
      if owner == false then
        error('Heartbeat(): Job ' .. jid .. ' does not exist')
      elseif state ~= 'running' then
        error('Heartbeat(): Job ' .. jid .. ' not currently running: ' .. state)
      elseif owner ~= worker or #owner == 0 then
        error('Heartbeat(): Job ' .. jid .. ' given out to another worker: ' .. owner)
      end
      if data then
        redis.call('hmset', key, 'expires', expires, 'worker', worker, 'data', cjson.encode(data))
      else
        redis.call('hmset', key, 'expires', expires, 'worker', worker)
      end
      -- Both scores from one text (Redis would format the number for each).
      local expires_score = string.format('%.17g', expires)
      redis.call('zadd', 'ql:w:' .. worker .. ':jobs', expires_score, jid)
      redis.call('zadd', 'ql:q:' .. f[3] .. '-locks', expires_score, jid)
      redis.call('zadd', 'ql:workers', score_of_now(now), worker)
      return expires
    end

  elseif name == 'priority' then
    return function(now, jid, value)
      if not jid then error('Job(): no jid provided') end
      local priority = tonumber(value)
      if not priority then
        error('Priority(): Arg "priority" missing or not a number: ' .. tostring(value))
      end
      local key = 'ql:j:' .. jid
      local queue = redis.call('hget', key, 'queue')
      if not queue then error('Priority(): Job ' .. jid .. ' does not exist') end
      -- A waiting (or timed-out) job's score becomes exactly the priority.
      if queue ~= '' and redis.call('zscore', 'ql:q:' .. queue .. '-work', jid) then
        work_add(queue, 0, priority, jid)
      end
      redis.call('hset', key, 'priority', priority)
      return priority
    end

  elseif name == 'log' then
    return function(now, jid, message, data)
      if not jid then error("Log(): Argument 'jid' missing") end
      if not message then error("Log(): Argument 'message' missing") end
      if data then
        data = cjson.decode(data)
        if not data then error("Log(): Argument 'data' not cjson: false") end
      end
      if redis.call('exists', 'ql:j:' .. jid) == 0 then
        error('Log(): Job ' .. jid .. ' does not exist')
      end
      history_add(now, jid, message, data)
    end

  elseif name == 'track' then
    return function(now, action, jid)
      if action == nil then
        local jobs, expired = job_objects(redis.call('zrange', 'ql:tracked', 0, -1))
        return cjson.encode({ jobs = jobs, expired = expired or {} })
      end
      if not jid then error('Track(): Arg "jid" missing') end
      if redis.call('exists', 'ql:j:' .. jid) == 0 then error('Track(): Job does not exist') end
      local verb = string.lower(action)
      if verb == 'track' then
        publish('track', jid)
        return cjson.encode(redis.call('zadd', 'ql:tracked', now, jid))
      elseif verb == 'untrack' then
        publish('untrack', jid)
        return cjson.encode(redis.call('zrem', 'ql:tracked', jid))
      end
      error('Track(): Unknown action "' .. action .. '"')
    end

  elseif name == 'failed' then
    return function(now, group, start_arg, limit_arg)
      local start = tonumber(start_arg or 0)
      if not start then error('Failed(): Arg "start" is not a number: ' .. tostring(start_arg)) end
      local limit = tonumber(limit_arg or 25)
      if not limit then error('Failed(): Arg "limit" is not a number: ' .. tostring(limit_arg)) end
      if group then
        return cjson.encode({
          total = redis.call('llen', 'ql:f:' .. group),
          jobs = redis.call('lrange', 'ql:f:' .. group, start, start + limit - 1),
        })
      end
      local groups = {}
      for _, failure_group in ipairs(redis.call('smembers', 'ql:failures')) do
        groups[failure_group] = redis.call('llen', 'ql:f:' .. failure_group)
      end
      return cjson.encode(groups)
    end

  elseif name == 'timeout' then
    return function(now, ...)
      -- Each jid must be running; an error leaves the earlier ones timed out.
      for i = 1, select('#', ...) do
        local jid = select(i, ...)
        local key = 'ql:j:' .. jid
        local f = redis.call('hmget', key, 'queue', 'state', 'worker')
        local queue, worker = f[1], f[3]
        if not queue then
          error('Timeout(): Job ' .. jid .. ' does not exist')
        elseif f[2] ~= 'running' then
          error('Timeout(): Job ' .. jid .. ' not running')
        end
        history_add(now, jid, 'timed-out')
        redis.call('zrem', 'ql:q:' .. queue .. '-locks', jid)
        work_add(queue, now, '+inf', jid)
        redis.call('hmset', key, 'state', 'stalled', 'expires', '0')
        local lost = cjson.encode({ jid = jid, event = 'lock_lost', worker = worker })
        publish('w:' .. worker, lost)
        publish('log', lost)
      end
    end
  end

  -- The commands below share these helpers; the ones above return before they are created,
  -- and so does every name that is not a job command.
  if name ~= 'put' and name ~= 'requeue' and name ~= 'complete' and name ~= 'fail' and name ~= 'retry'
    and name ~= 'cancel' and name ~= 'depends' and name ~= 'tag' then
    return nil
  end

  -- Links jid to each listed job that exists and is not complete; returns how many were linked.
  local function link_dependencies(jid, depends)
    local linked = 0
    for _, dependency in ipairs(depends) do
      local state = redis.call('hget', 'ql:j:' .. dependency, 'state')
      if state and state ~= 'complete' then
        linked = linked + 1
        redis.call('sadd', 'ql:j:' .. dependency .. '-dependents', jid)
        redis.call('sadd', 'ql:j:' .. jid .. '-dependencies', dependency)
      end
    end
    return linked
  end

  -- Takes a failed job out of its group (forgetting an emptied group) and un-counts it in the
  -- `failed` stat of its failure day.
  local function failure_remove(failure_field, queue, jid)
    local failure = cjson.decode(failure_field)
    redis.call('lrem', 'ql:f:' .. failure.group, 0, jid)
    if redis.call('llen', 'ql:f:' .. failure.group) == 0 then
      redis.call('srem', 'ql:failures', failure.group)
    end
    redis.call('hincrby', 'ql:s:stats:' .. day_of(failure.when) .. ':' .. queue, 'failed', -1)
  end

  -- Deletes a job's hash and history with its tag memberships (cancel, completed-job expiry).
  local function delete_job(jid)
    local key = 'ql:j:' .. jid
    for _, tag in ipairs(cjson.decode(redis.call('hget', key, 'tags') or '{}')) do
      redis.call('zrem', 'ql:t:' .. tag, jid)
      redis.call('zincrby', 'ql:tags', -1, tag)
    end
    redis.call('del', key)
    redis.call('del', key .. '-history')
  end

  -- Removes tags from a job; every argument is ZREM'd and decremented, present or not.
  local function untag(jid, ...)
    if not jid then error('Tag(): Arg "jid" missing') end
    local stored = redis.call('hget', 'ql:j:' .. jid, 'tags')
    if not stored then error('Tag(): Job ' .. jid .. ' does not exist') end
    local tags = cjson.decode(stored)
    local keep = {}
    for _, tag in ipairs(tags) do keep[tag] = true end
    for i = 1, select('#', ...) do
      local tag = select(i, ...)
      keep[tag] = nil
      redis.call('zrem', 'ql:t:' .. tag, jid)
      redis.call('zincrby', 'ql:tags', -1, tag)
    end
    local remaining = {}
    for _, tag in ipairs(tags) do
      if keep[tag] then remaining[#remaining + 1] = tag end
    end
    redis.call('hset', 'ql:j:' .. jid, 'tags', cjson.encode(remaining))
    return remaining
  end

  -- Creates or moves a job (put and requeue). The order of writes matters: an error midway
  -- leaves the earlier writes in place, exactly as in qless-core.
  local function put_job(now, worker, queue, jid, klass, raw_data, delay, ...)
    if not queue then error('Queue(): no queue name provided') end
    if not jid then error('Put(): Arg "jid" missing') end
    if not klass then error('Put(): Arg "klass" missing') end
    if not cjson.decode(raw_data) then
      error('Put(): Arg "data" missing or not JSON: ' .. tostring(raw_data))
    end
    local wait = tonumber(delay)
    if not wait then error('Put(): Arg "delay" not a number: ' .. tostring(delay)) end
    local extra = { ... }
    if #extra % 2 == 1 then error('Odd number of additional args: ' .. tostring(extra)) end
    local options = options_from(extra, 1)

    local key = 'ql:j:' .. jid
    local old = redis.call('hmget', key, 'priority', 'tags', 'queue', 'state', 'failure', 'retries', 'worker',
      'history')
    local old_tags, old_queue, old_state, old_worker = old[2], old[3], old[4], old[7]

    local retries = tonumber(options.retries or old[6] or 5)
    if not retries then error('Put(): Arg "retries" not a number: ' .. tostring(options.retries)) end
    -- An empty list or object (the usual tags and depends) decodes to an empty table, as cjson's.
    local tags_text = options.tags or old_tags or '[]'
    local tags = (tags_text == '[]' or tags_text == '{}') and {} or cjson.decode(tags_text)
    if not tags then error('Put(): Arg "tags" not JSON' .. tostring(options.tags)) end
    local priority = tonumber(options.priority or old[1] or 0)
    if not priority then error('Put(): Arg "priority" not a number' .. tostring(options.priority)) end
    local depends = {}
    if options.depends and options.depends ~= '[]' then depends = cjson.decode(options.depends) end
    if not depends then error('Put(): Arg "depends" not JSON: ' .. tostring(options.depends)) end

    -- qless-core drops the old tags before it checks the options above; checking first makes a
    -- refused put change nothing (issue 2) and is the same for every accepted one.
    if old_tags then untag(jid, unpack(cjson.decode(old_tags))) end

    -- A non-empty dependency list replaces the old one; an empty list keeps it.
    if #depends > 0 then
      local wanted = {}
      for _, dependency in ipairs(depends) do wanted[dependency] = true end
      for _, dependency in ipairs(redis.call('smembers', key .. '-dependencies')) do
        if not wanted[dependency] then
          redis.call('srem', 'ql:j:' .. dependency .. '-dependents', jid)
          redis.call('srem', key .. '-dependencies', dependency)
        end
      end
    end

    publish('log', cjson.encode({ jid = jid, event = 'put', queue = queue }))
    history_add_now(now, jid, 'put', 'q', queue, old[8])

    if old_queue then
      forget_in_queue(old_queue, jid)
      redis.call('zrem', 'ql:q:' .. old_queue .. '-depends', jid)
    end
    if old_worker and old_worker ~= '' then
      redis.call('zrem', 'ql:w:' .. old_worker .. ':jobs', jid)
      if old_worker ~= worker then
        local lost = cjson.encode({ jid = jid, event = 'lock_lost', worker = old_worker })
        publish('w:' .. old_worker, lost)
        publish('log', lost)
      end
    end
    if old_state == 'complete' then redis.call('zrem', 'ql:completed', jid) end

    for _, tag in ipairs(tags) do
      redis.call('zadd', 'ql:t:' .. tag, now, jid)
      redis.call('zincrby', 'ql:tags', 1, tag)
    end

    -- The failed stat is un-counted under the new queue's name (as qless-core does).
    if old_state == 'failed' then failure_remove(old[5], queue, jid) end

    redis.call('hmset', key,
      'jid', jid, 'klass', klass, 'data', raw_data, 'priority', priority,
      'tags', cjson.encode(tags), 'state', (wait > 0) and 'scheduled' or 'waiting',
      'worker', '', 'expires', '0', 'queue', queue, 'retries', retries, 'remaining', retries,
      'time', time_text(now))

    link_dependencies(jid, depends)
    local prefix = 'ql:q:' .. queue
    if redis.call('scard', key .. '-dependencies') > 0 then
      redis.call('zadd', prefix .. '-depends', now, jid)
      if wait > 0 then
        redis.call('hmset', key, 'state', 'depends', 'scheduled', now + wait)
      else
        redis.call('hset', key, 'state', 'depends')
      end
    elseif wait > 0 then
      redis.call('zadd', prefix .. '-scheduled', now + wait, jid)
    else
      work_add(queue, now, priority, jid)
    end

    if redis.call('zscore', 'ql:queues', queue) == false then
      redis.call('zadd', 'ql:queues', now, queue)
    end
    if is_tracked(jid) then publish('put', jid) end
    return jid
  end

  if name == 'put' then
    return put_job

  elseif name == 'requeue' then
    return function(now, worker, queue, jid, ...)
      if not jid then error('Job(): no jid provided') end
      if redis.call('exists', 'ql:j:' .. jid) == 0 then
        error('Requeue(): Job ' .. jid .. ' does not exist')
      end
      return put_job(now, worker, queue, jid, ...)
    end

  elseif name == 'complete' then
    -- Deletes completed jobs older than `jobs-history`, then all but the newest
    -- `jobs-history-count` (0 deletes them all, the one just completed included).
    -- `count` and `age`: the jobs-history-count and jobs-history options as read.
    local function expire_completed(now, count, age)
      local keep = tonumber(count or 50000)
      local cutoff = now - tonumber(age or 604800)
      local old = redis.call('zrangebyscore', 'ql:completed', '0', cutoff)
      -- Nothing that old: the removal by the same range has nothing to do.
      if #old > 0 then
        for _, jid in ipairs(old) do
          delete_job(jid)
        end
        redis.call('zremrangebyscore', 'ql:completed', 0, cutoff)
      end
      -- At most `keep` (a plain integer) left: the rank range 0 .. -1 - keep is empty.
      if keep % 1 == 0 and keep >= 0 and keep < 1e15 and redis.call('zcard', 'ql:completed') <= keep then
        return
      end
      for _, jid in ipairs(redis.call('zrange', 'ql:completed', 0, -1 - keep)) do
        delete_job(jid)
      end
      redis.call('zremrangebyrank', 'ql:completed', 0, -1 - keep)
    end

    -- Unblocks the dependents whose last dependency this job was.
    local function release_dependents(now, jid)
      local dependents = 'ql:j:' .. jid .. '-dependents'
      local members = redis.call('smembers', dependents)
      -- No members: the set does not exist, nothing to delete.
      if #members == 0 then return end
      for _, dependent in ipairs(members) do
        local key = 'ql:j:' .. dependent
        redis.call('srem', key .. '-dependencies', jid)
        if redis.call('scard', key .. '-dependencies') == 0 then
          local f = redis.call('hmget', key, 'queue', 'priority', 'scheduled')
          local queue, priority, scheduled = f[1], f[2], f[3]
          if queue then
            redis.call('zrem', 'ql:q:' .. queue .. '-depends', dependent)
            if scheduled then
              redis.call('zadd', 'ql:q:' .. queue .. '-scheduled', scheduled, dependent)
              redis.call('hset', key, 'state', 'scheduled')
              redis.call('hdel', key, 'scheduled')
            else
              work_add(queue, now, priority, dependent)
              redis.call('hset', key, 'state', 'waiting')
            end
          end
        end
      end
      redis.call('del', dependents)
    end

    return function(now, jid, worker, queue, raw_data, ...)
      if not jid then error('Job(): no jid provided') end
      if not worker then error('Complete(): Arg "worker" missing') end
      if not queue then error('Complete(): Arg "queue" missing') end
      -- `{}` (what most jobs end with) is JSON without decoding it.
      if raw_data ~= '{}' and not cjson.decode(raw_data) then
        error('Complete(): Arg "data" missing or not JSON: ' .. tostring(raw_data))
      end
      -- Usually there are no options (no tables to build) and no depends (an empty list).
      local options = (...) ~= nil and options_from({ ... }, 1) or {}
      local next_queue = options['next']
      local delay = tonumber(options.delay or 0)
      if not delay then error('assertion failed!') end
      local depends = {}
      if options.depends and options.depends ~= '[]' then depends = cjson.decode(options.depends) end
      if not depends then error('Complete(): Arg "depends" not JSON: ' .. tostring(options.depends)) end
      if options.delay and next_queue == nil then
        error('Complete(): "delay" cannot be used without a "next".')
      end
      if options.depends and next_queue == nil then
        error('Complete(): "depends" cannot be used without a "next".')
      end

      local key = 'ql:j:' .. jid
      local f = redis.call('hmget', key, 'worker', 'state', 'priority', 'retries', 'queue', 'time', 'history')
      local owner, state, priority = f[1], f[2], f[3]
      -- `remaining` is written from retries as a number: a plain integer text (the usual `5`) is
      -- what Redis would write for it, so it goes as it is (no parsing and formatting).
      local retries = f[4]
      if not (retries and (string.find(retries, '^[1-9]%d?%d?$') or retries == '0')) then
        retries = tonumber(retries)
      end
      if owner == false then
        error('Complete(): Job ' .. jid .. ' does not exist')
      elseif state ~= 'running' then
        error('Complete(): Job ' .. jid .. ' is not currently running: ' .. state)
      elseif owner ~= worker then
        error('Complete(): Job ' .. jid .. ' has been handed out to another worker: ' .. tostring(owner))
      elseif queue ~= f[5] then
        error('Complete(): Job ' .. jid .. ' running in another queue: ' .. tostring(f[5]))
      end

      local history_cap, keep_count, keep_age
      if options_ahead then
        history_cap, keep_count, keep_age = options_ahead[4], options_ahead[5], options_ahead[6]
      else
        local options = redis.call('hmget', 'ql:config', 'max-job-history', 'jobs-history-count', 'jobs-history')
        history_cap, keep_count, keep_age = options[1], options[2], options[3]
      end
      local cap = tonumber(history_cap or 100)
      history_add_now(now, jid, 'done', nil, nil, f[7], cap)
      forget_in_queue(queue, jid)
      local since = tonumber(f[6] or now)
      stats_add(now, queue, 'run', now - since)
      redis.call('zrem', 'ql:w:' .. worker .. ':jobs', jid)
      -- Written together with the new state below (one call): the data as given, `time` = now.
      local finished = time_text(now)
      if is_tracked(jid) then publish('completed', jid) end

      if next_queue then
        publish('log', cjson.encode({ jid = jid, event = 'advanced', queue = queue, to = next_queue }))
        history_add_now(now, jid, 'put', 'q', next_queue, false, cap)
        if redis.call('zscore', 'ql:queues', next_queue) == false then
          redis.call('zadd', 'ql:queues', now, next_queue)
        end
        redis.call('hmset', key, 'data', raw_data, 'time', finished, 'state', 'waiting', 'worker', '',
          'failure', '{}', 'queue', next_queue, 'expires', '0', 'remaining', retries)
        local prefix = 'ql:q:' .. next_queue
        if delay > 0 and #depends == 0 then
          redis.call('zadd', prefix .. '-scheduled', now + delay, jid)
          return 'scheduled'
        end
        -- Advancing never releases this job's own dependents.
        if link_dependencies(jid, depends) > 0 then
          redis.call('zadd', prefix .. '-depends', now, jid)
          redis.call('hset', key, 'state', 'depends')
          if delay > 0 then
            redis.call('hset', key, 'scheduled', now + delay)
          end
          return 'depends'
        end
        work_add(next_queue, now, priority, jid)
        return 'waiting'
      end

      publish('log', cjson.encode({ jid = jid, event = 'completed', queue = queue }))
      redis.call('hmset', key, 'data', raw_data, 'time', finished, 'state', 'complete', 'worker', '',
        'failure', '{}', 'queue', '', 'expires', '0', 'remaining', retries)
      redis.call('zadd', 'ql:completed', score_of_now(now), jid)
      expire_completed(now, keep_count, keep_age)
      release_dependents(now, jid)
      return 'complete'
    end

  elseif name == 'fail' then
    return function(now, jid, worker, group, message, data)
      if not jid then error('Job(): no jid provided') end
      if not worker then error('Fail(): Arg "worker" missing') end
      if not group then error('Fail(): Arg "group" missing') end
      if not message then error('Fail(): Arg "message" missing') end
      if data then data = cjson.decode(data) end
      local key = 'ql:j:' .. jid
      local f = redis.call('hmget', key, 'queue', 'state', 'worker', 'history')
      local queue, state = f[1], f[2]
      if not state then
        error('Fail(): Job ' .. jid .. 'does not exist')
      elseif state ~= 'running' then
        error('Fail(): Job ' .. jid .. 'not currently running: ' .. state)
      elseif worker ~= f[3] then
        error('Fail(): Job ' .. jid .. ' running with another worker: ' .. f[3])
      end
      publish('log', cjson.encode({ jid = jid, event = 'failed', worker = worker, group = group, message = message }))
      if is_tracked(jid) then publish('failed', jid) end
      redis.call('zrem', 'ql:w:' .. worker .. ':jobs', jid)
      history_add(now, jid, 'failed', { worker = worker, group = group }, f[4])
      forget_in_queue(queue, jid)
      if data then
        redis.call('hset', key, 'data', cjson.encode(data))
      end
      fail_job(now, jid, queue, group, message, math.floor(now), worker)
      return jid
    end

  elseif name == 'retry' then
    return function(now, jid, queue, worker, delay, group, message)
      if not jid then error('Job(): no jid provided') end
      if not queue then error('Retry(): Arg "queue" missing') end
      if not worker then error('Retry(): Arg "worker" missing') end
      local wait = tonumber(delay or 0)
      if not wait then error('Retry(): Arg "delay" not a number: ' .. tostring(delay)) end
      local key = 'ql:j:' .. jid
      local f = redis.call('hmget', key, 'queue', 'state', 'worker', 'priority')
      local old_queue, state, owner = f[1], f[2], f[3]
      if owner == false then
        error('Retry(): Job ' .. jid .. ' does not exist')
      elseif state ~= 'running' then
        error('Retry(): Job ' .. jid .. ' is not currently running: ' .. state)
      elseif owner ~= worker then
        error('Retry(): Job ' .. jid .. ' has been given to another worker: ' .. owner)
      end

      -- HINCRBYFLOAT: `retries` may be fractional ("2.7000000000000002"); the reply truncates.
      local remaining = math.floor(tonumber(redis.call('hincrbyfloat', key, 'remaining', -1)))
      redis.call('hdel', key, 'grace')
      redis.call('zrem', 'ql:q:' .. old_queue .. '-locks', jid)
      redis.call('zrem', 'ql:w:' .. worker .. ':jobs', jid)
      -- Only a retry given both a group and a message records it as the failure.
      local explained = group ~= nil and message ~= nil

      if remaining < 0 then
        local failed_group = group or ('failed-retries-' .. queue)
        history_add(now, jid, 'failed', { group = failed_group })
        if explained then
          fail_job(now, jid, queue, group, message, math.floor(now), worker)
        else
          fail_job(now, jid, queue, failed_group, 'Job exhausted retries in queue "' .. old_queue .. '"', now, '')
        end
        if is_tracked(jid) then publish('failed', jid) end
      else
        if wait > 0 then
          redis.call('zadd', 'ql:q:' .. queue .. '-scheduled', now + wait, jid)
          redis.call('hset', key, 'state', 'scheduled')
        else
          work_add(queue, now, f[4], jid)
          redis.call('hset', key, 'state', 'waiting')
        end
        if explained then
          -- Same constructor as in fail_job, so the stored key order is the same.
          redis.call('hset', key, 'failure',
            cjson.encode({ group = group, message = message, when = math.floor(now), worker = worker }))
        end
      end
      return remaining
    end

  elseif name == 'cancel' then
    return function(now, ...)
      local jids = { ... }
      -- Refuse (changing nothing) if a listed job has a dependent that is not listed.
      local dependents = {}
      for _, jid in ipairs(jids) do
        dependents[jid] = redis.call('smembers', 'ql:j:' .. jid .. '-dependents')
      end
      for _, jid in ipairs(jids) do
        for _, dependent in ipairs(dependents[jid]) do
          if dependents[dependent] == nil then
            error('Cancel(): ' .. jid .. ' is a dependency of ' .. dependent ..
              ' but is not mentioned to be canceled')
          end
        end
      end

      for _, jid in ipairs(jids) do
        local key = 'ql:j:' .. jid
        local f = redis.call('hmget', key, 'state', 'queue', 'failure', 'worker')
        local state, queue, worker = f[1], f[2], f[4]
        if state ~= 'complete' then
          local canceled = cjson.encode({ jid = jid, worker = worker, event = 'canceled', queue = queue })
          publish('log', canceled)
          if worker and worker ~= '' then
            redis.call('zrem', 'ql:w:' .. worker .. ':jobs', jid)
            publish('w:' .. worker, canceled)
          end
          if queue then
            forget_in_queue(queue, jid)
            redis.call('zrem', 'ql:q:' .. queue .. '-depends', jid)
          end
          for _, dependency in ipairs(redis.call('smembers', key .. '-dependencies')) do
            redis.call('srem', 'ql:j:' .. dependency .. '-dependents', jid)
          end
          redis.call('del', key .. '-dependencies')
          if state == 'failed' then failure_remove(f[3], queue, jid) end
          local tracked = is_tracked(jid)
          delete_job(jid)
          if tracked then publish('canceled', jid) end
        end
      end
      return jids
    end

  elseif name == 'depends' then
    -- Moves a job that has no dependencies left to waiting (`scheduled` is ignored).
    local function unblock(now, jid)
      local f = redis.call('hmget', 'ql:j:' .. jid, 'queue', 'priority')
      if f[1] then
        redis.call('zrem', 'ql:q:' .. f[1] .. '-depends', jid)
        work_add(f[1], now, f[2], jid)
        redis.call('hset', 'ql:j:' .. jid, 'state', 'waiting')
      end
    end

    return function(now, jid, command, ...)
      if not jid then error('Job(): no jid provided') end
      if not command then error('Depends(): Arg "command" missing') end
      local key = 'ql:j:' .. jid
      local state = redis.call('hget', key, 'state')
      if state ~= 'depends' then
        error('Depends(): Job ' .. jid .. ' not in the depends state: ' .. tostring(state))
      end
      if command == 'on' then
        link_dependencies(jid, { ... })
        return true
      elseif command ~= 'off' then
        error('Depends(): Argument "command" must be "on" or "off"')
      end
      if ... == 'all' then
        for _, dependency in ipairs(redis.call('smembers', key .. '-dependencies')) do
          redis.call('srem', 'ql:j:' .. dependency .. '-dependents', jid)
        end
        redis.call('del', key .. '-dependencies')
        unblock(now, jid)
        return true
      end
      for i = 1, select('#', ...) do
        local dependency = select(i, ...)
        redis.call('srem', 'ql:j:' .. dependency .. '-dependents', jid)
        redis.call('srem', key .. '-dependencies', dependency)
        if redis.call('scard', key .. '-dependencies') == 0 then
          unblock(now, jid)
        end
      end
      return true
    end

  elseif name == 'tag' then
    -- Paging arguments: integers in the end (Redis refuses fractions), any Lua number here.
    local function page(offset_arg, count_arg)
      local offset = tonumber(offset_arg or 0)
      if not offset then error('Tag(): Arg "offset" not a number: ' .. tostring(offset_arg)) end
      local count = tonumber(count_arg or 25)
      if not count then error('Tag(): Arg "count" not a number: ' .. tostring(count_arg)) end
      return offset, count
    end

    return function(now, command, ...)
      if command == 'add' then
        local jid = ...
        if not jid then error('Tag(): Arg "jid" missing') end
        local stored = redis.call('hget', 'ql:j:' .. jid, 'tags')
        if not stored then error('Tag(): Job ' .. jid .. ' does not exist') end
        local tags = cjson.decode(stored)
        local present = {}
        for _, tag in ipairs(tags) do present[tag] = true end
        -- Every argument counts in ql:t:<tag> and ql:tags, even one the job already has.
        for i = 2, select('#', ...) do
          local tag = select(i, ...)
          if present[tag] == nil then
            present[tag] = true
            tags[#tags + 1] = tag
          end
          redis.call('zadd', 'ql:t:' .. tag, now, jid)
          redis.call('zincrby', 'ql:tags', 1, tag)
        end
        local encoded = cjson.encode(tags)
        redis.call('hset', 'ql:j:' .. jid, 'tags', encoded)
        return encoded
      elseif command == 'remove' then
        return cjson.encode(untag(...))
      elseif command == 'get' then
        local tag, offset_arg, count_arg = ...
        if not tag then error('Tag(): Arg "tag" missing') end
        local offset, count = page(offset_arg, count_arg)
        return cjson.encode({
          total = redis.call('zcard', 'ql:t:' .. tag),
          jobs = redis.call('zrange', 'ql:t:' .. tag, offset, offset + count - 1),
        })
      elseif command == 'top' then
        local offset, count = page(...)
        return cjson.encode(redis.call('zrevrangebyscore', 'ql:tags', '+inf', 2, 'LIMIT', offset, count))
      elseif command ~= nil then
        error('Tag(): First argument must be "add", "remove" or "get"')
      end
      error('Tag(): Arg "command" must be "add", "remove", "get" or "top"')
    end
  end
end

----------------------------------------------------------------------------------------------
-- Queue: commands
----------------------------------------------------------------------------------------------

local function queue_command(name)
  if name == 'length' then
    return function(now, queue)
      if not queue then error('Queue(): no queue name provided') end
      local prefix = 'ql:q:' .. queue
      return redis.call('zcard', prefix .. '-locks') + redis.call('zcard', prefix .. '-work')
        + redis.call('zcard', prefix .. '-scheduled')
    end

  elseif name == 'pause' then
    return function(now, ...)
      redis.call('sadd', 'ql:paused_queues', ...)
    end

  elseif name == 'unpause' then
    return function(now, ...)
      redis.call('srem', 'ql:paused_queues', ...)
    end

  elseif name == 'queue.forget' then
    return function(now, ...)
      redis.call('zrem', 'ql:queues', ...)
    end

  elseif name == 'stats' then
    -- count, mean, the 148 reported histogram bins (s0-s59 m1-m59 h1-h23 d1-d6) and std.
    local function summary(key)
      local stored = redis.call('hmget', key, 'total', 'mean', 'vk')
      local count = tonumber(stored[1]) or 0
      local result = {}
      result.count = count
      result.mean = tonumber(stored[2]) or 0
      result.histogram = {}
      if count > 1 then
        result.std = math.sqrt(tonumber(stored[3]) / (count - 1))
      else
        result.std = 0
      end
      local fields = {}
      for s = 0, 59 do fields[#fields + 1] = 's' .. s end
      for m = 1, 59 do fields[#fields + 1] = 'm' .. m end
      for h = 1, 23 do fields[#fields + 1] = 'h' .. h end
      for d = 1, 6 do fields[#fields + 1] = 'd' .. d end
      local bins = redis.call('hmget', key, unpack(fields))
      for i = 1, #fields do
        result.histogram[i] = tonumber(bins[i]) or 0
      end
      return result
    end

    return function(now, queue, date)
      if not queue then error('Queue(): no queue name provided') end
      local day = tonumber(date)
      if not day then error('Stats(): Arg "date" missing or not a number: ' .. tostring(date)) end
      local suffix = ':' .. day_of(day) .. ':' .. queue
      local counters = redis.call('hmget', 'ql:s:stats' .. suffix, 'retries', 'failed', 'failures')
      return cjson.encode({
        retries = tonumber(counters[1] or 0),
        failed = tonumber(counters[2] or 0),
        failures = tonumber(counters[3] or 0),
        wait = summary('ql:s:wait' .. suffix),
        run = summary('ql:s:run' .. suffix),
      })
    end

  elseif name == 'unfail' then
    return function(now, queue, group, count_arg)
      if not queue then error('Queue(): no queue name provided') end
      if not group then error('Unfail(): Arg "group" missing') end
      local count = tonumber(count_arg or 25)
      if not count then error('Unfail(): Arg "count" not a number: ' .. tostring(count_arg)) end
      local list = 'ql:f:' .. group
      -- The `count` oldest of the group; a count of 0 reaches Redis as "-0", which it refuses.
      local jids = redis.call('lrange', list, -count, -1)
      for _, jid in ipairs(jids) do
        local key = 'ql:j:' .. jid
        local f = redis.call('hmget', key, 'priority', 'retries')
        history_add(now, jid, 'put', { q = queue })
        redis.call('hmset', key, 'state', 'waiting', 'worker', '', 'expires', '0',
          'queue', queue, 'remaining', tonumber(f[2]) or 5)
        work_add(queue, now, tonumber(f[1]), jid)
      end
      redis.call('ltrim', list, 0, -count - 1)
      if redis.call('llen', list) == 0 then
        redis.call('srem', 'ql:failures', group)
      end
      return #jids
    end
  end

  -- The commands below read the queue's sets through these helpers; the ones above return
  -- before they are created, and so does every name that is not a queue command.
  if name ~= 'pop' and name ~= 'peek' and name ~= 'jobs' and name ~= 'queues' then
    return nil
  end

  -- A count or index as an argument: 0 to 9 as their digit (see now_score), others as numbers.
  local function count_text(n)
    if n >= 0 and n <= 9 and n % 1 == 0 then return string.sub('0123456789', n + 1, n + 1) end
    return n
  end

  -- Spawns children of the queue's due recurring templates, at most `count` in total.
  local function spawn_recurring(queue, now, count)
    local recur = 'ql:q:' .. queue .. '-recur'
    local spawned = 0
    for _, jid in ipairs(redis.call('zrangebyscore', recur, '0', score_of_now(now), 'LIMIT', '0', count_text(count))) do
      local template = 'ql:r:' .. jid
      local t = redis.call('hmget', template, 'klass', 'data', 'priority', 'tags', 'retries', 'interval', 'backlog')
      local priority, tags, retries = t[3], t[4], t[5]
      local interval = tonumber(t[6])
      local backlog = tonumber(t[7] or 0)
      local tag_list = cjson.decode(tags)
      local score = math.floor(tonumber(redis.call('zscore', recur, jid)))
      -- With a backlog b, skip ahead so that only b (or b + 1) children are still due.
      if backlog > 0 then
        local due = (now - score) / interval
        if due > backlog then
          score = score + math.ceil(due - backlog) * interval
        end
      end
      while score <= now and spawned < count do
        local child = jid .. '-' .. redis.call('hincrby', template, 'count', 1)
        spawned = spawned + 1
        for _, tag in ipairs(tag_list) do
          redis.call('zadd', 'ql:t:' .. tag, now, child)
          redis.call('zincrby', 'ql:tags', 1, tag)
        end
        redis.call('hmset', 'ql:j:' .. child,
          'jid', child, 'klass', t[1], 'data', t[2], 'priority', priority, 'tags', tags,
          'state', 'waiting', 'worker', '', 'expires', '0', 'queue', queue,
          'retries', retries, 'remaining', retries, 'time', string.format('%.20f', score),
          'spawned_from_jid', jid)
        history_add(score, child, 'put', { q = queue })
        work_add(queue, score, priority, child)
        score = score + interval
        redis.call('zadd', recur, score, jid)
      end
    end
  end


  -- Moves up to `count` due scheduled jobs into the work set (behind jobs put earlier).
  local function release_scheduled(queue, now, count)
    local scheduled = 'ql:q:' .. queue .. '-scheduled'
    local due = redis.call('zrangebyscore', scheduled, '0', score_of_now(now), 'LIMIT', '0', count_text(count))
    for _, jid in ipairs(due) do
      work_add(queue, now, tonumber(redis.call('hget', 'ql:j:' .. jid, 'priority') or 0), jid)
      redis.call('zrem', scheduled, jid)
      redis.call('hset', 'ql:j:' .. jid, 'state', 'waiting')
    end
  end

  local function expired_locks(queue, now, offset, count)
    return redis.call('zrangebyscore', 'ql:q:' .. queue .. '-locks', '-inf', score_of_now(now), 'LIMIT', offset,
      count_text(count))
  end

  -- Appends to `jids` the due recurring children, due scheduled jobs and then the highest work
  -- scores, up to `count` jobs in all (ties in reverse jid order, as ZREVRANGE gives them).
  local function fill_from_work(queue, now, count, jids)
    -- Most queues have neither recurring templates nor scheduled jobs: one EXISTS of both sets
    -- spares the two range reads (the expired-lock read before has refused a bad `now` or count).
    local prefix = 'ql:q:' .. queue
    if redis.call('exists', prefix .. '-recur', prefix .. '-scheduled') > 0 then
      spawn_recurring(queue, now, count - #jids)
      release_scheduled(queue, now, count - #jids)
    end
    local wanted = count - #jids
    if wanted == 0 then return jids end
    for _, jid in ipairs(redis.call('zrevrange', prefix .. '-work', '0', count_text(wanted - 1))) do
      jids[#jids + 1] = jid
    end
    return jids
  end

  if name == 'pop' then
    -- Fails a job whose lock expired with no retries left (`cap`: max-job-history).
    local function exhaust(queue, now, jid, lost_worker, cap)
      forget_in_queue(queue, jid)
      local key = 'ql:j:' .. jid
      local group = 'failed-retries-' .. redis.call('hget', key, 'queue')
      local message = 'Job exhausted retries in queue "' .. queue .. '"'
      history_add(now, jid, 'failed', { group = group }, nil, cap)
      fail_job(now, jid, queue, group, message, now, '')
      if is_tracked(jid) then publish('failed', jid) end
      publish('log',
        cjson.encode({ jid = jid, event = 'failed', group = group, worker = lost_worker, message = message }))
    end

    -- Handles up to `count` expired locks: first a courtesy period (the `grace` flag), on the
    -- next expiry the job is handed on, or failed when out of retries. Returns the handed-on.
    -- `cap` is max-job-history.
    local function invalidate_locks(queue, now, count, cap)
      local handed = {}
      for _, jid in ipairs(expired_locks(queue, now, '0', count)) do
        local key = 'ql:j:' .. jid
        local f = redis.call('hmget', key, 'worker', 'grace', 'history')
        local worker = f[1]
        redis.call('zrem', 'ql:w:' .. worker .. ':jobs', jid)
        local grace_period = tonumber(config_get('grace-period'))
        local had_courtesy = tonumber(f[2] or 0) == 1
        -- Without a grace period both steps happen at once.
        local courtesy = grace_period <= 0 or not had_courtesy
        local hand_on = grace_period <= 0 or had_courtesy
        if courtesy then
          if is_tracked(jid) then publish('stalled', jid) end
          history_add(now, jid, 'timed-out', nil, f[3], cap)
          redis.call('hset', key, 'grace', 1)
          local lost = cjson.encode({ jid = jid, event = 'lock_lost', worker = worker })
          publish('w:' .. worker, lost)
          publish('log', lost)
          redis.call('zadd', 'ql:q:' .. queue .. '-locks', now + grace_period, jid)
          redis.call('hincrby', 'ql:s:stats:' .. day_of(now) .. ':' .. queue, 'retries', 1)
        end
        if hand_on then
          redis.call('hdel', key, 'grace')
          if tonumber(redis.call('hincrbyfloat', key, 'remaining', -1)) < 0 then
            exhaust(queue, now, jid, worker, cap)
          else
            handed[#handed + 1] = jid
          end
        end
      end
      return handed
    end

    return function(now, queue, worker, count_arg)
      if not queue then error('Queue(): no queue name provided') end
      if not worker then error('Pop(): Arg "worker" missing') end
      local count = tonumber(count_arg)
      if not count then error('Pop(): Arg "count" missing or not a number: ' .. tostring(count_arg)) end
      local options = options_ahead or redis.call('hmget', 'ql:config', queue .. '-heartbeat', 'heartbeat',
        queue .. '-max-concurrency', 'max-job-history')
      local max_concurrency, history_cap = options[3], options[4]
      local expires = now + tonumber(options[1] or options[2] or config_default('heartbeat'))
      if redis.call('sismember', 'ql:paused_queues', queue) == 1 then return '{}' end
      redis.call('zadd', 'ql:workers', score_of_now(now), worker)

      local locks = 'ql:q:' .. queue .. '-locks'
      local limit = tonumber(max_concurrency or 0)
      if limit > 0 then
        -- Courtesy locks count as running.
        count = math.min(math.max(0, limit - redis.call('zcount', locks, score_of_now(now), '+inf')), count)
        if count == 0 then return '{}' end
      end

      local cap = tonumber(history_cap or 100)
      local jids = fill_from_work(queue, now, count, invalidate_locks(queue, now, count, cap))
      local n = #jids
      if n == 0 then return '{}' end
      local tracked = tracked_flags(jids)
      -- Every job gets the same `popped` entry: built once (unless cjson would refuse `now`;
      -- history_add then fails where it always did), and its item for the job objects too when
      -- floor(now) has at most 14 digits (so its %.14g text reads back as the same number).
      local popped_entry = now_entry(now, 'popped', 'worker', worker)
      local popped_by, popped_item = nil, nil
      if not popped_entry then
        popped_by = { worker = worker }
      elseif math.abs(now) < 1e14 then
        popped_item = {}
        popped_item.worker = worker
        popped_item.when = math.floor(now)
        popped_item.what = 'popped'
      end
      -- Each job's fields read before its writes (the job object takes them from here), and its
      -- wait; the jobs share the stats, lock and worker-set writes after the loop.
      local fields, waits, wait = {}, (n > 1) and {} or nil, nil
      local stopped_at
      for i, jid in ipairs(jids) do
        local key = 'ql:j:' .. jid
        local f = redis.call('hmget', key, 'jid', 'klass', 'queue', 'priority', 'retries', 'remaining',
          'data', 'tags', 'failure', 'spawned_from_jid', 'history', 'time')
        history_add(now, jid, 'popped', popped_by, f[11], cap, popped_entry)
        local since = tonumber(f[12] or now)
        if not since then
          stopped_at = i
          break
        end
        if waits then waits[i] = now - since else wait = now - since end
        redis.call('hmset', key, 'time', time_text(now), 'worker', worker, 'expires', expires, 'state', 'running')
        if tracked[i] then publish('popped', jid) end
        -- As stored now: the job object below takes them from here (job_objects' layout; a field
        -- read costs about as much as a short command, so `time` was read in place of the state).
        f[11], f[12], f[13], f[14] = false, 'running', worker, expires
        fields[i] = f
      end
      local done = stopped_at and stopped_at - 1 or n
      if done > 0 then
        stats_add(now, queue, 'wait', waits or wait)
        local expires_score = string.format('%.17g', expires)
        if done == 1 then
          redis.call('zadd', 'ql:w:' .. worker .. ':jobs', expires_score, jids[1])
          redis.call('zadd', locks, expires_score, jids[1])
        else
          local members = {}
          for i = 1, done do
            members[2 * i - 1] = expires_score
            members[2 * i] = jids[i]
          end
          -- unpack has a limit: 400 members per call.
          for first = 1, #members, 800 do
            local last = math.min(first + 799, #members)
            redis.call('zadd', 'ql:w:' .. worker .. ':jobs', unpack(members, first, last))
            redis.call('zadd', locks, unpack(members, first, last))
          end
        end
      end
      if stopped_at then
        -- A `time` that is not a number stops the pop here, with the error it always raised.
        local since = nil
        return now - since
      end
      for first = 1, n, 400 do
        redis.call('zrem', 'ql:q:' .. queue .. '-work', unpack(jids, first, math.min(first + 399, n)))
      end
      return cjson.encode((job_objects(jids, fields, tracked, popped_entry, popped_item)))
    end

  elseif name == 'peek' then
    return function(now, queue, count_arg)
      if not queue then error('Queue(): no queue name provided') end
      local count = tonumber(count_arg)
      if not count then error('Peek(): Arg "count" missing or not a number: ' .. tostring(count_arg)) end
      return cjson.encode((job_objects(fill_from_work(queue, now, count, expired_locks(queue, now, '0', count)))))
    end

  elseif name == 'jobs' then
    return function(now, state, ...)
      if not state then error('Jobs(): Arg "state" missing') end
      local first = 1
      local queue
      if state ~= 'complete' then
        queue = ...
        if not queue then error('Jobs(): Arg "queue" missing') end
        first = 2
      end
      local offset_arg, count_arg = select(first, ...)
      local offset = tonumber(offset_arg or 0)
      if not offset then error('Jobs(): Arg "offset" not a number: ' .. tostring(offset_arg)) end
      local count = tonumber(count_arg or 25)
      if not count then error('Jobs(): Arg "count" not a number: ' .. tostring(count_arg)) end
      if state == 'complete' then
        return redis.call('zrevrange', 'ql:completed', offset, offset + count - 1)
      end
      local prefix = 'ql:q:' .. queue
      if state == 'running' then
        return redis.call('zrangebyscore', prefix .. '-locks', now, '+inf', 'LIMIT', offset, count)
      elseif state == 'stalled' then
        return expired_locks(queue, now, offset, count)
      elseif state == 'scheduled' then
        release_scheduled(queue, now, redis.call('zcard', prefix .. '-scheduled'))
        return redis.call('zrange', prefix .. '-scheduled', offset, offset + count - 1)
      elseif state == 'depends' then
        return redis.call('zrange', prefix .. '-depends', offset, offset + count - 1)
      elseif state == 'recurring' then
        return redis.call('zrangebyscore', prefix .. '-recur', 0, '+inf', 'LIMIT', offset, count)
      end
      error('Jobs(): Unknown type "' .. state .. '"')
    end

  elseif name == 'queues' then
    local function queue_counts(now, queue)
      local prefix = 'ql:q:' .. queue
      local stalled = redis.call('zcount', prefix .. '-locks', '-inf', now)
      release_scheduled(queue, now, redis.call('zcard', prefix .. '-scheduled'))
      return {
        name = queue,
        waiting = redis.call('zcard', prefix .. '-work'),
        stalled = stalled,
        running = redis.call('zcard', prefix .. '-locks') - stalled,
        scheduled = redis.call('zcard', prefix .. '-scheduled'),
        depends = redis.call('zcard', prefix .. '-depends'),
        recurring = redis.call('zcard', prefix .. '-recur'),
        paused = redis.call('sismember', 'ql:paused_queues', queue) == 1,
      }
    end

    return function(now, queue)
      if queue then return cjson.encode(queue_counts(now, queue)) end
      local response = {}
      for _, known in ipairs(redis.call('zrange', 'ql:queues', 0, -1)) do
        response[#response + 1] = queue_counts(now, known)
      end
      return cjson.encode(response)
    end
  end
end

----------------------------------------------------------------------------------------------
-- Recurring: commands
----------------------------------------------------------------------------------------------

local function recurring_command(name)
  if name == 'recur' then
    return function(now, queue, jid, klass, raw_data, spec, ...)
      if not queue then error('Queue(): no queue name provided') end
      if not jid then error('RecurringJob On(): Arg "jid" missing') end
      if not klass then error('RecurringJob On(): Arg "klass" missing') end
      if not spec then error('RecurringJob On(): Arg "spec" missing') end
      if not cjson.decode(raw_data) then
        error('RecurringJob On(): Arg "data" not JSON: ' .. tostring(raw_data))
      end
      if spec ~= 'interval' then
        error('Recur(): schedule type "' .. tostring(spec) .. '" unknown')
      end
      local extra = { ... }
      local interval = tonumber(extra[1])
      if not interval then error('Recur(): Arg "interval" not a number: ' .. tostring(extra[1])) end
      local offset = tonumber(extra[2])
      if not offset then error('Recur(): Arg "offset" not a number: ' .. tostring(extra[2])) end
      if interval <= 0 then error('Recur(): Arg "interval" must be greater than 0') end
      if #extra % 2 == 1 then error('Odd number of additional args: ' .. tostring(extra)) end

      local options = options_from(extra, 3)
      local tags = cjson.decode(options.tags or '{}')
      if not tags then error('Recur(): Arg "tags" must be JSON string array: ' .. tostring(options.tags)) end
      local priority = tonumber(options.priority or 0)
      if not priority then error('Recur(): Arg "priority" not a number: ' .. tostring(options.priority)) end
      local retries = tonumber(options.retries or 0)
      if not retries then error('Recur(): Arg "retries" not a number: ' .. tostring(options.retries)) end
      local backlog = tonumber(options.backlog or 0)
      if not backlog then error('Recur(): Arg "backlog" not a number: ' .. tostring(options.backlog)) end

      local template = 'ql:r:' .. jid
      local old = redis.call('hmget', template, 'count', 'queue')
      if old[2] then redis.call('zrem', 'ql:q:' .. old[2] .. '-recur', jid) end
      redis.call('hmset', template,
        'jid', jid, 'klass', klass, 'data', raw_data, 'priority', priority,
        'tags', cjson.encode(tags), 'state', 'recur', 'queue', queue, 'type', 'interval',
        'count', old[1] or 0, 'interval', interval, 'retries', retries, 'backlog', backlog)
      redis.call('zadd', 'ql:q:' .. queue .. '-recur', now + offset, jid)
      if redis.call('zscore', 'ql:queues', queue) == false then
        redis.call('zadd', 'ql:queues', now, queue)
      end
      return jid
    end
  end

  -- Every other recurring command names an existing template first.
  local run
  if name == 'recur.get' then
    run = function(now, jid)
      local f = redis.call('hmget', 'ql:r:' .. jid, 'jid', 'klass', 'state', 'queue', 'priority',
        'interval', 'retries', 'count', 'data', 'tags', 'backlog')
      if not f[1] then return nil end
      return cjson.encode({
        jid = f[1],
        klass = f[2],
        state = f[3],
        queue = f[4],
        priority = tonumber(f[5]),
        interval = tonumber(f[6]),
        retries = tonumber(f[7]),
        count = tonumber(f[8]),
        data = f[9],
        tags = cjson.decode(f[10]),
        backlog = tonumber(f[11] or 0),
      })
    end

  elseif name == 'recur.update' then
    run = function(now, jid, ...)
      local template = 'ql:r:' .. jid
      if redis.call('exists', template) == 0 then
        error('Recur(): No recurring job ' .. jid)
      end
      -- Options apply one by one: a bad one leaves the earlier ones applied.
      local extra = { ... }
      for i = 1, #extra, 2 do
        local option, value = extra[i], extra[i + 1]
        if not value then error('No value provided for ' .. tostring(option)) end
        if option == 'priority' or option == 'interval' or option == 'retries' then
          local number = tonumber(value)
          if not number then
            error('Recur(): Arg "' .. option .. '" must be a number: ' .. tostring(value))
          end
          if option == 'interval' then
            -- The next spawn moves by the change, keeping the schedule's phase.
            local f = redis.call('hmget', template, 'queue', 'interval')
            redis.call('zincrby', 'ql:q:' .. f[1] .. '-recur', number - tonumber(f[2]), jid)
          end
          redis.call('hset', template, option, number)
        elseif option == 'data' then
          if not cjson.decode(value) then
            error('Recur(): Arg "data" is not JSON-encoded: ' .. tostring(value))
          end
          redis.call('hset', template, 'data', value)
        elseif option == 'klass' then
          redis.call('hset', template, 'klass', value)
        elseif option == 'queue' then
          local old_recur = 'ql:q:' .. redis.call('hget', template, 'queue') .. '-recur'
          local score = redis.call('zscore', old_recur, jid)
          redis.call('zrem', old_recur, jid)
          redis.call('zadd', 'ql:q:' .. value .. '-recur', score, jid)
          redis.call('hset', template, 'queue', value)
          if redis.call('zscore', 'ql:queues', value) == false then
            redis.call('zadd', 'ql:queues', now, value)
          end
        elseif option == 'backlog' then
          local number = tonumber(value)
          if not number then error('Recur(): Arg "backlog" not a number: ' .. tostring(value)) end
          redis.call('hset', template, 'backlog', number)
        else
          error('Recur(): Unrecognized option "' .. option .. '"')
        end
      end
      return true
    end

  elseif name == 'recur.tag' then
    run = function(now, jid, ...)
      local stored = redis.call('hget', 'ql:r:' .. jid, 'tags')
      if not stored then error('Tag(): Job ' .. jid .. ' does not exist') end
      local tags = cjson.decode(stored)
      local present = {}
      for _, tag in ipairs(tags) do present[tag] = true end
      -- Tags already on the template are skipped; duplicates within this call are kept.
      for i = 1, select('#', ...) do
        local tag = select(i, ...)
        if not present[tag] then tags[#tags + 1] = tag end
      end
      local encoded = cjson.encode(tags)
      redis.call('hset', 'ql:r:' .. jid, 'tags', encoded)
      return encoded
    end

  elseif name == 'recur.untag' then
    run = function(now, jid, ...)
      local stored = redis.call('hget', 'ql:r:' .. jid, 'tags')
      if not stored then error('Untag(): Job ' .. jid .. ' does not exist') end
      local tags = cjson.decode(stored)
      local keep = {}
      for _, tag in ipairs(tags) do keep[tag] = true end
      for i = 1, select('#', ...) do keep[select(i, ...)] = nil end
      local remaining = {}
      for _, tag in ipairs(tags) do
        if keep[tag] then remaining[#remaining + 1] = tag end
      end
      local encoded = cjson.encode(remaining)
      redis.call('hset', 'ql:r:' .. jid, 'tags', encoded)
      return encoded
    end

  elseif name == 'unrecur' then
    run = function(now, jid)
      local queue = redis.call('hget', 'ql:r:' .. jid, 'queue')
      if queue then redis.call('zrem', 'ql:q:' .. queue .. '-recur', jid) end
      redis.call('del', 'ql:r:' .. jid)
      return true
    end
  end

  if run then
    return function(now, jid, ...)
      if not jid then error('Recurring(): no jid provided') end
      return run(now, jid, ...)
    end
  end
end

----------------------------------------------------------------------------------------------
-- Workers
----------------------------------------------------------------------------------------------

local function worker_command(name)
  if name == 'workers' then
    return function(now, worker)
      -- Workers idle for `max-worker-age` seconds are forgotten, with their job sets.
      local cutoff = now - tonumber(config_get('max-worker-age', 86400))
      for _, idle in ipairs(redis.call('zrangebyscore', 'ql:workers', 0, cutoff)) do
        redis.call('del', 'ql:w:' .. idle .. ':jobs')
      end
      redis.call('zremrangebyscore', 'ql:workers', 0, cutoff)

      if worker then
        local jobs = 'ql:w:' .. worker .. ':jobs'
        return cjson.encode({
          jobs = redis.call('zrevrangebyscore', jobs, '+inf', now),
          stalled = redis.call('zrevrangebyscore', jobs, now, 0),
        })
      end
      local response = {}
      for _, known in ipairs(redis.call('zrevrange', 'ql:workers', 0, -1)) do
        local jobs = 'ql:w:' .. known .. ':jobs'
        response[#response + 1] = {
          name = known,
          jobs = redis.call('zcount', jobs, now, '+inf'),
          stalled = redis.call('zcount', jobs, 0, now),
        }
      end
      return cjson.encode(response)
    end

  elseif name == 'worker.deregister' then
    return function(now, ...)
      redis.call('zrem', 'ql:workers', ...)
    end
  end
end

----------------------------------------------------------------------------------------------
-- Extensions: commands beyond qless-core's set (other clients never send them)
----------------------------------------------------------------------------------------------

local function extension_command(name)
  if name == 'complete.pop' then
    -- `complete.pop <now> <pop-queue> <count> <complete's arguments...>`: completes a job and
    -- pops up to `count` jobs of `pop-queue` for the same worker, leaving exactly what `complete`
    -- then `pop` at the same `now` leave (it runs those two, on options read once), in one call. Replies with an array:
    -- complete's reply (the job's state), then pop's (the JSON array of jobs). The pop's queue and
    -- count are checked first; if the complete fails, its error is raised and nothing of the pop
    -- happens.
    return function(now, pop_queue, count, ...)
      if not pop_queue then error('Queue(): no queue name provided') end
      if not tonumber(count) then error('Pop(): Arg "count" missing or not a number: ' .. tostring(count)) end
      options_ahead = redis.call('hmget', 'ql:config', pop_queue .. '-heartbeat', 'heartbeat',
        pop_queue .. '-max-concurrency', 'max-job-history', 'jobs-history-count', 'jobs-history')
      local state = job_command('complete')(now, ...)
      local _, worker = ...
      return { state, queue_command('pop')(now, pop_queue, worker, count) }
    end
  end
end

----------------------------------------------------------------------------------------------
-- API / dispatch
----------------------------------------------------------------------------------------------

-- (keys, argv) as EVALSHA and FCALL pass them: argv = command, now, args...
local function dispatch(keys, argv)
  if #keys > 0 then error('No Keys should be provided') end
  now_arg, now_text, now_score, now_day, now_floor, options_ahead = argv[2], nil, nil, nil, nil, nil
  local name = argv[1]
  if not name then error('Must provide a command') end
  local command = job_command(name) or queue_command(name) or recurring_command(name)
    or worker_command(name) or config_command(name) or extension_command(name)
  if not command then error('Unknown command ' .. name) end
  if #argv < 2 then error("bad argument #1 to 'tonumber' (value expected)") end
  local now = tonumber(argv[2])
  if not now then error('Arg "now" missing or not a number: nil') end
  return command(now, unpack(argv, 3))
end

return dispatch(KEYS, ARGV)
