-- Helper: an agent decoding client packets (PTYPE_CLIENT) with sproto, straight from the
-- (pointer, size) message as skynet agents do.
local skynet = require "skynet"
local sprotoloader = require "sprotoloader"

local host, last

skynet.register_protocol {
	name = "client",
	id = skynet.PTYPE_CLIENT,
	unpack = function(msg, sz)
		return host:dispatch(msg, sz)
	end,
	dispatch = function(_, _, kind, name, args, response)
		last = { kind = kind, name = name, args = args, reply = response and response({ code = 0, server_nonce = "n1", salt = "s1" }) }
	end,
}

skynet.start(function()
	host = sprotoloader.load(1):host "package"
	skynet.dispatch("lua", function() skynet.ret(skynet.pack(last)) end)
end)
