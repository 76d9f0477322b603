-- netdemo: start service of examples/config/echo.lua and examples/config/chat.lua. Opens a TCP gate
-- (`gate_port`, 2-byte big-endian length frames) and a WebSocket gate (`ws_port`, binary
-- messages), each with a watchdog in `mode` ("echo" or "chat"), and an HTTP server
-- (`http_port`): GET /health, POST /push (the body goes as one frame to every client).

local skynet = require "skynet"
local server = require "http.server"

local function num(key)
	return tonumber(skynet.getenv(key))
end

skynet.start(function()
	local mode = skynet.getenv "mode" or "echo"
	local address = skynet.getenv "gate_address" or "0.0.0.0"
	local watchdogs = {}
	-- TCP and WebSocket clients chat in the same room
	local room = mode == "chat" and skynet.newservice("chatroom") or nil
	for _, g in ipairs { { port = num "gate_port", protocol = "tcp" }, { port = num "ws_port", protocol = "ws" } } do
		if g.port then
			local wd = skynet.newservice("watchdog")
			local _, port = skynet.call(wd, "lua", "start", {
				address = address,
				port = g.port,
				protocol = g.protocol,
				maxclient = num "maxclient" or 10240,
				nodelay = true,
				idle = num "idle",
				mode = mode,
				room = room,
				agents = num "agents" or 0,
			})
			skynet.error(string.format("%s %s gate on %s:%d", mode, g.protocol, address, port))
			watchdogs[#watchdogs + 1] = wd
		end
	end
	local http_port = num "http_port"
	if http_port then
		local srv = server.listen({ host = skynet.getenv "http_address" or "127.0.0.1", port = http_port }, function(req)
			if req.path == "/health" then
				local n = 0
				for _, wd in ipairs(watchdogs) do
					n = n + skynet.call(wd, "lua", "count")
				end
				return 200, string.format("ok %d clients\n", n), { ["content-type"] = "text/plain" }
			elseif req.path == "/push" and req.method == "POST" then
				local n = 0
				for _, wd in ipairs(watchdogs) do
					n = n + skynet.call(wd, "lua", "push", req.body)
				end
				return 200, string.format("pushed to %d clients\n", n)
			end
			return 404, "not found\n"
		end)
		skynet.error("http on port " .. srv.port .. ": GET /health, POST /push")
	end
end)
