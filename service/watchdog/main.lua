-- watchdog (gate tier): opens the native gates (TCP `gate_port`, WebSocket `ws_port`) and
-- hands each connection to one of `watchdog_workers` workers (service/watchdog/session.lua),
-- which keep the sessions. Registered as the role "watchdog": chat delivers to players
-- through it (`deliver`), the console and tests ask it for counts.
--   skynet.newservice("watchdog")               -- the gate tier of this node
--   skynet.newservice("watchdog", "worker")     -- one worker (started by the above)

local skynet = require "skynet"

if ... == "worker" then
	require "session"()
	return
end

local role = require "game.role"
local conf = require "game.conf"
local node = require "game.node"
local online = require "game.online"

local W = role.new "watchdog"
local workers = {}
local gates = {} -- gate service -> { protocol, port }
local owner = {} -- fd -> worker
-- Socket events come from the native gate under each gate service; it takes the same
-- forward/kick commands, so the workers talk to it directly.

local SOCKET = {}

function SOCKET.open(native, fd, addr)
	local w = workers[fd % #workers + 1]
	owner[fd] = w
	skynet.call(w, "lua", "open", fd, addr, native)
	skynet.call(native, "lua", "forward", fd, 0, w)
end

local function closed(fd)
	local w = owner[fd]
	if w then
		owner[fd] = nil
		skynet.send(w, "lua", "close", fd)
	end
end

function SOCKET.close(_, fd)
	closed(fd)
end

function SOCKET.error(_, fd, msg)
	skynet.error(string.format("[watchdog fd=%d] connection error: %s", fd, tostring(msg)))
	closed(fd)
end

function SOCKET.warning(_, fd, kbytes)
	skynet.error(string.format("[watchdog fd=%d] %d KB of output not yet sent", fd, kbytes))
end

function SOCKET.data() end

function W.cmd.deliver(uids, name, body, did)
	for _, w in ipairs(workers) do
		skynet.send(w, "lua", "deliver", uids, name, body, did)
	end
end

-- connections and logged-in players on this gate node
function W.cmd.count()
	local conns, players = 0, 0
	for _, w in ipairs(workers) do
		local c, p = skynet.call(w, "lua", "count")
		conns, players = conns + c, players + p
	end
	return conns, players
end

local push_port
local draining = false

-- Where clients reach this gate, for the other gates' redirects (the `gate_addrs` hash).
local function public_address()
	local host = conf.string("gate_public_host", nil) or conf.string("gate_address", "127.0.0.1")
	if host == "0.0.0.0" then
		host = "127.0.0.1"
	end
	local ports = {}
	for _, g in pairs(gates) do
		ports[g.protocol] = g.port
	end
	return string.format("%s:%d:%d", host, ports.tcp or 0, ports.ws or 0)
end

-- Another live gate node to send clients to: in discovery and in gate_addrs.
local function other_gate()
	local addrs = online.store():hgetall("gate_addrs")
	for _, name in ipairs(node.nodes("watchdog")) do
		local a = addrs[name]
		if name ~= node.name() and a then
			local host, port, ws = a:match "^(.+):(%d+):(%d+)$"
			if host then
				return { node = name, host = host, port = tonumber(port), ws_port = tonumber(ws) }
			end
		end
	end
end

-- Console `drain`: close the listeners, send every client to another gate, exit once the
-- last connection is gone (or past drain_timeout, kicking the rest with reason 3).
function W.cmd.drain()
	if draining then
		return "already draining"
	end
	local to = other_gate()
	if not to then
		return "no other live gate to send the clients to: not draining"
	end
	draining = true
	online.store():hdel("gate_addrs", node.name())
	for gate in pairs(gates) do
		skynet.call(gate, "lua", "close")
	end
	local n = 0
	for _, w in ipairs(workers) do
		n = n + skynet.call(w, "lua", "drain", to)
	end
	skynet.error(string.format("watchdog: draining %d connections to %s (%s:%d)", n, to.node, to.host, to.port))
	skynet.fork(function()
		local deadline = skynet.now() + conf.number("drain_timeout", 60) * 100
		while true do
			skynet.sleep(20)
			local conns = W.cmd.count()
			if conns == 0 then
				break
			end
			if skynet.now() > deadline then
				skynet.error(string.format("watchdog: %d connections left after drain_timeout: kicked", conns))
				for _, w in ipairs(workers) do
					skynet.send(w, "lua", "kick_all", 3, "maintenance")
				end
				skynet.sleep(100)
				break
			end
		end
		skynet.error("watchdog: drained, the node exits")
		skynet.sleep(10) -- let the logger write that
		skynet.abort()
	end)
	return string.format("draining %d connections to %s", n, to.node)
end

-- A game node is freezing (its service/gamenode.lua asks every gate): hold the requests
-- routed to its rooms, `freeze_buffer` per gate node at most (shared out between the
-- workers), for `freeze_timeout` seconds (default 20).
-- The answer is the acknowledgement the game node waits for before it freezes.
function W.cmd.hold(nodename, seconds)
	seconds = seconds or conf.number("freeze_timeout", 20)
	local limit = math.max(1, conf.number("freeze_buffer", 1000) // #workers)
	for _, w in ipairs(workers) do
		skynet.call(w, "lua", "hold", nodename, seconds, limit)
	end
	skynet.error(string.format("watchdog: holding the requests to %s for up to %s s", nodename, tostring(seconds)))
	return true
end

-- The game node is back: flush what was held, in order.
function W.cmd.release(nodename)
	-- the release may come before discovery tells this node where the restored node is
	if node.clustered() then
		local cluster = require "skynet.cluster"
		local deadline = skynet.now() + 500
		while skynet.now() < deadline do
			local ok, roles = pcall(cluster.roles)
			if ok and roles[nodename] then
				break
			end
			skynet.sleep(2)
		end
	end
	local n = 0
	for _, w in ipairs(workers) do
		n = n + skynet.call(w, "lua", "release", nodename)
	end
	skynet.error(string.format("watchdog: %s is back, %d held requests go on", nodename, n))
	return n
end

-- Graceful shutdown of the node (kernel/src/lifecycle/shutdown.rs, SIGTERM or console
-- `shutdown`): close the listeners, leave gate_addrs, kick every client with reason 3
-- "maintenance", and answer once the connections are closed (or after 3 s).
local shutting = false
function W.cmd.shutdown()
	if shutting then
		return 0
	end
	shutting = true
	pcall(function()
		online.store():hdel("gate_addrs", node.name())
	end)
	for gate in pairs(gates) do
		pcall(skynet.call, gate, "lua", "close")
	end
	local n = 0
	for _, w in ipairs(workers) do
		n = n + skynet.call(w, "lua", "shutdown")
	end
	skynet.error(string.format("watchdog: shutting down, %d clients kicked (reason 3 maintenance)", n))
	local deadline = skynet.now() + 300
	while skynet.now() < deadline and W.cmd.count() > 0 do
		skynet.sleep(5)
	end
	return n
end

function W.cmd.ports()
	local out = { push = push_port }
	for _, g in pairs(gates) do
		out[g.protocol] = g.port
	end
	return out
end

local function open_gate(protocol, port)
	local gate = skynet.newservice("gate")
	gates[gate] = { protocol = protocol }
	local _, bound = skynet.call(gate, "lua", "open", {
		address = conf.string("gate_address", "0.0.0.0"),
		port = port,
		protocol = protocol,
		maxclient = conf.number("maxclient", 20000),
		nodelay = true,
		maxpacket = conf.number("maxpacket", 65535),
		watchdog = skynet.self(),
	})
	gates[gate].port = bound
	skynet.error(string.format("watchdog: %s gate listening on %s:%d", protocol,
		conf.string("gate_address", "0.0.0.0"), bound))
	return gate
end

role.start(W, function()
	-- the gate's socket events come as ("socket", event, fd, ...) from the gate service
	skynet.dispatch("lua", function(session, source, cmd, sub, ...)
		if cmd == "socket" then
			local f = SOCKET[sub]
			if f then
				f(source, ...)
			end
			return
		end
		local f = W.cmd[cmd]
		if not f then
			error("watchdog: unknown command " .. tostring(cmd))
		end
		if session == 0 then
			f(sub, ...)
		else
			skynet.retpack(f(sub, ...))
		end
	end)
	for i = 1, conf.number("watchdog_workers", 2) do
		workers[i] = skynet.newservice("watchdog", "worker")
	end
	local tcp, ws = conf.number("gate_port", 8888), conf.number("ws_port", nil)
	if tcp then
		open_gate("tcp", tcp)
	end
	if ws then
		open_gate("ws", ws)
	end
	push_port = require("http_push")()
	online.store():hset("gate_addrs", node.name(), public_address())
end)
