-- Coroutine-level API: sleep/wakeup, wait, timeout order, fork, yield, queue, skynet.coroutine.
local skynet = require "skynet"
local queue = require "skynet.queue"
local skynetco = require "skynet.coroutine"
local T = require "testing"

T.case("wait and wakeup", function()
	local token = {}
	local woke = false
	skynet.fork(function()
		skynet.wait(token)
		woke = true
	end)
	skynet.yield()
	T.eq(woke, false)
	T.eq(skynet.wakeup(token), true)
	skynet.yield()
	T.eq(woke, true)
	T.eq(skynet.wakeup(token), nil, "waking a token nobody waits on")
end)

T.case("sleep returns BREAK when woken early", function()
	local co_token = {}
	local r, elapsed
	skynet.fork(function()
		local t0 = skynet.now()
		r = skynet.sleep(500, co_token)
		elapsed = skynet.now() - t0
	end)
	skynet.sleep(2)
	skynet.wakeup(co_token)
	skynet.sleep(2)
	T.eq(r, "BREAK")
	T.ok(elapsed < 100, "woke early, elapsed " .. tostring(elapsed))
	T.eq(skynet.sleep(1), nil, "a plain sleep returns nothing")
end)

T.case("timeouts fire in deadline order, ties in insertion order", function()
	local order = {}
	skynet.timeout(30, function() order[#order + 1] = "c30" end)
	skynet.timeout(10, function() order[#order + 1] = "a10" end)
	skynet.timeout(20, function() order[#order + 1] = "b20" end)
	skynet.timeout(10, function() order[#order + 1] = "a10bis" end)
	skynet.timeout(0, function() order[#order + 1] = "zero" end)
	skynet.sleep(45)
	T.same(order, { "zero", "a10", "a10bis", "b20", "c30" })
end)

T.case("timeout takes about the asked centiseconds", function()
	local t0 = skynet.hpc()
	skynet.sleep(20)
	local ms = (skynet.hpc() - t0) / 1e6
	T.ok(ms >= 195 and ms < 400, "slept " .. ms .. " ms")
end)

T.case("fork runs after the current message, with arguments", function()
	local seen = {}
	skynet.fork(function(a, b) seen[#seen + 1] = a + b end, 2, 3)
	skynet.fork(function() seen[#seen + 1] = "second" end)
	T.eq(#seen, 0)
	skynet.yield()
	T.same(seen, { 5, "second" })
end)

T.case("queue runs critical sections one at a time in order", function()
	local cs = queue()
	local inside, max_inside, log = 0, 0, {}
	local function work(i)
		inside = inside + 1
		if inside > max_inside then max_inside = inside end
		skynet.sleep(1)
		log[#log + 1] = i
		inside = inside - 1
	end
	local done = 0
	for i = 1, 5 do
		skynet.fork(function()
			cs(work, i)
			done = done + 1
		end)
	end
	while done < 5 do skynet.sleep(1) end
	T.eq(max_inside, 1, "mutual exclusion")
	T.same(log, { 1, 2, 3, 4, 5 })
	-- re-entry from the running coroutine is allowed
	T.eq(cs(function() return cs(function() return "nested" end) end), "nested")
	-- an error inside releases the queue
	T.raises(function() cs(error, "inside queue") end, "inside queue")
	T.eq(cs(function() return "after error" end), "after error")
end)

T.case("skynet.coroutine yields to its resumer while skynet calls pass through", function()
	local co = skynetco.create(function(a)
		local b = skynetco.yield(a + 1)
		skynet.sleep(1) -- a framework yield inside a user coroutine
		return b * 2
	end)
	local ok, v = skynetco.resume(co, 1)
	T.eq(ok, true); T.eq(v, 2)
	ok, v = skynetco.resume(co, 21)
	T.eq(ok, true); T.eq(v, 42)
	T.eq(skynetco.status(co), "dead")
	local gen = skynetco.wrap(function() for i = 1, 3 do skynetco.yield(i) end end)
	T.eq(gen(), 1); T.eq(gen(), 2); T.eq(gen(), 3)
end)

T.case("task counts suspended sessions", function()
	local before = skynet.task()
	local token = {}
	skynet.fork(function() skynet.wait(token) end)
	skynet.yield()
	T.eq(skynet.task(), before + 1)
	skynet.wakeup(token)
	skynet.yield()
	T.eq(skynet.task(), before)
end)

-- Closures over many locals of one frame, as a module's main chunk makes them: the vendored
-- Lua finds open upvalues through a per-thread cache (vendor/README.md), which must give
-- every closure the same variable, forget it when it closes, and work again in a coroutine
-- that reuses the same stack slots.
T.case("closures over many locals share and close their upvalues", function()
	local function frame(base)
		local v1, v2, v3, v4, v5, v6, v7, v8, v9, v10 = 1, 2, 3, 4, 5, 6, 7, 8, 9, 10
		local v11, v12, v13, v14, v15, v16, v17, v18, v19, v20 = 11, 12, 13, 14, 15, 16, 17, 18, 19, 20
		local get, set = {}, {}
		-- captured from the top down and again from the bottom up, so that finding the
		-- early locals walks past every later one
		get[20] = function() return v20 end get[1] = function() return v1 end
		get[19] = function() return v19 end get[2] = function() return v2 end
		get[18] = function() return v18 end get[3] = function() return v3 end
		get[17] = function() return v17 end get[4] = function() return v4 end
		get[16] = function() return v16 end get[5] = function() return v5 end
		get[15] = function() return v15 end get[6] = function() return v6 end
		get[14] = function() return v14 end get[7] = function() return v7 end
		get[13] = function() return v13 end get[8] = function() return v8 end
		get[12] = function() return v12 end get[9] = function() return v9 end
		get[11] = function() return v11 end get[10] = function() return v10 end
		set[1] = function(x) v1 = x end set[2] = function(x) v2 = x end
		set[10] = function(x) v10 = x end set[20] = function(x) v20 = x end
		local function sum()
			return v1 + v2 + v3 + v4 + v5 + v6 + v7 + v8 + v9 + v10
				+ v11 + v12 + v13 + v14 + v15 + v16 + v17 + v18 + v19 + v20
		end
		set[1](base) set[10](base + 10) set[20](base + 20)
		T.eq(get[1](), base) T.eq(get[10](), base + 10) T.eq(get[20](), base + 20)
		v2 = base + 2
		T.eq(get[2](), base + 2, "a write in the frame is seen by the closure")
		return get, set, sum
	end
	local get, set, sum = frame(100)
	-- closed now: each closure keeps its own copy, still shared between getter and setter
	T.eq(sum(), 100 + 102 + 3 + 4 + 5 + 6 + 7 + 8 + 9 + 110 + 11 + 12 + 13 + 14 + 15 + 16 + 17 + 18 + 19 + 120)
	set[20](7)
	T.eq(get[20](), 7)
	local get2 = frame(200)
	T.eq(get2[1](), 200, "a new frame on the same stack slots gets new variables")
	T.eq(get[1](), 100, "and leaves the closed ones alone")
	local co = coroutine.wrap(function()
		local g = frame(300)
		coroutine.yield(g[10]())
		local g2 = frame(400)
		return g[10]() + g2[10]()
	end)
	T.eq(co(), 310)
	T.eq(co(), 310 + 410)
end)

T.start()
