-- Router node of the tier test.
local skynet = require "skynet"
local cluster = require "skynet.cluster"
skynet.start(function()
	skynet.newservice("router")
	cluster.open("router")
end)
