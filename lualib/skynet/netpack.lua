-- skynet.netpack for agents: the 2-byte big-endian length framing of the gate.
--   socket.write(fd, netpack.pack(msg))   -- what skynet agents do; or socket.sendframe(fd, msg)
--   netpack.tostring(msg, sz)              -- a PTYPE_CLIENT message as a string
-- Deframing happens in the native gate (kernel/src/gate), so filter/pop are not needed here.

local skynet = require "skynet"

local netpack = {}

function netpack.pack(msg, sz)
	if type(msg) ~= "string" then
		msg = skynet.tostring(msg, sz)
	end
	assert(#msg <= 0xffff, "netpack.pack: message over 65535 bytes")
	return string.pack(">s2", msg)
end

-- a message as a string: (pointer, size) from a PTYPE_CLIENT message, or a frame that
-- snax.gateserver already hands over as a string
function netpack.tostring(msg, sz)
	if type(msg) == "string" then
		return msg
	end
	return skynet.tostring(msg, sz)
end

return netpack
