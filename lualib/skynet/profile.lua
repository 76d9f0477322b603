-- skynet.profile: time spent in a coroutine between profile.start() and profile.stop(),
-- in seconds. skynet counts the thread's CPU time with the coroutine's yields left out; here
-- the clock is the node's monotonic high-resolution counter (skynet.hpc), and time is left
-- out while a coroutine profiled with start(co) is suspended under profile.resume / wrap.
local c = require "skynet.core"

local profile = {}
local start_time = setmetatable({}, { __mode = "k" }) -- co -> when it last started running
local total_time = setmetatable({}, { __mode = "k" }) -- co -> seconds counted so far

local function now()
	return c.hpc() / 1e9
end

function profile.start(co)
	co = co or coroutine.running()
	if start_time[co] then
		error(string.format("Thread %s start profile more than once", tostring(co)))
	end
	total_time[co] = 0
	start_time[co] = now()
end

function profile.stop(co)
	co = co or coroutine.running()
	local t = start_time[co]
	if not t then
		error "Call profile.start() before profile.stop()"
	end
	local total = total_time[co] + (now() - t)
	start_time[co] = nil
	total_time[co] = nil
	return total
end

local cresume = coroutine.resume

-- coroutine.resume that counts only the time `co` runs
function profile.resume(co, ...)
	local function after(...)
		if start_time[co] then
			total_time[co] = total_time[co] + (now() - start_time[co])
		end
		return ...
	end
	if start_time[co] then
		start_time[co] = now()
	end
	return after(cresume(co, ...))
end

function profile.wrap(f)
	local co = coroutine.create(f)
	return function(...)
		local function check(ok, ...)
			if not ok then
				local err = ...
				if coroutine.status(co) == "dead" then
					coroutine.close(co)
				end
				error(err, 0)
			end
			return ...
		end
		return check(profile.resume(co, ...))
	end
end

return profile
