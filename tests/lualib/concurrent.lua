-- Benchmark helper: run `workers` coroutines that together do `total` steps; returns steps/s.
local skynet = require "skynet"

return function(workers, total, step)
	local per = total // workers
	local left = workers
	local me = coroutine.running()
	local t0 = skynet.hpc()
	for w = 1, workers do
		skynet.fork(function()
			for i = 1, per do
				step(w, i)
			end
			left = left - 1
			if left == 0 then
				skynet.wakeup(me)
			end
		end)
	end
	skynet.wait(me)
	return per * workers / ((skynet.hpc() - t0) / 1e9)
end
