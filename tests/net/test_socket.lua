-- skynet.socket against real loopback sockets: TCP listen/accept/connect, the read family,
-- close semantics, ownership transfer, UDP, warnings, resolve and netstat.

local skynet = require "skynet"
local socket = require "skynet.socket"
local T = require "testing"

-- A listener on a free port whose clients are handled by `serve(fd, addr)` in a new coroutine.
local function server(serve)
	local id, addr, port = socket.listen("127.0.0.1", 0)
	assert(id and port > 0, "listen")
	socket.start(id, function(fd, peer)
		skynet.fork(serve, fd, peer)
	end)
	return id, port, addr
end

T.case("listen reports the bound address", function()
	local id, port, addr = server(function(fd) socket.close_fd(fd) end)
	T.eq(addr, "127.0.0.1")
	T.ok(port > 0, "port")
	socket.close(id)
	T.ok(socket.invalid(id), "closed listener is invalid")
end)

T.case("write, read(n), readline, read()", function()
	local lid, port = server(function(fd)
		socket.start(fd)
		local line = socket.readline(fd)
		socket.write(fd, string.upper(line) .. "\r\n")
		local four = socket.read(fd, 4)
		socket.write(fd, four .. four)
		socket.close(fd)
	end)
	local fd = assert(socket.open("127.0.0.1", port))
	socket.write(fd, "hello ")
	socket.write(fd, { "wor", "ld\n" })
	T.eq(socket.readline(fd, "\r\n"), "HELLO WORLD")
	socket.write(fd, "abcd")
	T.eq(socket.read(fd, 8), "abcdabcd")
	-- the server closed: read() returns false plus the (empty) rest
	local ok, rest = socket.read(fd)
	T.eq(ok, false)
	T.eq(rest, "")
	T.ok(socket.disconnected(fd), "disconnected")
	socket.close(fd)
	socket.close(lid)
end)

T.case("read on a closed socket returns false plus what was buffered", function()
	local lid, port = server(function(fd)
		socket.start(fd)
		socket.write(fd, "partial")
		socket.close(fd)
	end)
	local fd = assert(socket.open("127.0.0.1:" .. port))
	local ok, rest = socket.read(fd, 100)
	T.eq(ok, false)
	T.eq(rest, "partial")
	socket.close(fd)
	socket.close(lid)
end)

T.case("readall reads until the peer closes", function()
	local big = string.rep("0123456789", 50000) -- 500 KB: several reads, pause and resume
	local lid, port = server(function(fd)
		socket.start(fd)
		socket.write(fd, big)
		socket.close(fd)
	end)
	local fd = assert(socket.open("127.0.0.1", port))
	local all = socket.readall(fd)
	T.eq(#all, #big)
	T.ok(all == big, "content")
	socket.close(fd)
	socket.close(lid)
end)

T.case("onclose fires when the peer goes away", function()
	local closed
	local lid, port = server(function(fd)
		socket.start(fd)
		socket.onclose(fd, function(id) closed = id end)
		assert(socket.read(fd) == "x")
		assert(socket.read(fd) == false) -- the client closed
		socket.close(fd)
	end)
	local fd = assert(socket.open("127.0.0.1", port))
	socket.write(fd, "x")
	skynet.sleep(5)
	socket.close(fd)
	for _ = 1, 100 do
		if closed then break end
		skynet.sleep(1)
	end
	T.ok(closed, "onclose callback")
	socket.close(lid)
end)

T.case("open fails cleanly: refused and timed out", function()
	-- a port that was free a moment ago and has no listener now
	local lid, p = server(function() end)
	socket.close(lid)
	local fd, err = socket.open("127.0.0.1", p)
	T.eq(fd, nil)
	T.ok(string.find(err, "refused", 1, true), err)
	-- a listener that never accepts, with a full backlog: the next connect times out
	local full = socket.listen("127.0.0.1", 0, 1)
	local port
	for _, s in ipairs(socket.netstat()) do
		if s.id == full then port = tonumber(string.match(s.peer, ":(%d+)$")) end
	end
	local opened = {}
	for _ = 1, 8 do
		local t0 = skynet.now()
		fd, err = socket.open("127.0.0.1", port, 20)
		if not fd then
			T.ok(string.find(err, "timed out", 1, true), err)
			T.ok(skynet.now() - t0 < 100, "returned after the timeout")
			break
		end
		opened[#opened + 1] = fd
	end
	T.eq(fd, nil)
	for _, id in ipairs(opened) do
		socket.close(id)
	end
	socket.close(full)
end)

T.case("an accepted socket can be served by another service", function()
	local helper = skynet.newservice("svc_line_echo")
	local lid, port = server(function(fd)
		-- hand over: the helper calls socket.start(fd) and becomes the owner
		skynet.call(helper, "lua", "serve", fd)
	end)
	local fd = assert(socket.open("127.0.0.1", port))
	socket.write(fd, "one\ntwo\n")
	T.eq(socket.readline(fd), "echo: one")
	T.eq(socket.readline(fd), "echo: two")
	socket.write(fd, "bye\n")
	local ok = socket.readline(fd)
	T.eq(ok, false)
	socket.close(fd)
	socket.close(lid)
end)

T.case("abandon hands a socket over without losing data", function()
	local helper = skynet.newservice("svc_line_echo")
	local lid, port = server(function(fd)
		socket.start(fd)
		local first = socket.readline(fd)
		socket.write(fd, "mine: " .. first .. "\n")
		socket.abandon(fd)
		skynet.sleep(5) -- the client's next line arrives while nobody owns the socket
		skynet.call(helper, "lua", "serve", fd)
	end)
	local fd = assert(socket.open("127.0.0.1", port))
	socket.write(fd, "one\n")
	T.eq(socket.readline(fd), "mine: one")
	socket.write(fd, "two\n")
	T.eq(socket.readline(fd), "echo: two")
	socket.write(fd, "bye\n")
	T.eq(socket.readline(fd), false)
	socket.close(fd)
	socket.close(lid)
end)

T.case("sendframe writes a 2-byte big-endian length frame", function()
	local lid, port = server(function(fd)
		socket.start(fd)
		socket.sendframe(fd, "framed")
		socket.close(fd)
	end)
	local fd = assert(socket.open("127.0.0.1", port))
	local n = socket.header(socket.read(fd, 2))
	T.eq(n, 6)
	T.eq(socket.read(fd, n), "framed")
	T.raises(function() socket.sendframe(fd, string.rep("x", 70000)) end, "2-byte")
	socket.close(fd)
	socket.close(lid)
end)

T.case("write warning when the peer does not read", function()
	local accepted
	local lid, port = server(function(fd) accepted = fd end) -- never started: never read
	local fd = assert(socket.open("127.0.0.1", port))
	local warned
	socket.warning(fd, function(id, kb) warned = kb end)
	local chunk = string.rep("w", 64 * 1024)
	for _ = 1, 400 do -- 25 MiB: more than the kernel buffers plus the 1 MiB mark
		socket.write(fd, chunk)
		if warned then break end
	end
	skynet.sleep(1)
	T.ok(warned and warned >= 1024, "warning with the pending size in K")
	socket.close_fd(accepted)
	socket.shutdown(fd)
	socket.close(fd)
	socket.close(lid)
end)

T.case("udp: recv with the sender address, sendto, udp_connect", function()
	local got = {}
	local srv
	srv = socket.udp(function(data, from)
		got[#got + 1] = data
		socket.sendto(srv, from, "re:" .. data)
	end, "127.0.0.1", 0)
	local info
	for _, s in ipairs(socket.netstat()) do
		if s.id == srv then info = s end
	end
	T.eq(info.type, "UDP")
	local port = tonumber(string.match(info.peer, ":(%d+)$"))
	local replies = {}
	local cli = socket.udp(function(data, from)
		replies[#replies + 1] = data
		local ip, p = socket.udp_address(from)
		T.eq(ip, "127.0.0.1")
		T.eq(p, port)
	end)
	socket.udp_connect(cli, "127.0.0.1", port)
	socket.write(cli, "ping")
	socket.write(cli, "pong")
	for _ = 1, 100 do
		if #replies == 2 then break end
		skynet.sleep(1)
	end
	T.same(got, { "ping", "pong" })
	T.same(replies, { "re:ping", "re:pong" })
	socket.close(cli)
	socket.close(srv)
end)

T.case("resolve and netstat", function()
	local ips = socket.resolve("localhost")
	local found = false
	for _, ip in ipairs(ips) do
		if ip == "127.0.0.1" or ip == "::1" then found = true end
	end
	T.ok(found, "localhost resolves")
	local lid, port = server(function() end)
	local seen = false
	for _, s in ipairs(socket.netstat()) do
		if s.id == lid then
			seen = s.type == "LISTEN" and s.address == skynet.self()
		end
	end
	T.ok(seen, "listener in netstat")
	socket.close(lid)
end)

T.start()
