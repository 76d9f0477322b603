-- One-way sends from one service to another: prints msgs/s (time until the receiver has
-- handled them all).
local skynet = require "skynet"
require "skynet.manager"
local N = tonumber(skynet.getenv "bench_n") or 1000000

skynet.start(function()
	local sink = skynet.newservice("bench_pong")
	local t0 = skynet.hpc()
	local batch = 10000
	for i = 1, N, batch do
		for j = 1, batch do
			skynet.send(sink, "lua", j)
		end
		skynet.yield()
	end
	local got = skynet.call(sink, "lua", "count")
	local s = (skynet.hpc() - t0) / 1e9
	assert(got == N, "sink got " .. tostring(got))
	print(string.format("BENCH send %d msgs in %.3f s = %.0f msgs/s", N, s, N / s))
	skynet.abort()
end)
