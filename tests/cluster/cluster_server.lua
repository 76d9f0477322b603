-- Serves the cluster tests on nodes b and c: "@echo" answers, "@ctl" stops this node.
local skynet = require "skynet"
require "skynet.manager"
local cluster = require "skynet.cluster"

skynet.start(function()
	local me = skynet.getenv "nodename"
	local echo = skynet.newservice("svc_echo", me)
	skynet.name(".echo_local", echo)
	cluster.register("echo", echo)
	local ctl = skynet.newservice("cluster_ctl")
	cluster.register("ctl", ctl)
	cluster.open(me)
	print("CLUSTER READY " .. me)
	io.stdout:flush()
end)
