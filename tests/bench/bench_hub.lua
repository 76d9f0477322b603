-- 1000 services calling one hub: prints calls/s.
local skynet = require "skynet"
require "skynet.manager"
local CALLERS = 1000
local PER = tonumber(skynet.getenv "bench_n") or 200

skynet.start(function()
	local hub = skynet.newservice("bench_pong")
	local callers = {}
	for i = 1, CALLERS do
		callers[i] = skynet.newservice("bench_hub_caller")
	end
	local t0 = skynet.hpc()
	local done = 0
	for i = 1, CALLERS do
		skynet.fork(function()
			skynet.call(callers[i], "lua", hub, PER)
			done = done + 1
		end)
	end
	while done < CALLERS do skynet.sleep(1) end
	local s = (skynet.hpc() - t0) / 1e9
	local n = CALLERS * PER
	print(string.format("BENCH hub %d callers x %d calls in %.3f s = %.0f calls/s", CALLERS, PER, s, n / s))
	skynet.abort()
end)
