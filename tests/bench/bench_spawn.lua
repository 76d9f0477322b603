-- Spawn idle services: prints services/s and resident memory per idle service.
local skynet = require "skynet"
require "skynet.manager"
local N = tonumber(skynet.getenv "bench_n") or 10000

local function rss_kb()
	local f = io.open("/proc/self/status")
	local s = f:read("a")
	f:close()
	return tonumber(s:match("VmRSS:%s+(%d+)"))
end

skynet.start(function()
	collectgarbage()
	local before = rss_kb()
	local t0 = skynet.hpc()
	local list = {}
	for i = 1, N do
		list[i] = skynet.newservice("bench_idle")
	end
	local s = (skynet.hpc() - t0) / 1e9
	skynet.sleep(100)
	local after = rss_kb()
	print(string.format("BENCH spawn %d services in %.3f s = %.0f services/s; RSS +%.1f KB per idle service",
		N, s, N / s, (after - before) / N))
	skynet.abort()
end)
