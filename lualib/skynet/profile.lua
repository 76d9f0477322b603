-- skynet.profile: CPU time a coroutine spends running between profile.start() and
-- profile.stop(), in seconds, as skynet counts it: the worker thread's CPU clock, with the
-- time the coroutine is suspended left out: skynet's dispatcher keeps the books for the
-- coroutines it resumes (skynet.lua), profile.resume / profile.wrap for one's own.
local skynet = require "skynet"
local c = require "skynet.core"

local profile = {}
local books = skynet._profiling
local start_time, total_time = books.start, books.total
local now = c.thread_time

function profile.start(co)
	co = co or coroutine.running()
	if start_time[co] then
		error(string.format("Thread %s start profile more than once", tostring(co)))
	end
	total_time[co] = 0
	start_time[co] = now()
	books.active = books.active + 1
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
	books.active = books.active - 1
	return total
end

local cresume = coroutine.resume

-- coroutine.resume that counts only the time `co` runs (for coroutines of one's own)
function profile.resume(co, ...)
	local function after(...)
		local t = start_time[co]
		if t then
			total_time[co] = total_time[co] + (now() - t)
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
