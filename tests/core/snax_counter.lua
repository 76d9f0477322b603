-- A snax service for test_compat: a counter with a post, requests, init/exit and a hotfix hook.
local skynet = require "skynet"

local count = 0
local name

function init(n, start)
	name = n
	count = start or 0
end

function accept.add(n)
	count = count + n
end

function response.get()
	return name, count
end

function response.sleepy(ti)
	skynet.sleep(ti)
	return ti
end

function exit(reason)
	skynet.error("snax_counter exit: " .. tostring(reason))
end
