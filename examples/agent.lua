-- agent: the example echo agent. Each PTYPE_CLIENT message from the gate is one frame
-- (session = fd); it is sent back framed. The frame "quit" asks the watchdog to close.
-- Per connection: start{gate, client, watchdog} (skynet's pattern; the agent calls forward).
-- Shared: serve{gate, watchdog} and the watchdog forwards connections here.

local skynet = require "skynet"
local socket = require "skynet.socket"

local WATCHDOG
local client_fd

local CMD = {}

skynet.register_protocol {
	name = "client",
	id = skynet.PTYPE_CLIENT,
	unpack = skynet.tostring,
	dispatch = function(fd, _, msg)
		skynet.ignoreret() -- session is fd, don't call skynet.ret
		if msg == "quit" then
			skynet.call(WATCHDOG, "lua", "close", fd)
		else
			socket.sendframe(fd, msg)
		end
	end,
}

function CMD.start(conf)
	WATCHDOG = conf.watchdog
	client_fd = conf.client
	skynet.call(conf.gate, "lua", "forward", client_fd)
end

function CMD.serve(conf)
	WATCHDOG = conf.watchdog
end

function CMD.disconnect()
	skynet.exit()
end

skynet.start(function()
	skynet.dispatch("lua", function(_, _, command, ...)
		local f = CMD[command]
		skynet.ret(skynet.pack(f(...)))
	end)
end)
