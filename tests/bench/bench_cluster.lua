-- Cross-node benchmarks from node a to node b (tests/bench/cluster.sh starts both):
-- call round trips/s with 1 and 100 callers, one-way sends/s with 100 B and 64 KB payloads.
local skynet = require "skynet"
require "skynet.manager"
local cluster = require "skynet.cluster"

local function wait_up()
	for _ = 1, 200 do
		if pcall(cluster.call, "b", "@sink", "count") then return end
		skynet.sleep(5)
	end
	error("node b never came up")
end

local function calls(callers, per, size)
	local payload = size and string.rep("y", size)
	local done = 0
	local t0 = skynet.hpc()
	for _ = 1, callers do
		skynet.fork(function()
			for i = 1, per do cluster.call("b", "@sink", payload or i) end
			done = done + 1
		end)
	end
	while done < callers do skynet.sleep(1) end
	local s = (skynet.hpc() - t0) / 1e9
	print(string.format("BENCH cluster call, %d caller(s), %s payload: %d calls in %.3f s = %.0f calls/s",
		callers, size and (size .. " B") or "small", callers * per, s, callers * per / s))
end

local function sends(size, n)
	local payload = string.rep("x", size)
	local before = cluster.call("b", "@sink", "count")
	local t0 = skynet.hpc()
	for i = 1, n do
		cluster.send("b", "@sink", payload)
		if i % 1000 == 0 then skynet.yield() end
	end
	-- a call after the sends returns once they have all been handled (one ordered link)
	local after = cluster.call("b", "@sink", "count")
	local s = (skynet.hpc() - t0) / 1e9
	assert(after - before == n, "sink got " .. (after - before))
	print(string.format("BENCH cluster send %d B: %d msgs in %.3f s = %.0f msgs/s (%.1f MB/s)", size, n, s, n / s, n * size / s / 1e6))
end

skynet.start(function()
	wait_up()
	calls(1, 20000)
	calls(100, 1000)
	calls(100, 20, 65536)
	sends(100, 200000)
	sends(65536, 5000)
	skynet.abort()
end)
