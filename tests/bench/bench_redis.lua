-- Redis from one Lua service: SET/GET round trips per second with 1 coroutine, with 100
-- coroutines sharing the connection, and pipelined. Server: $CIRRUS_BENCH_REDIS_HOST/PORT
-- (default 127.0.0.1:6379), keys under cirrus:bench:.
local skynet = require "skynet"
require "skynet.manager"
local redis = require "skynet.db.redis"

local N = tonumber(skynet.getenv "bench_n") or 200000
local conf = {
	host = os.getenv "CIRRUS_BENCH_REDIS_HOST" or "127.0.0.1",
	port = tonumber(os.getenv "CIRRUS_BENCH_REDIS_PORT") or 6379,
}

local run = require "concurrent"

skynet.start(function()
	local db = redis.connect(conf)
	local function setget(w, i)
		local key = "cirrus:bench:" .. w
		if i % 2 == 1 then
			db:set(key, i)
		else
			db:get(key)
		end
	end
	run(10, 20000, setget) -- warm up
	print(string.format("BENCH redis SET/GET 1 coroutine: %.0f ops/s", run(1, N // 10, setget)))
	print(string.format("BENCH redis SET/GET 100 coroutines: %.0f ops/s", run(100, N, setget)))
	for _, size in ipairs { 100, 1000 } do
		local ops = {}
		for i = 1, size do
			ops[i] = i % 2 == 1 and { "set", "cirrus:bench:p" .. i, i } or { "get", "cirrus:bench:p" .. (i - 1) }
		end
		local rate = run(1, N // size, function() db:pipeline(ops) end) * size
		print(string.format("BENCH redis pipelined SET/GET (%d per pipeline, 1 coroutine): %.0f ops/s", size, rate))
		rate = run(10, N // size, function() db:pipeline(ops) end) * size
		print(string.format("BENCH redis pipelined SET/GET (%d per pipeline, 10 coroutines): %.0f ops/s", size, rate))
	end
	db:del(db:keys "cirrus:bench:*")
	skynet.abort()
end)
