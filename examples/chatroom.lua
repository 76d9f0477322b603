-- chatroom: the example chat room. The watchdog forwards every connection here; each frame a
-- client sends is broadcast to all members as "name: text". "/nick NAME" renames.

local skynet = require "skynet"
local socket = require "skynet.socket"

local members = {} -- fd -> nickname

local function broadcast(text)
	for fd in pairs(members) do
		socket.sendframe(fd, text)
	end
end

skynet.register_protocol {
	name = "client",
	id = skynet.PTYPE_CLIENT,
	unpack = skynet.tostring,
	dispatch = function(fd, _, msg)
		skynet.ignoreret()
		local who = members[fd]
		if not who then
			return
		end
		local nick = string.match(msg, "^/nick%s+(%S+)")
		if nick then
			members[fd] = nick
			broadcast(string.format("* %s is now %s", who, nick))
		else
			broadcast(who .. ": " .. msg)
		end
	end,
}

local CMD = {}

function CMD.join(fd, addr)
	members[fd] = "guest" .. fd
	broadcast(string.format("* guest%d joined from %s", fd, addr))
end

function CMD.leave(fd)
	local who = members[fd]
	if who then
		members[fd] = nil
		broadcast(string.format("* %s left", who))
	end
end

skynet.start(function()
	skynet.dispatch("lua", function(session, _, cmd, ...)
		local f = assert(CMD[cmd])
		f(...)
		if session ~= 0 then
			skynet.ret()
		end
	end)
end)
