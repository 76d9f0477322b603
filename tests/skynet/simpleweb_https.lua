-- examples/simpleweb.lua's main with protocol "https" (skynet's main fixes "http"): agents
-- `simpleweb agent https` from the skynet tree, unmodified, serve the connections of port 8001.
-- The certificate: config certfile / keyfile (tests/skynet/config.tls.lua).
local skynet = require "skynet"
local socket = require "skynet.socket"

skynet.start(function()
	local agent = {}
	for i = 1, 4 do
		agent[i] = skynet.newservice("simpleweb", "agent", "https")
	end
	local balance = 1
	local id = socket.listen("0.0.0.0", 8001)
	skynet.error "Listen web port 8001 protocol:https"
	socket.start(id, function(fd, addr)
		skynet.send(agent[balance], "lua", fd)
		balance = balance % #agent + 1
	end)
end)
