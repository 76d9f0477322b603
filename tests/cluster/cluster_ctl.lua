-- Control service of a test node: stop the node, or call another node on request.
local skynet = require "skynet"
require "skynet.manager"
local cluster = require "skynet.cluster"

skynet.start(function()
	skynet.dispatch("lua", function(session, source, cmd, ...)
		if cmd == "abort" then
			skynet.abort()
		elseif cmd == "crash" then
			os.exit(9) -- no goodbye: peers must notice the missing heartbeat
		elseif cmd == "callback" then
			-- call a service on another node (tests the reverse direction)
			local node, addr, v = ...
			skynet.ret(skynet.pack(cluster.call(node, addr, "echo", v)))
		elseif cmd == "whoami" then
			skynet.ret(skynet.pack(skynet.getenv "nodename"))
		end
	end)
end)
