-- watchdog: the example watchdog (skynet's examples/watchdog.lua, extended). It opens a gate
-- and decides who serves each connection:
--   mode "echo": an agent per connection (agents = 0, skynet's pattern), or a pool of `agents`
--                shared agents (cheaper for very many connections);
--   mode "chat": one chatroom service for everyone.
-- Usage: local wd = skynet.newservice("watchdog")
--        local addr, port = skynet.call(wd, "lua", "start", { port = 8888, mode = "echo", ... })
-- conf is passed to the gate's open (see service/gate.lua) plus mode, agents, agent (the
-- agent service name, default "agent") and room (a chatroom to share between gates).
-- Commands: start(conf), close(fd) (agents ask this to kick), push(msg) (a frame to every
-- client, used by HTTP push), count().

local skynet = require "skynet"
local socket = require "skynet.socket"

local CMD = {}
local SOCKET = {}
local gate
local mode
local room
local agent_name
local agent = {} -- fd -> per-connection agent
local pool = {} -- shared agents
local clients = {} -- fd -> peer address
local nclients = 0

function SOCKET.open(fd, addr)
	clients[fd] = addr
	nclients = nclients + 1
	if mode == "chat" then
		skynet.call(gate, "lua", "forward", fd, 0, room)
		skynet.send(room, "lua", "join", fd, addr)
	elseif #pool > 0 then
		skynet.call(gate, "lua", "forward", fd, 0, pool[fd % #pool + 1])
	else
		local a = skynet.newservice(agent_name)
		agent[fd] = a
		skynet.call(a, "lua", "start", { gate = gate, client = fd, watchdog = skynet.self() })
	end
end

local function close_agent(fd)
	if clients[fd] then
		clients[fd] = nil
		nclients = nclients - 1
	end
	local a = agent[fd]
	agent[fd] = nil
	skynet.call(gate, "lua", "kick", fd)
	if a then
		-- disconnect never returns
		skynet.send(a, "lua", "disconnect")
	end
	if mode == "chat" then
		skynet.send(room, "lua", "leave", fd)
	end
end

function SOCKET.close(fd)
	close_agent(fd)
end

function SOCKET.error(fd, msg)
	skynet.error("socket error", fd, msg)
	close_agent(fd)
end

function SOCKET.warning(fd, size)
	-- size K bytes haven't been sent out on fd
	skynet.error("socket warning", fd, size)
end

function SOCKET.data(fd, msg)
	-- frames of accepted (not forwarded) connections; every connection here is forwarded
end

function CMD.start(conf)
	mode = conf.mode or "echo"
	agent_name = conf.agent or "agent"
	if mode == "chat" then
		room = conf.room or skynet.newservice("chatroom")
	else
		for i = 1, conf.agents or 0 do
			local a = skynet.newservice(agent_name)
			skynet.call(a, "lua", "serve", { gate = gate, watchdog = skynet.self() })
			pool[i] = a
		end
	end
	return skynet.call(gate, "lua", "open", conf)
end

function CMD.close(fd)
	close_agent(fd)
end

function CMD.push(msg)
	local n = 0
	for fd in pairs(clients) do
		if socket.sendframe(fd, msg) then
			n = n + 1
		end
	end
	return n
end

function CMD.count()
	return nclients
end

skynet.start(function()
	skynet.dispatch("lua", function(session, source, cmd, subcmd, ...)
		if cmd == "socket" then
			local f = SOCKET[subcmd]
			f(...)
			-- socket api don't need return
		else
			local f = assert(CMD[cmd])
			skynet.ret(skynet.pack(f(subcmd, ...)))
		end
	end)
	gate = skynet.newservice("gate")
end)
