-- Helper: an idle service that exits on request (spawn/exit leak test).
local skynet = require "skynet"
skynet.start(function()
	skynet.dispatch("lua", function(session, source, cmd)
		if cmd == "exit" then
			skynet.ret(skynet.pack(true))
			skynet.exit()
		else
			skynet.ret(skynet.pack(skynet.self()))
		end
	end)
end)
