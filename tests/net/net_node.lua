-- Start service of tests/net/config.lua: gates with different limits (all on free ports) and
-- an HTTP server, reported as "NET READY tcp=.. ws=.. limit=.. idle=.. http=..".

local skynet = require "skynet"
local server = require "http.server"

local function gate(conf)
	local wd = skynet.newservice("watchdog")
	conf.address = "127.0.0.1"
	conf.port = 0
	conf.nodelay = true
	conf.mode = "echo"
	conf.agent = "net_agent"
	conf.agents = conf.agents or 2
	local _, port = skynet.call(wd, "lua", "start", conf) -- address, port as skynet's gate
	return wd, port
end

skynet.start(function()
	local tcp_wd, tcp = gate { maxclient = 2000, maxpending = 256 * 1024, warnpending = 64 * 1024 }
	local _, ws = gate { protocol = "ws", maxclient = 2000, maxpacket = 4096 }
	local _, limit = gate { maxclient = 3, maxpacket = 1024, agents = 1 }
	local _, idle = gate { maxclient = 100, idle = 1, agents = 1 }
	-- one agent per connection, as skynet's examples do
	local _, single = gate { maxclient = 100, agents = 0 }
	local srv = server.listen({ host = "127.0.0.1", port = 0 }, function(req)
		if req.path == "/health" then
			return 200, "ok"
		elseif req.path == "/echo" then
			return 200, req.method .. " " .. req.query .. " " .. req.body, { ["x-test"] = req.headers["x-test"] or "" }
		elseif req.path == "/push" and req.method == "POST" then
			return 200, tostring(skynet.call(tcp_wd, "lua", "push", req.body))
		end
		return 404, "not found"
	end)
	skynet.error(string.format("NET READY tcp=%d ws=%d limit=%d idle=%d single=%d http=%d",
		tcp, ws, limit, idle, single, srv.port))
end)
