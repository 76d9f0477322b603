-- skynet.db.redis against the real Redis: reply types, errors, pipelines, transactions with
-- WATCH, pub/sub, and many coroutines sharing one connection. Keys carry a per-run prefix.

local skynet = require "skynet"
local T = require "testing"
local redis = require "skynet.db.redis"
local socketchannel = require "skynet.socketchannel"
local env = require "env"

local conf = { host = env.redis_host, port = env.redis_port, db = 0 }
local db, P

local function k(name)
	return P .. name
end

T.case("replies map to Lua types", function()
	T.eq(db:ping(), "PONG")
	T.eq(db:set(k "s", "v"), "OK")
	T.eq(db:get(k "s"), "v")
	T.eq(db:get(k "missing"), nil)
	local n = db:incr(k "n")
	T.eq(n, 1)
	T.eq(math.type(n), "integer")
	T.eq(db:incrby(k "n", 41), 42)
	T.eq(db:get(k "n"), "42")
	db:rpush(k "l", "a", "b", "c")
	T.same(db:lrange(k "l", 0, -1), { "a", "b", "c" })
	db:hset(k "h", "f1", "v1")
	T.same(db:hgetall(k "h"), { "f1", "v1" })
	local mget = db:mget(k "s", k "missing", k "n")
	T.eq(mget[1], "v")
	T.eq(mget[2], nil)
	T.eq(mget[3], "42")
	T.eq(db:exists(k "s"), true)
	T.eq(db:exists(k "missing"), false)
	db:sadd(k "set", "m")
	T.eq(db:sismember(k "set", "m"), true)
	T.eq(db:sismember(k "set", "x"), false)
	T.eq(db:expire(k "s", 100), 1)
	T.eq(db:mset { k "a", 1, k "b", 2 }, "OK")
	T.eq(db:get(k "b"), "2")
	local bin = "\0\1\255 binary"
	db:set(k "bin", bin)
	T.eq(db:get(k "bin"), bin)
	T.eq(db:set(k "f", 0.1), "OK")
	T.eq(db:get(k "f"), "0.1")
end)

T.case("eval returns integers, strings and tables", function()
	T.eq(db:eval("return 7", 0), 7)
	T.eq(db:eval("return redis.call('GET', KEYS[1])", 1, k "s"), "v")
	T.same(db:eval("return {1, 'two', {3}}", 0), { 1, "two", { 3 } })
	T.raises(function() db:eval("return redis.error_reply('MYERR custom')", 0) end, "MYERR custom")
end)

T.case("errors raise with the Redis message", function()
	local err = T.raises(function() db:hget(k "s", "f") end)
	T.eq(err, "WRONGTYPE Operation against a key holding the wrong kind of value")
	T.raises(function() db:nosuchcommand("x") end, "ERR unknown command")
	T.raises(function() db:get() end, "ERR wrong number of arguments")
	T.raises(function() db:subscribe("x") end, "use redis.watch")
	T.raises(function() db:watch(k "s") end, "db:transaction") -- (db:multi() batches, see below)
	T.raises(function() db:select(1) end, "redis.connect{db = n}")
	T.raises(function() db:set(k "x", {}) end, "argument #2 is a table")
	T.eq(db:get(k "s"), "v", "the connection still works")
end)

T.case("pipeline", function()
	T.eq(db:pipeline { { "set", k "p", 1 }, { "incr", k "p" }, { "incr", k "p" } }, 3)
	local resp = db:pipeline({ { "get", k "p" }, { "hget", k "p", "f" }, { "get", k "missing" } }, {})
	T.eq(#resp, 3)
	T.same(resp[1], { ok = true, out = "3" })
	T.eq(resp[2].ok, false)
	T.eq(resp[2].out, "WRONGTYPE Operation against a key holding the wrong kind of value")
	T.same(resp[3], { ok = true })
	T.raises(function() db:pipeline { { "set", k "p", 1 }, { "hget", k "p", "f" } } end, "WRONGTYPE")
	-- MULTI/EXEC inside one pipeline is sent as one block, so it is atomic on the shared link
	local r = db:pipeline { { "multi" }, { "incr", k "p" }, { "incr", k "p" }, { "exec" } }
	T.same(r, { 2, 3 })
	T.raises(function() db:pipeline { { "watch", k "p" } } end, "db:transaction")
end)

T.case("skynet's db:multi() ... db:exec() batches commands into one MULTI/EXEC", function()
	db:set(k "ma", "a")
	T.eq(db:multi(), "OK")
	T.eq(db:get(k "ma"), "QUEUED")
	T.eq(db:set(k "mb", "b"), "QUEUED")
	T.eq(db:get(k "mb"), "QUEUED")
	local r = db:exec()
	T.eq(r[1], "a")
	T.eq(r[2], "OK")
	T.eq(r[3], "b")
	T.eq(db:get(k "mb"), "b")
	db:multi()
	db:set(k "mb", "dropped")
	db:discard()
	T.eq(db:get(k "mb"), "b")
	T.raises(function() db:exec() end, "EXEC without MULTI")
end)

T.case("transaction commits with MULTI/EXEC", function()
	local res = db:transaction(function(tx)
		T.eq(tx:multi(), "OK")
		T.eq(tx:set(k "t", 10), "QUEUED")
		T.eq(tx:incrby(k "t", 5), "QUEUED")
		return tx:exec()
	end)
	T.same(res, { "OK", 15 })
	T.eq(db:get(k "t"), "15")
end)

T.case("WATCH aborts when another client changes the key", function()
	db:set(k "bal", 100)
	local aborted = db:transaction(function(tx)
		tx:watch(k "bal")
		local bal = tonumber(tx:get(k "bal"))
		db:set(k "bal", 50) -- a concurrent writer on another connection
		tx:multi()
		tx:set(k "bal", bal - 10)
		return tx:exec()
	end)
	T.eq(aborted, nil)
	T.eq(db:get(k "bal"), "50")
	-- the optimistic retry loop succeeds once nobody interferes
	local done = db:transaction(function(tx)
		tx:watch(k "bal")
		local bal = tonumber(tx:get(k "bal"))
		tx:multi()
		tx:set(k "bal", bal - 10)
		return tx:exec()
	end)
	T.same(done, { "OK" })
	T.eq(db:get(k "bal"), "40")
end)

T.case("an error in a transaction discards it and frees the connection", function()
	T.raises(function()
		db:transaction(function(tx)
			tx:watch(k "bal")
			tx:multi()
			tx:set(k "bal", 0)
			error("boom")
		end)
	end, "boom")
	T.eq(db:get(k "bal"), "40", "nothing was executed")
	-- the pooled connection comes back clean: no MULTI, no WATCH left on it
	for _ = 1, 3 do
		local r = db:transaction(function(tx)
			tx:multi()
			tx:incr(k "clean")
			return tx:exec()
		end)
		T.eq(type(r), "table")
	end
	T.eq(db:get(k "clean"), "3")
	T.raises(function()
		local leaked
		db:transaction(function(tx) leaked = tx end)
		leaked:get(k "clean")
	end, "the transaction has finished")
end)

T.case("100 coroutines share the connection", function()
	local n, left = 100, 100
	local me = coroutine.running()
	for i = 1, n do
		skynet.fork(function()
			db:incr(k "many")
			db:set(k("each" .. i), i)
			T.eq(db:get(k("each" .. i)), tostring(i))
			left = left - 1
			if left == 0 then
				skynet.wakeup(me)
			end
		end)
	end
	skynet.wait(me)
	T.eq(db:get(k "many"), "100")
end)

T.case("watch: subscribe, psubscribe, message", function()
	local w = redis.watch(conf)
	w:subscribe(k "chan")
	w:psubscribe(k "room.*")
	T.eq(db:publish(k "chan", "hello"), 1)
	T.eq(db:publish(k "room.9", "hi"), 1)
	local data, channel, pattern = w:message()
	T.eq(data, "hello")
	T.eq(channel, k "chan")
	T.eq(pattern, nil)
	data, channel, pattern = w:message()
	T.eq(data, "hi")
	T.eq(channel, k "room.9")
	T.eq(pattern, k "room.*")
	w:unsubscribe(k "chan")
	T.eq(db:publish(k "chan", "gone"), 0)
	w:disconnect()
	T.raises(function() w:message() end, "disconnected")
end)

T.case("connect to a wrong port fails at once, as on skynet", function()
	local t0 = skynet.now()
	-- skynet's socketchannel raises its error object (the reason goes to the log)
	local err = T.raises(function() redis.connect { host = "127.0.0.1", port = 1 } end)
	T.eq(err, socketchannel.error)
	T.eq(tostring(err), "[Error: socket]")
	T.eq(T.raises(function() redis.watch { host = "127.0.0.1", port = 1 } end), socketchannel.error)
	T.ok(skynet.now() - t0 < 100, "took " .. (skynet.now() - t0) .. " cs")
end)

T.case("a refused AUTH fails the connect as on skynet", function()
	local err = T.raises(function()
		redis.connect { host = env.redis_host, port = env.redis_port, auth = "no-such-password" }
	end)
	T.eq(err, socketchannel.error)
end)

T.case("cleanup", function()
	local left = db:keys(P .. "*")
	if #left > 0 then
		db:del(left)
	end
	T.same(db:keys(P .. "*"), {})
	db:disconnect()
	T.raises(function() db:get(k "s") end, "connection closed")
end)

T.start(function()
	P = "cirrus:test:" .. env.tag() .. ":"
	db = redis.connect(conf)
end)
