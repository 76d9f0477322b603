-- An idle service for the spawn benchmark.
local skynet = require "skynet"
skynet.start(function()
	skynet.dispatch("lua", function() skynet.ret() end)
end)
