-- A local stand-in for a remote service: lua messages sent or called here go to `address` on
-- `node` (cluster.proxy). Lua messages are mapped to the "system" protocol, which keeps them
-- as raw (msg, sz) pairs, so nothing is unpacked and repacked on the way through.

local skynet = require "skynet"
require "skynet.manager"
local cluster = require "skynet.cluster"

local node, address = ...
address = tonumber(address) or address

skynet.register_protocol {
	name = "system",
	id = skynet.PTYPE_SYSTEM,
	unpack = function(...) return ... end,
}

local forward_map = {
	[skynet.PTYPE_LUA] = skynet.PTYPE_SYSTEM,
	[skynet.PTYPE_RESPONSE] = skynet.PTYPE_RESPONSE,
}

skynet.forward_type(forward_map, function()
	skynet.dispatch("system", function(session, source, msg, sz)
		if session == 0 then
			cluster.rawsend(node, address, msg, sz)
		else
			skynet.ret(cluster.rawcall(node, address, msg, sz))
		end
	end)
end)
