-- A node for the freeze/restore test (kernel/tests/lifecycle.rs): a countdown of
-- `countdown` centiseconds and a little state. SIGHUP freezes it (the freeze hook saves the
-- time left and the state); `--restore` starts the same service again, which resumes the
-- countdown with the time it had left and prints what it got back.

local skynet = require "skynet"
local flow = require "skynet.flow"

local deadline
local state = { ticks = 0, hands = { { 3, 12, 25 }, { 7, 9 } }, name = "desk 1" }

local function run_countdown()
	skynet.fork(function()
		while skynet.now() < deadline do
			skynet.sleep(math.min(10, deadline - skynet.now()))
			state.ticks = state.ticks + 1
		end
		skynet.error "COUNTDOWN DONE"
	end)
end

skynet.start(function()
	skynet.freeze(function()
		local left = deadline - skynet.now()
		skynet.error(string.format("FREEZE HOOK left=%d ticks=%d", left, state.ticks))
		return left, state
	end)
	local restored = skynet.restore(function(left, saved)
		deadline = skynet.now() + left
		state = saved
		skynet.error(string.format("RESTORED left=%d ticks=%d hands=%d,%d name=%s", left, saved.ticks,
			#saved.hands[1], #saved.hands[2], saved.name))
	end)
	if not restored then
		deadline = skynet.now() + (tonumber(skynet.getenv "countdown") or 300)
		skynet.error "FRESH START"
	end
	run_countdown()
	-- a flow open at the freeze finishes first
	skynet.fork(function()
		flow.run("short", skynet.sleep, 50)
		skynet.error "SHORT FLOW DONE"
	end)
	skynet.error "COUNTDOWN NODE READY"
end)
