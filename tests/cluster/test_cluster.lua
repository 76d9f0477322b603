-- Cluster calls from node a to nodes b and c (started by kernel/tests/cluster.rs).
local skynet = require "skynet"
local cluster = require "skynet.cluster"
local T = require "testing"

local function wait_up(node)
	for _ = 1, 100 do
		local ok = pcall(cluster.call, node, "@ctl", "whoami")
		if ok then return true end
		skynet.sleep(10)
	end
	error("node " .. node .. " never came up")
end

T.case("call and send to registered names, local names and handles", function()
	wait_up("b"); wait_up("c")
	T.eq(cluster.call("b", "@echo", "echo", "hi", 2), "hi")
	T.eq(select(2, cluster.call("b", "@echo", "echo", "hi", 2)), 2)
	T.eq(cluster.call("c", ".echo_local", "echo", "local name"), "local name")
	local h = cluster.query("b", "echo")
	T.eq(math.type(h), "integer")
	T.eq(cluster.call("b", h, "echo", "by handle"), "by handle")
	for i = 1, 100 do cluster.send("b", "@echo", "record", i) end
	local got = cluster.call("b", "@echo", "received")
	T.eq(#got, 100, "sends arrive")
	for i = 1, 100 do T.eq(got[i], i, "send order") end
end)

T.case("the other direction: b calls back into a", function()
	cluster.open("a")
	local mine = skynet.newservice("svc_echo")
	cluster.register("a_echo", mine)
	T.eq(cluster.call("b", "@ctl", "callback", "a", "@a_echo", "round trip"), "round trip")
end)

T.case("proxy gives a local address for a remote service", function()
	local p = cluster.proxy("b", "@echo")
	T.eq(skynet.call(p, "lua", "echo", "via proxy", 7), "via proxy")
	skynet.send(p, "lua", "record", "proxied send")
	local got = skynet.call(p, "lua", "received")
	T.eq(got[#got], "proxied send")
end)

T.case("large payloads cross in parts", function()
	local big = string.rep("0123456789", 100000) -- 1 MB
	T.eq(cluster.call("c", "@echo", "echo", big), big)
	local t = {}
	for i = 1, 20000 do t[i] = { id = i, name = "n" .. i } end
	local back = cluster.call("b", "@echo", "echo", t)
	T.eq(#back, 20000)
	T.eq(back[20000].name, "n20000")
end)

T.case("errors: remote raise, unknown name, unknown node", function()
	T.raises(function() cluster.call("b", "@echo", "boom", "remote-kaboom") end, "remote-kaboom")
	T.raises(function() cluster.call("b", "@nobody", "echo", 1) end, "no cluster name")
	T.raises(function() cluster.call("zz", "@echo", "echo", 1) end, "unknown cluster node zz")
	T.raises(function() cluster.query("b", "nobody") end, "not registered")
end)

T.case("a node that goes down fails calls fast; once back, calls work again", function()
	-- a call in flight when the link drops fails at once
	local inflight
	skynet.fork(function()
		local t = skynet.hpc()
		local ok, err = pcall(cluster.call, "c", "@echo", "sleep", 1000)
		inflight = { ok = ok, err = err, ms = (skynet.hpc() - t) / 1e6 }
	end)
	skynet.sleep(10)
	cluster.send("c", "@ctl", "abort")
	skynet.sleep(50)
	T.ok(inflight, "in-flight call finished")
	T.eq(inflight.ok, false)
	T.ok(string.find(inflight.err, "link dropped", 1, true), inflight.err)
	T.ok(inflight.ms < 2000, "in-flight call failed after " .. inflight.ms .. " ms")
	local t0 = skynet.hpc()
	T.raises(function() cluster.call("c", "@echo", "echo", 1) end, "cluster node c")
	local ms = (skynet.hpc() - t0) / 1e6
	T.ok(ms < 1500, "failed in " .. ms .. " ms")
	T.raises(function() cluster.call("c", "@echo", "echo", 2) end, "cluster node c")
	-- pushes made while the link is down wait for it (bounded) and arrive in order
	for i = 1, 5 do cluster.send("c", ".echo_local", "record", "queued " .. i) end
	-- the harness restarts c on the same address (after 2 s); the link reconnects by itself
	wait_up("c")
	local got = cluster.call("c", ".echo_local", "received")
	T.same(got, { "queued 1", "queued 2", "queued 3", "queued 4", "queued 5" })
	T.eq(cluster.call("c", "@echo", "echo", "back"), "back")
end)

-- After the cases above: calls to b and c went through, c's failed while it was down.
T.case("this node's /metrics counts links, calls and failures per peer", function()
	local httpc = require "http.httpc"
	local port = skynet.getenv "metrics_port"
	T.ok(port, "the harness starts node a with metrics_port")
	local status, body = httpc.get("127.0.0.1:" .. port, "/metrics")
	T.eq(status, 200)
	local function value(name, peer)
		local v = body:match("\n" .. name .. "{peer=\"" .. peer .. "\"} ([%d.e+-]+)\n")
		T.ok(v, name .. " for " .. peer .. " in:\n" .. body)
		return tonumber(v)
	end
	T.eq(value("cirrus_cluster_link_up", "b"), 1)
	T.eq(value("cirrus_cluster_link_up", "c"), 1, "c is back")
	T.ok(value("cirrus_cluster_calls_total", "b") >= 7, "calls to b")
	-- remote raise, unknown name, query of an unregistered name (+ wait_up tries before b was up)
	T.ok(value("cirrus_cluster_call_failures_total", "b") >= 3, "failed calls to b")
	T.ok(value("cirrus_cluster_call_failures_total", "c") >= 3, "calls to c while it was down")
	T.ok(value("cirrus_cluster_sends_total", "b") >= 100, "sends to b")
	T.eq(value("cirrus_cluster_sends_total", "c"), 6, "abort + five queued")
end)

T.start()
