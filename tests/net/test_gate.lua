-- The gate as skynet code sees it: this service is the watchdog (lua "socket" events) and an
-- agent (PTYPE_CLIENT), and plays the clients with skynet.socket.

local skynet = require "skynet"
local socket = require "skynet.socket"
local T = require "testing"

local gate, port
local events = {}
local client_msgs = {}

T.handlers = {
	socket = function(ev, fd, arg)
		events[#events + 1] = { ev = ev, fd = fd, arg = arg }
	end,
}

skynet.register_protocol {
	name = "client",
	id = skynet.PTYPE_CLIENT,
	unpack = skynet.tostring,
	dispatch = function(fd, source, msg)
		skynet.ignoreret()
		client_msgs[#client_msgs + 1] = { fd = fd, source = source, msg = msg }
		socket.sendframe(fd, "ack:" .. msg)
	end,
}

-- Wait until an event matching `ev` (and fd, if given) arrives; returns it.
local function event(ev, fd)
	for _ = 1, 300 do
		for i, e in ipairs(events) do
			if e.ev == ev and (fd == nil or e.fd == fd) then
				table.remove(events, i)
				return e
			end
		end
		skynet.sleep(1)
	end
	error("no " .. ev .. " event")
end

local function frame(c)
	local n = socket.header(assert(socket.read(c, 2)))
	return socket.read(c, n)
end

local function client()
	local c = assert(socket.open("127.0.0.1", port))
	local e = event("open")
	T.ok(string.match(e.arg, "^127%.0%.0%.1:%d+$"), e.arg)
	return c, e.fd
end

T.case("open, accept: frames reach the watchdog as data events", function()
	local c, fd = client()
	skynet.call(gate, "lua", "accept", fd)
	socket.write(c, string.pack(">s2", "hello") .. string.pack(">s2", "world"))
	T.eq(event("data", fd).arg, "hello")
	T.eq(event("data", fd).arg, "world")
	-- write by fd: the gate's send command, socket.sendframe and raw socket.write
	skynet.call(gate, "lua", "send", fd, "one")
	socket.sendframe(fd, "two")
	socket.write(fd, string.pack(">s2", "three"))
	T.eq(frame(c), "one")
	T.eq(frame(c), "two")
	T.eq(frame(c), "three")
	socket.close(c)
	event("close", fd)
end)

T.case("forward: the agent gets PTYPE_CLIENT with session = fd", function()
	local c, fd = client()
	skynet.call(gate, "lua", "forward", fd)
	socket.write(c, string.pack(">s2", "to agent"))
	T.eq(frame(c), "ack:to agent")
	local m = client_msgs[#client_msgs]
	T.eq(m.fd, fd)
	T.eq(m.source, 0)
	T.eq(m.msg, "to agent")
	socket.close(c)
	event("close", fd)
end)

T.case("kick closes with a close event; oversized frame with an error event", function()
	local c, fd = client()
	skynet.call(gate, "lua", "accept", fd)
	skynet.call(gate, "lua", "kick", fd)
	event("close", fd)
	T.eq(socket.read(c, 1), false)
	socket.close(c)
	local c2, fd2 = client()
	skynet.call(gate, "lua", "accept", fd2)
	socket.write(c2, string.pack(">I2", 500) .. "x")
	T.ok(string.find(event("error", fd2).arg, "maxpacket", 1, true))
	T.eq(socket.read(c2, 1), false)
	socket.close(c2)
	-- a kick of an unknown fd is harmless
	skynet.call(gate, "lua", "kick", fd2)
end)

T.case("frames sent before accept wait for it", function()
	local c, fd = client()
	socket.write(c, string.pack(">s2", "early"))
	skynet.sleep(5)
	T.eq(#events, 0)
	skynet.call(gate, "lua", "accept", fd)
	T.eq(event("data", fd).arg, "early")
	socket.close(c)
	event("close", fd)
end)

T.case("close stops listening; connected clients stay", function()
	local c, fd = client()
	skynet.call(gate, "lua", "forward", fd)
	skynet.call(gate, "lua", "close")
	local c2, err = socket.open("127.0.0.1", port)
	T.eq(c2, nil)
	T.ok(err)
	socket.write(c, string.pack(">s2", "still"))
	T.eq(frame(c), "ack:still")
	socket.close(c)
	event("close", fd)
end)

T.case("unknown commands and fds raise in the caller", function()
	T.raises(function() skynet.call(gate, "lua", "forward", 999999) end, "no connection")
	T.raises(function() skynet.call(gate, "lua", "nonsense") end, "unknown gate command")
end)

T.start(function()
	gate = skynet.newservice("gate")
	local _
	_, port = skynet.call(gate, "lua", "open", { address = "127.0.0.1", port = 0, nodelay = true, maxpacket = 100 })
end)
