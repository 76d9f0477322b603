-- Redis going away and coming back: a private redis-server on a free port
-- ($CIRRUS_TEST_REDIS_PRIVATE_PORT) is killed while connected, calls must raise at once with
-- a clear message while it is down, the node keeps running, and after a restart the same
-- connection objects work again (commands and pub/sub).

local skynet = require "skynet"
local T = require "testing"
local redis = require "skynet.db.redis"
local env = require "env"

local port = assert(tonumber(os.getenv "CIRRUS_TEST_REDIS_PRIVATE_PORT"), "CIRRUS_TEST_REDIS_PRIVATE_PORT")
local pidfile = string.format("/tmp/cirrus-test-redis-%d.pid", port)
local conf = { host = "127.0.0.1", port = port }

local function start_server()
	local ok = os.execute(string.format(
		"redis-server --port %d --bind 127.0.0.1 --save '' --appendonly no --daemonize yes --pidfile %s --logfile /dev/null",
		port, pidfile))
	assert(ok, "redis-server did not start (is it installed?)")
	return env.eventually(function()
		local ok2, db = pcall(redis.connect, conf)
		return ok2 and db
	end, 10, "the private redis-server")
end

local function stop_server()
	os.execute(string.format("kill $(cat %s 2>/dev/null) 2>/dev/null", pidfile))
	env.eventually(function()
		return not pcall(redis.connect, conf)
	end, 10, "the private redis-server to stop")
end

local db, w, probe

T.case("works while the server is up", function()
	start_server():disconnect()
	db = redis.connect(conf)
	T.eq(db:set("k", "before"), "OK")
	w = redis.watch(conf)
	w:subscribe("news")
	T.eq(db:publish("news", "one"), 1)
	T.eq(w:message(), "one")
end)

T.case("calls raise at once while the server is down", function()
	stop_server()
	-- the first call notices the dead connection; it raises instead of hanging
	local first = T.raises(function() db:get("k") end)
	T.ok(first:find("redis 127.0.0.1:" .. port, 1, true), first)
	local t0 = skynet.hpc()
	local err = T.raises(function() db:get("k") end)
	local ms = (skynet.hpc() - t0) / 1e6
	T.ok(err:find("unreachable", 1, true) and err:find("reconnecting", 1, true), err)
	T.ok(ms < 50, string.format("a call while down took %.1f ms", ms))
	T.raises(function() db:pipeline { { "get", "k" } } end, "unreachable")
	T.raises(function() db:transaction(function() end) end, "unreachable")
	-- the watch reports the loss once, then fails at once while down
	T.raises(function() w:message() end, "redis 127.0.0.1:" .. port)
	T.raises(function() w:message() end, "reconnecting")
	T.raises(function() w:subscribe("other") end, "reconnecting")
	-- the node is fine: other services still answer
	T.eq(skynet.call(probe, "lua", "ping"), "pong")
end)

T.case("the same objects reconnect after a restart", function()
	local fresh = start_server()
	fresh:disconnect()
	T.eq(env.eventually(function()
		local ok, v = pcall(db.set, db, "k", "after")
		return ok and v
	end, 10, "the connection to come back"), "OK")
	T.eq(db:get("k"), "after")
	-- the watch redials and subscribes to "news" again
	env.eventually(function() return db:publish("news", "two") == 1 end, 10, "the watch to resubscribe")
	T.eq(w:message(), "two")
	w:disconnect()
	db:disconnect()
end)

T.case("cleanup", function()
	stop_server()
	os.remove(pidfile)
end)

T.start(function()
	probe = skynet.newservice("store_peer")
end)
