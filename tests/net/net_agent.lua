-- Echo agent for the gate tests, with commands a client can send as a frame:
--   "kick"        the watchdog kicks this connection
--   "flood N"     N frames of 60000 bytes at once (the slow-reader test does not read them)
--   "who"         replies with this agent's address (per-connection vs shared agents)
-- anything else is echoed back.

local skynet = require "skynet"
local socket = require "skynet.socket"

local WATCHDOG
local CMD = {}

skynet.register_protocol {
	name = "client",
	id = skynet.PTYPE_CLIENT,
	unpack = skynet.tostring,
	dispatch = function(fd, _, msg)
		skynet.ignoreret()
		if msg == "kick" then
			skynet.call(WATCHDOG, "lua", "close", fd)
		elseif msg == "who" then
			socket.sendframe(fd, skynet.address(skynet.self()))
		else
			local n = tonumber(string.match(msg, "^flood (%d+)$"))
			if n then
				local chunk = string.rep("f", 60000)
				for _ = 1, n do
					if not socket.sendframe(fd, chunk) then
						break
					end
				end
			else
				socket.sendframe(fd, msg)
			end
		end
	end,
}

function CMD.start(conf)
	WATCHDOG = conf.watchdog
	skynet.call(conf.gate, "lua", "forward", conf.client)
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
