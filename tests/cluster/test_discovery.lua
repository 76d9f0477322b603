-- Discovery through Redis: nodes b and c announce themselves; a finds them, sees c leave and
-- come back on a new port, and drops b when its heartbeat stops.
local skynet = require "skynet"
local cluster = require "skynet.cluster"
local T = require "testing"

local function wait_for(node, want)
	for _ = 1, 150 do
		local ok = pcall(cluster.call, node, "@ctl", "whoami")
		if ok == want then return true end
		skynet.sleep(10)
	end
	error("node " .. node .. (want and " never came up" or " never went away"))
end

T.case("nodes find each other through redis", function()
	cluster.open("a")
	wait_for("b", true); wait_for("c", true)
	T.eq(cluster.call("b", "@echo", "echo", "found b"), "found b")
	T.eq(cluster.call("c", "@echo", "echo", "found c"), "found c")
	local mine = skynet.newservice("svc_echo")
	cluster.register("a_echo", mine)
	T.eq(cluster.call("b", "@ctl", "callback", "a", "@a_echo", "x"), "x", "b reaches a through the registry")
	local nodes = cluster.nodes()
	T.ok(nodes.a and nodes.b and nodes.c, "table has a, b, c")
end)

T.case("a node that stops leaves at once; restarted elsewhere it is found again", function()
	local old = cluster.nodes().c
	cluster.send("c", "@ctl", "abort")
	wait_for("c", false)
	T.raises(function() cluster.call("c", "@echo", "echo", 1) end, "cluster node c")
	-- the harness restarts c, on a new port
	wait_for("c", true)
	T.ok(cluster.nodes().c ~= old, "c moved from " .. old)
	T.eq(cluster.call("c", "@echo", "echo", "c again"), "c again")
end)

T.case("a node whose heartbeat stops is dropped", function()
	cluster.send("b", "@ctl", "crash")
	local t0 = skynet.now()
	wait_for("b", false)
	skynet.sleep(250) -- past the 1.5 s TTL
	T.eq(cluster.nodes().b, nil)
	T.raises(function() cluster.call("b", "@echo", "echo", 1) end, "unknown cluster node b")
	T.ok(skynet.now() - t0 < 1000, "dropped within 10 s")
end)

T.start()
