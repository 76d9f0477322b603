-- Helper: skynet.forward_type maps text messages to the lua protocol; skynet.filter wraps
-- dispatch (selected by the first argument).
local skynet = require "skynet"
require "skynet.manager"

local mode = ...
local seen = {}

local function serve()
	skynet.dispatch("lua", function(session, source, cmd, ...)
		if cmd == "seen" then
			skynet.ret(skynet.pack(seen))
		else
			seen[#seen + 1] = cmd
			if session ~= 0 then skynet.ret(skynet.pack("ok " .. tostring(cmd))) end
		end
	end)
end

if mode == "forward" then
	-- text messages (type 0) are treated as lua messages (type 10)
	skynet.forward_type({ [skynet.PTYPE_TEXT] = skynet.PTYPE_LUA }, serve)
else
	skynet.filter(function(ptype, msg, sz, session, source)
		-- drop every message whose first value is "drop"
		if ptype == skynet.PTYPE_LUA then
			local first = skynet.unpack(msg, sz)
			if first == "drop" then
				local m, n = skynet.pack("dropped")
				return skynet.PTYPE_LUA, m, n, session, source
			end
		end
		return ptype, msg, sz, session, source
	end, serve)
end
