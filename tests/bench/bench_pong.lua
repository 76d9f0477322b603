-- Echo peer for the benchmarks.
local skynet = require "skynet"
local count = 0
skynet.start(function()
	skynet.dispatch("lua", function(session, source, v)
		if session == 0 then
			count = count + 1
		elseif v == "count" then
			skynet.ret(skynet.pack(count))
		else
			skynet.ret(skynet.pack(v))
		end
	end)
end)
