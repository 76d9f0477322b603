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

T.start()
