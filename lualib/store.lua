-- The online store for game services: one small interface whose backends are Redis and the
-- node's in-process store (skynet.db.memory). Both behave the same (the same test suite runs
-- against each): values are stored as strings, numbers come back as strings except counters.
--
--   local store = require "store"
--   local s = store.open()            -- backend from config: online_store = "memory" | "redis"
--   s:hset("player_online:1", { fd = 19, gate = "gate1" })
--   s:hgetall("player_online:1")      --> { fd = "19", gate = "gate1" }
--   s:incr("incr_player_id")          --> 1
--   s:rpush("cache:1", data); s:ltrim("cache:1", -100, -1)
--   local sub = s:subscribe("chat.hall", function(msg, channel) ... end)
--   s:publish("chat.hall", "hi")
--
-- conf (store.open): backend ("memory" | "redis"), prefix (prepended to every key, channel and
-- pattern), db (database number), and for Redis host, port, auth, timeout. Without conf the
-- node config is read: online_store, redis_host, redis_port, redis_db, redis_auth, store_prefix.

local skynet = require "skynet"

local store = {}

local S = {}
S.__index = S

-- The store settings of the node config.
function store.config()
	return {
		backend = skynet.getenv "online_store" or "memory",
		host = skynet.getenv "redis_host",
		port = tonumber(skynet.getenv "redis_port"),
		db = tonumber(skynet.getenv "redis_db"),
		auth = skynet.getenv "redis_auth",
		prefix = skynet.getenv "store_prefix",
	}
end

function store.open(conf)
	conf = conf or store.config()
	local backend = conf.backend or "memory"
	local db
	if backend == "redis" then
		db = require("skynet.db.redis").connect(conf)
	elseif backend == "memory" then
		db = require("skynet.db.memory").connect(conf)
	else
		error("unknown store backend " .. tostring(backend) .. " (use memory or redis)")
	end
	return setmetatable({
		db = db,
		backend = backend,
		conf = conf,
		prefix = conf.prefix or "",
		handlers = {},  -- channel -> function
		phandlers = {}, -- pattern -> function
	}, S)
end

local function keys(self, ...)
	local p = self.prefix
	local n = select("#", ...)
	local out = { ... }
	for i = 1, n do
		out[i] = p .. out[i]
	end
	return table.unpack(out, 1, n)
end

-- strings and keys

function S:get(key)
	return self.db:get(self.prefix .. key)
end

-- Set a value, with an optional time to live in seconds.
function S:set(key, value, ttl)
	if ttl then
		self.db:set(self.prefix .. key, value, "EX", ttl)
	else
		self.db:set(self.prefix .. key, value)
	end
	return true
end

-- Delete keys of any type; returns how many existed.
function S:del(...)
	return self.db:del(keys(self, ...))
end

function S:exists(key)
	return self.db:exists(self.prefix .. key)
end

-- Add `n` (default 1) to an integer counter; returns the new value.
function S:incr(key, n)
	return self.db:incrby(self.prefix .. key, n or 1)
end

-- Expire a key after `seconds`; false if the key does not exist.
function S:expire(key, seconds)
	return self.db:expire(self.prefix .. key, seconds) == 1
end

-- Seconds left: -1 without expiry, -2 when the key does not exist.
function S:ttl(key)
	return self.db:ttl(self.prefix .. key)
end

-- hashes

function S:hget(key, field)
	return self.db:hget(self.prefix .. key, field)
end

-- hset(key, field, value) or hset(key, { field = value, ... }); returns how many fields are new.
function S:hset(key, field, value)
	if type(field) ~= "table" then
		return self.db:hset(self.prefix .. key, field, value)
	end
	local args = { self.prefix .. key }
	for f, v in pairs(field) do
		args[#args + 1] = f
		args[#args + 1] = v
	end
	if #args == 1 then
		return 0
	end
	return self.db:hset(args)
end

-- Returns how many of the fields existed.
function S:hdel(key, ...)
	return self.db:hdel(self.prefix .. key, ...)
end

-- All fields as a table field -> value ({} for a missing key).
function S:hgetall(key)
	local flat = self.db:hgetall(self.prefix .. key)
	local t = {}
	for i = 1, #flat, 2 do
		t[flat[i]] = flat[i + 1]
	end
	return t
end

function S:hincr(key, field, n)
	return self.db:hincrby(self.prefix .. key, field, n or 1)
end

-- sets

function S:sadd(key, ...)
	return self.db:sadd(self.prefix .. key, ...)
end

function S:srem(key, ...)
	return self.db:srem(self.prefix .. key, ...)
end

-- Members in no particular order.
function S:smembers(key)
	return self.db:smembers(self.prefix .. key)
end

function S:sismember(key, member)
	return self.db:sismember(self.prefix .. key, member)
end

function S:scard(key)
	return self.db:scard(self.prefix .. key)
end

-- lists (indexes as in Redis: 0-based, negatives count from the end, ranges inclusive)

function S:lpush(key, ...)
	return self.db:lpush(self.prefix .. key, ...)
end

function S:rpush(key, ...)
	return self.db:rpush(self.prefix .. key, ...)
end

function S:ltrim(key, start, stop)
	self.db:ltrim(self.prefix .. key, start, stop)
	return true
end

function S:lrange(key, start, stop)
	return self.db:lrange(self.prefix .. key, start, stop)
end

function S:llen(key)
	return self.db:llen(self.prefix .. key)
end

-- publish / subscribe

-- Returns how many subscribers received the message.
function S:publish(channel, msg)
	return self.db:publish(self.prefix .. channel, msg)
end

local function open_watch(self)
	if self.backend == "redis" then
		return require("skynet.db.redis").watch(self.conf)
	end
	return require("skynet.db.memory").watch()
end

-- One watch per store object; a forked loop calls handler(msg, channel[, pattern]) in order.
-- A lost Redis link is logged, and the loop resumes once the watch has redialed.
local function watcher(self)
	if self.watch then
		return self.watch
	end
	local w = open_watch(self)
	self.watch = w
	local plen = #self.prefix
	skynet.fork(function()
		local down = false
		while self.watch == w do
			local ok, msg, channel, pattern = pcall(w.message, w)
			if self.watch ~= w then
				break
			end
			if ok then
				down = false
				local f = pattern and self.phandlers[pattern] or self.handlers[channel]
				if f then
					local hok, err = pcall(f, msg, channel:sub(plen + 1), pattern and pattern:sub(plen + 1))
					if not hok then
						skynet.error("store subscriber error: " .. tostring(err))
					end
				end
			else
				if not down then
					skynet.error("store watch: " .. tostring(msg))
					down = true
				end
				skynet.sleep(50)
			end
		end
	end)
	return w
end

local Sub = {}
Sub.__index = Sub

-- Stop this subscription.
function Sub:unsubscribe()
	local s, name = self.store, self.name
	if self.pattern then
		if s.phandlers[name] == self.handler then
			s.phandlers[name] = nil
			s.watch:punsubscribe(name)
		end
	elseif s.handlers[name] == self.handler then
		s.handlers[name] = nil
		s.watch:unsubscribe(name)
	end
end

-- Call handler(msg, channel) for every message published to `channel`.
function S:subscribe(channel, handler)
	local w = watcher(self)
	local name = self.prefix .. channel
	self.handlers[name] = handler
	w:subscribe(name)
	return setmetatable({ store = self, name = name, handler = handler }, Sub)
end

-- Call handler(msg, channel, pattern) for messages to channels matching a glob pattern.
function S:psubscribe(pattern, handler)
	local w = watcher(self)
	local name = self.prefix .. pattern
	self.phandlers[name] = handler
	w:psubscribe(name)
	return setmetatable({ store = self, name = name, handler = handler, pattern = true }, Sub)
end

function S:close()
	local w = self.watch
	self.watch = nil
	if w then
		w:disconnect()
	end
	self.db:disconnect()
end

return store
