-- skynet.db.redis: Redis for Lua services, on the redis crate and the node's IO runtime.
--
--   local redis = require "skynet.db.redis"
--   local db = redis.connect{ host = "127.0.0.1", port = 6379, db = 0, auth = nil }
--   db:set("k", 1); db:get("k")              --> "1"  (any command is a method)
--   db:hgetall("h")                          --> { "f1", "v1", "f2", "v2" }
--   db:pipeline({ { "set", "a", 1 }, { "incr", "a" } })          --> 2 (the last reply)
--   db:pipeline(ops, {})                     --> { { ok = true, out = "OK" }, ... }
--   db:transaction(function(tx)              -- a dedicated connection for MULTI / WATCH
--       tx:watch("bal"); local b = tonumber(tx:get("bal"))
--       tx:multi(); tx:set("bal", b - 10)
--       return tx:exec()                     --> replies, or nil if "bal" changed meanwhile
--   end)
--   db:multi(); db:get "A"; db:get "B"; db:exec()  --> { "a", "b" } (skynet's form, one MULTI/EXEC)
--   local w = redis.watch(conf); w:subscribe("chat"); w:psubscribe("room.*")
--   local data, channel, pattern = w:message()
--
-- A call suspends only the calling coroutine; concurrent coroutines pipeline on one connection.
-- Replies: integers stay integers, status and bulk replies are strings, null is nil, arrays are
-- tables; an error reply raises with Redis's own message. When the first connection fails,
-- redis.connect and redis.watch do what skynet's socketchannel does: log
-- `Connect failed <reason> host port` (after `socket: auth failed <reply>` when the server
-- refused AUTH/SELECT) and raise socketchannel.error, which prints as "[Error: socket]".
-- Later, while Redis is unreachable, calls raise at once ("... is unreachable ...;
-- reconnecting") and the link redials in the background.
-- conf: host, port, db, auth, user, timeout (reply timeout in seconds, default 5, 0 = none),
-- connect_timeout (default 2). Blocking commands (BLPOP ...) hold the shared connection: run
-- them in a transaction, which has a connection of its own, with a suitable timeout.

local skynet = require "skynet"
local socketchannel = require "skynet.socketchannel"
local core = require "skynet.db.redis.core"
local command = require "skynet.db.command"

local await = skynet.await
local result = command.result
local tunpack = table.unpack
local tpack = table.pack

local redis = {}

-- A session, or `nil, message` when the call could not even start.
local function wait(session, err)
	if not session then
		error(err, 0)
	end
	return result(await(session))
end

local conn = {}
local meta = command.meta(function(self, name, ...)
	local queued = rawget(self, "queued")
	if queued then
		queued[#queued + 1] = tpack(name, ...)
		return "QUEUED"
	end
	return wait(self[1]:call(name, ...))
end, conn)

local txmeta = command.meta(function(self, name, ...)
	return wait(self[1]:call(name, ...))
end, {})

-- The first connection's outcome: nothing, or `kind, reason` when it failed (see above).
local function opened(conf, session)
	local kind, why = wait(session)
	if kind then
		if kind == "auth" then
			skynet.error("socket: auth failed", why)
			why = "no more backup host"
		end
		skynet.error("Connect failed", why, conf.host or "127.0.0.1", conf.port or 6379)
		error(socketchannel.error)
	end
end

function redis.connect(conf)
	conf = conf or {}
	local c, session = core.connect(conf)
	opened(conf, session)
	return setmetatable({ c }, meta)
end

-- skynet's pipeline: without `resp` returns the last reply (raising if it is an error); with
-- `resp` appends one `{ ok = bool, out = reply or message }` per op and returns `resp`.
function conn:pipeline(ops, resp)
	if resp then
		local list = wait(self[1]:pipeline(ops, true))
		for i = 1, #list do
			resp[#resp + 1] = list[i]
		end
		return resp
	end
	return wait(self[1]:pipeline(ops, false))
end

-- Run fn(tx) on a dedicated connection; returns what fn returns. MULTI/WATCH state left behind
-- (an error, or a WATCH without EXEC) is cleared before the connection is reused.
function conn:transaction(fn)
	local tx, err, session = self[1]:transaction()
	if not tx then
		error(err, 0)
	end
	wait(session)
	local r = tpack(pcall(fn, setmetatable({ tx }, txmeta)))
	tx:release()
	if not r[1] then
		error(r[2], 0)
	end
	return tunpack(r, 2, r.n)
end

-- skynet's db:multi() ... db:exec() on the shared connection: the commands in between are
-- queued (each answers "QUEUED", as Redis does) and exec runs them as one MULTI/EXEC on a
-- dedicated connection, returning the replies (or nil if it was aborted). db:discard() drops
-- them. As on skynet, commands other coroutines issue on this object meanwhile join the batch.
function conn:multi()
	assert(not rawget(self, "queued"), "MULTI calls can not be nested")
	self.queued = {}
	return "OK"
end

function conn:discard()
	assert(rawget(self, "queued"), "DISCARD without MULTI")
	self.queued = nil
	return "OK"
end

function conn:exec()
	local queued = assert(rawget(self, "queued"), "EXEC without MULTI")
	self.queued = nil
	return self:transaction(function(tx)
		tx:multi()
		for _, cmd in ipairs(queued) do
			tx[cmd[1]](tx, tunpack(cmd, 2, cmd.n))
		end
		return tx:exec()
	end)
end

function conn:disconnect()
	self[1]:disconnect()
end

local watch = {}
local watchmeta = { __index = watch }

function redis.watch(conf)
	conf = conf or {}
	local w, session = core.watch(conf)
	opened(conf, session)
	return setmetatable({ w }, watchmeta)
end

local function request(kind)
	return function(self, name, ...)
		if type(name) == "table" then
			return wait(self[1]:request(kind, tunpack(name)))
		end
		return wait(self[1]:request(kind, name, ...))
	end
end

watch.subscribe = request "subscribe"
watch.psubscribe = request "psubscribe"
watch.unsubscribe = request "unsubscribe"
watch.punsubscribe = request "punsubscribe"

-- Next message: `data, channel` or, for a pattern subscription, `data, channel, pattern`.
-- Raises once when the connection is lost (messages published meanwhile are gone), and at once
-- while it is down; after the background redial every subscription is back.
function watch:message()
	return wait(self[1]:message())
end

function watch:disconnect()
	self[1]:disconnect()
end

return redis
