-- 100,000 timeouts set at once and drained: prints seconds until the last fires.
local skynet = require "skynet"
require "skynet.manager"
local N = tonumber(skynet.getenv "bench_n") or 100000

skynet.start(function()
	local fired = 0
	local t0 = skynet.hpc()
	for i = 1, N do
		skynet.timeout(i % 100 + 1, function() fired = fired + 1 end)
	end
	local set = (skynet.hpc() - t0) / 1e9
	while fired < N do skynet.sleep(1) end
	local s = (skynet.hpc() - t0) / 1e9
	print(string.format("BENCH timer %d timeouts (1-100 cs) set in %.3f s, all fired after %.3f s (1 s of it is the longest timeout)", N, set, s))
	skynet.abort()
end)
