-- skynet.db.memory directly: the Redis-style API beyond the store interface (pipelines,
-- separate databases, KEYS, watches ending on disconnect).

local skynet = require "skynet"
local T = require "testing"
local memory = require "skynet.db.memory"
local env = require "env"

local P

T.case("pipeline follows skynet.db.redis's contract", function()
	local db = memory.connect()
	T.eq(db:pipeline { { "set", P .. "p", 1 }, { "incr", P .. "p" } }, 2)
	local resp = db:pipeline({ { "get", P .. "p" }, { "hget", P .. "p", "f" } }, {})
	T.same(resp[1], { ok = true, out = "2" })
	T.eq(resp[2].ok, false)
	T.eq(resp[2].out, "WRONGTYPE Operation against a key holding the wrong kind of value")
	T.raises(function() db:pipeline { { "hget", P .. "p", "f" } } end, "WRONGTYPE")
	db:del(P .. "p")
end)

T.case("databases are separate keyspaces", function()
	local a, b = memory.connect { db = 3 }, memory.connect { db = 4 }
	a:set(P .. "k", "in 3")
	T.eq(b:get(P .. "k"), nil)
	T.eq(memory.connect({ db = 3 }):get(P .. "k"), "in 3")
	T.same(a:keys(P .. "*"), { P .. "k" })
	T.eq(a:del(P .. "k"), 1)
end)

T.case("unknown commands and arity errors read like Redis", function()
	local db = memory.connect()
	T.raises(function() db:zadd(P .. "z", 1, "a") end, "ERR unknown command 'zadd'")
	T.raises(function() db:get() end, "ERR wrong number of arguments for 'get' command")
	T.raises(function() db:set(P .. "x", {}) end, "argument #2 is a table")
end)

T.case("a watch delivers in order and ends on disconnect", function()
	local db = memory.connect()
	local w = memory.watch()
	w:subscribe(P .. "a", P .. "b")
	w:psubscribe(P .. "p.*")
	T.eq(db:publish(P .. "a", "1"), 1)
	T.eq(db:publish(P .. "b", "2"), 1)
	T.eq(db:publish(P .. "p.x", "3"), 1)
	T.same({ w:message() }, { "1", P .. "a" })
	T.same({ w:message() }, { "2", P .. "b" })
	T.same({ w:message() }, { "3", P .. "p.x", P .. "p.*" })
	local ended
	skynet.fork(function()
		ended = select(2, pcall(w.message, w))
	end)
	skynet.yield()
	w:disconnect()
	env.eventually(function() return ended end, 5, "the pending message() to end")
	T.ok(ended:find("closed", 1, true), ended)
	T.eq(db:publish(P .. "a", "gone"), 0)
	T.raises(function() w:message() end, "disconnected")
end)

T.start(function()
	P = "cirrus:test:" .. env.tag() .. ":"
end)
