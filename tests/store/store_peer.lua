-- Helper for store_suite: another service using the store with a given conf (raw keys).
local skynet = require "skynet"
local store = require "store"

skynet.start(function()
	skynet.dispatch("lua", function(_, _, cmd, conf, key, ...)
		if cmd == "exit" then
			skynet.exit()
		elseif cmd == "ping" then
			return skynet.retpack("pong")
		end
		local s = store.open({ backend = conf.backend, host = conf.host, port = conf.port })
		local r
		if cmd == "hget" then
			r = s:hget(key, ...)
		elseif cmd == "publish" then
			r = s:publish(key, ...)
		end
		s:close()
		skynet.retpack(r)
	end)
end)
