-- One caller of the hub benchmark.
local skynet = require "skynet"
skynet.start(function()
	skynet.dispatch("lua", function(_, _, hub, n)
		for i = 1, n do skynet.call(hub, "lua", i) end
		skynet.ret(skynet.pack(true))
	end)
end)
