-- The online-store suite (lualib/store.lua). The same cases run against the in-process store
-- and Redis, which is what keeps the two backends' behaviour the same.

local skynet = require "skynet"
local T = require "testing"
local store = require "store"
local env = require "env"

local function sorted(t)
	table.sort(t)
	return t
end

return function(backend)
	local conf = { backend = backend, host = env.redis_host, port = env.redis_port }
	local s

	T.case("strings and counters", function()
		T.eq(s:get("missing"), nil)
		T.eq(s:set("k", "v"), true)
		T.eq(s:get("k"), "v")
		s:set("n", 42)
		T.eq(s:get("n"), "42", "numbers are stored as strings")
		s:set("f", 1.5)
		T.eq(s:get("f"), "1.5")
		T.eq(s:incr("c"), 1)
		T.eq(s:incr("c", 5), 6)
		T.eq(math.type(s:incr("c", -2)), "integer")
		T.eq(s:get("c"), "4")
		T.eq(s:exists("k"), true)
		T.eq(s:exists("missing"), false)
		T.eq(s:del("k", "n", "missing"), 2)
		T.eq(s:get("k"), nil)
		T.raises(function() s:set("b", true) end, "argument #2 is a boolean")
	end)

	T.case("hashes", function()
		T.eq(s:hset("h", "a", 1), 1)
		T.eq(s:hset("h", "a", 2), 0)
		T.eq(s:hset("h", { b = "x", c = 3 }), 2)
		T.eq(s:hset("h", {}), 0)
		T.eq(s:hget("h", "a"), "2")
		T.eq(s:hget("h", "zz"), nil)
		T.same(s:hgetall("h"), { a = "2", b = "x", c = "3" })
		T.eq(s:hincr("h", "c", 10), 13)
		T.eq(s:hincr("h", "new"), 1)
		T.eq(s:hdel("h", "a", "b", "nope"), 2)
		T.same(s:hgetall("h"), { c = "13", new = "1" })
		T.same(s:hgetall("missing"), {})
		T.eq(s:hdel("h", "c", "new"), 2)
		T.eq(s:exists("h"), false, "an emptied hash is gone")
	end)

	T.case("sets", function()
		T.eq(s:sadd("s", "a", "b", "a"), 2)
		T.eq(s:sadd("s", "c"), 1)
		T.eq(s:sismember("s", "a"), true)
		T.eq(s:sismember("s", "z"), false)
		T.same(sorted(s:smembers("s")), { "a", "b", "c" })
		T.eq(s:scard("s"), 3)
		T.eq(s:srem("s", "a", "z"), 1)
		T.same(sorted(s:smembers("s")), { "b", "c" })
		T.same(s:smembers("missing"), {})
		s:sadd("nums", 1, 2)
		T.eq(s:sismember("nums", 2), true)
	end)

	T.case("lists", function()
		T.eq(s:rpush("l", "a", "b"), 2)
		T.eq(s:lpush("l", "z"), 3)
		T.eq(s:rpush("l", "c", "d", "e"), 6)
		T.same(s:lrange("l", 0, -1), { "z", "a", "b", "c", "d", "e" })
		T.same(s:lrange("l", -2, -1), { "d", "e" })
		T.same(s:lrange("l", 4, 100), { "d", "e" })
		T.same(s:lrange("l", 10, 20), {})
		T.eq(s:ltrim("l", -3, -1), true)
		T.same(s:lrange("l", 0, -1), { "c", "d", "e" })
		T.eq(s:llen("l"), 3)
		T.eq(s:ltrim("l", 5, 10), true)
		T.eq(s:llen("l"), 0)
		T.same(s:lrange("missing", 0, -1), {})
	end)

	T.case("expiry", function()
		T.eq(s:expire("missing", 10), false)
		s:set("e", "v")
		T.eq(s:ttl("e"), -1)
		T.eq(s:expire("e", 100), true)
		local ttl = s:ttl("e")
		T.ok(ttl > 90 and ttl <= 100, "ttl near 100, got " .. ttl)
		T.eq(s:ttl("missing"), -2)
		s:set("short", "v", 1)
		s:hset("hshort", "f", "v")
		s:expire("hshort", 1)
		env.eventually(function() return s:get("short") == nil and not s:exists("hshort") end, 3, "keys to expire")
		T.eq(s:ttl("short"), -2)
	end)

	T.case("errors carry the Redis message", function()
		s:set("str", "x")
		T.raises(function() s:hget("str", "f") end, "WRONGTYPE Operation against a key holding the wrong kind of value")
		T.raises(function() s:rpush("str", "x") end, "WRONGTYPE")
		T.raises(function() s:incr("str") end, "ERR value is not an integer or out of range")
		s:hset("hh", "f", "x")
		T.raises(function() s:hincr("hh", "f") end, "ERR hash value is not an integer")
	end)

	T.case("publish and subscribe", function()
		local got = {}
		local sub = s:subscribe("chat", function(msg, channel) got[#got + 1] = channel .. "=" .. msg end)
		local psub = s:psubscribe("room.*", function(msg, channel, pattern)
			got[#got + 1] = pattern .. ">" .. channel .. "=" .. msg
		end)
		T.eq(s:publish("chat", "hi"), 1)
		T.eq(s:publish("room.7", "go"), 1)
		T.eq(s:publish("nobody", "x"), 0)
		env.eventually(function() return #got == 2 end, 5, "two messages")
		T.same(got, { "chat=hi", "room.*>room.7=go" })
		sub:unsubscribe()
		psub:unsubscribe()
		T.eq(s:publish("chat", "again"), 0)
		T.eq(s:publish("room.1", "again"), 0)
	end)

	T.case("another service sees the same data", function()
		s:hset("shared", "from", "suite")
		local peer = skynet.newservice("store_peer")
		local v = skynet.call(peer, "lua", "hget", conf, s.prefix .. "shared", "from")
		T.eq(v, "suite")
		local got
		s:subscribe("to_suite", function(msg) got = msg end)
		T.eq(skynet.call(peer, "lua", "publish", conf, s.prefix .. "to_suite", "hello"), 1)
		env.eventually(function() return got end, 5, "the peer's message")
		T.eq(got, "hello")
		skynet.send(peer, "lua", "exit")
	end)

	T.case("cleanup", function()
		local raw = s.db
		local left = raw:keys(s.prefix .. "*")
		if #left > 0 then
			raw:del(left)
		end
		T.same(raw:keys(s.prefix .. "*"), {})
		s:close()
	end)

	T.start(function()
		conf.prefix = "cirrus:test:" .. env.tag() .. ":"
		s = store.open(conf)
	end)
end
