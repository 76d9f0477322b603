-- Node b of the cluster benchmark: "@sink" counts sends and answers calls.
local skynet = require "skynet"
local cluster = require "skynet.cluster"
skynet.start(function()
	local sink = skynet.newservice("bench_pong")
	cluster.register("sink", sink)
	cluster.open("b")
end)
