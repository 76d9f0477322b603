-- A sample service: answers `greet` calls and counts them.

local skynet = require "skynet"

local count = 0
local CMD = {}

function CMD.greet(name)
	count = count + 1
	return string.format("hello, %s (#%d)", name, count)
end

function CMD.count()
	return count
end

skynet.start(function()
	skynet.dispatch("lua", function(session, source, cmd, ...)
		local f = assert(CMD[cmd], "unknown command " .. tostring(cmd))
		skynet.ret(skynet.pack(f(...)))
	end)
end)
