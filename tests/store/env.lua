-- Server addresses for the store tests, from the environment (defaults: local servers as
-- started by tests/ensure_services.sh), and a per-run tag for unique keys, tables and names.

local skynet = require "skynet"

local env = {}

env.redis_host = os.getenv "CIRRUS_TEST_REDIS_HOST" or "127.0.0.1"
env.redis_port = tonumber(os.getenv "CIRRUS_TEST_REDIS_PORT") or 6379
env.mysql_url = os.getenv "CIRRUS_TEST_MYSQL_URL" or "mysql://root@127.0.0.1:3306/test"
env.postgres_url = os.getenv "CIRRUS_TEST_POSTGRES_URL" or "postgres://postgres@127.0.0.1/test"

-- Unique enough across concurrent runs on one machine: time, service address and randomness.
function env.tag()
	return string.format("%x%x%04x", os.time(), skynet.self(), math.random(0, 0xffff))
end

-- Poll `f` every 10 ms until it returns a truthy value or `seconds` pass.
function env.eventually(f, seconds, what)
	local deadline = skynet.now() + math.floor((seconds or 5) * 100)
	repeat
		local v = f()
		if v then
			return v
		end
		skynet.sleep(1)
	until skynet.now() > deadline
	error("timed out waiting for " .. (what or "a condition"), 2)
end

return env
