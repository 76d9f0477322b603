-- Call ping-pong between two services: prints round trips/s.
local skynet = require "skynet"
require "skynet.manager"
local N = tonumber(skynet.getenv "bench_n") or 200000

skynet.start(function()
	local pong = skynet.newservice("bench_pong")
	for i = 1, 1000 do skynet.call(pong, "lua", i) end -- warm up
	local t0 = skynet.hpc()
	for i = 1, N do
		skynet.call(pong, "lua", i)
	end
	local s = (skynet.hpc() - t0) / 1e9
	print(string.format("BENCH pingpong %d round trips in %.3f s = %.0f round trips/s", N, s, N / s))
	skynet.abort()
end)
