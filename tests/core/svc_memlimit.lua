-- Helper: limited to 2 MB of Lua memory; "grow" tries to go past it.
local skynet = require "skynet"
skynet.memlimit(2 * 1024 * 1024)
skynet.start(function()
	skynet.dispatch("lua", function(_, _, cmd)
		if cmd == "grow" then
			local ok, err = pcall(function()
				local t = {}
				for i = 1, 1e7 do t[i] = string.rep("x", 64) .. i end
			end)
			collectgarbage()
			skynet.ret(skynet.pack(ok, tostring(err)))
		else
			skynet.ret(skynet.pack("alive"))
		end
	end)
end)
