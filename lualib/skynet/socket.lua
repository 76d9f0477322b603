-- skynet.socket: coroutine-friendly sockets for services, with skynet's API and semantics.
-- The IO itself runs on the node's tokio runtime (skynet.socketdriver, in Rust); events come
-- back as PTYPE_SOCKET messages handled here, so a read suspends only the calling coroutine.
--
--   local id = socket.listen(host, port [, backlog])     -> id, addr, port
--   socket.start(id, function(fd, addr) ... end)         -- accept; start(fd) to read a client
--   local fd, err = socket.open(host, port [, timeout])  -- connect (timeout in 1/100 s)
--   socket.read(fd [, n]) / socket.readline(fd [, sep]) / socket.readall(fd)
--   socket.write(fd, data) / socket.sendframe(fd, msg)   -- raw / 2-byte-length framed
--   socket.close(fd), socket.shutdown(fd), socket.abandon(fd), socket.onclose(fd, cb)
-- A read on a closed socket returns false plus whatever was still buffered, as in skynet.

local driver = require "skynet.socketdriver"
local skynet = require "skynet"
local assert = assert

local BUFFER_LIMIT = 128 * 1024
local socket = {}
-- every socket object of this service; closed with the service's Lua state
local socket_pool = setmetatable({}, {
	__gc = function(p)
		for id in pairs(p) do
			driver.close(id)
			p[id] = nil
		end
	end,
})

local socket_onclose = {}
local socket_message = {}

local function wakeup(s)
	local co = s.co
	if co then
		s.co = nil
		skynet.wakeup(co)
	end
end

local function pause_socket(s, size)
	if s.pause ~= nil then
		return
	end
	if size then
		skynet.error(string.format("Pause socket (%d) size : %d", s.id, size))
	else
		skynet.error(string.format("Pause socket (%d)", s.id))
	end
	driver.pause(s.id)
	s.pause = true
	skynet.yield() -- there may be more socket messages in the mailbox
end

local function suspend(s)
	assert(not s.co)
	s.co = coroutine.running()
	if s.pause then
		skynet.error(string.format("Resume socket (%d)", s.id))
		driver.start(s.id)
		skynet.wait(s.co)
		s.pause = nil
	else
		skynet.wait(s.co)
	end
	-- socket.close waits for the last read to finish before it drops the buffer
	if s.closing then
		skynet.wakeup(s.closing)
	end
end

-- DATA
socket_message[1] = function(id, size, msg, sz)
	local s = socket_pool[id]
	if s == nil then
		skynet.error("socket: drop package from " .. id)
		return
	end
	local total = s.buffer:push(msg, sz)
	local rr = s.read_required
	local rrt = type(rr)
	if rrt == "number" then
		if total >= rr then
			s.read_required = nil
			if total > BUFFER_LIMIT then
				pause_socket(s, total)
			end
			wakeup(s)
		end
	else
		if s.buffer_limit and total > s.buffer_limit then
			skynet.error(string.format("socket buffer overflow: fd=%d size=%d", id, total))
			driver.close(id)
			return
		end
		if rrt == "string" then
			if s.buffer:find(rr) then
				s.read_required = nil
				if total > BUFFER_LIMIT then
					pause_socket(s, total)
				end
				wakeup(s)
			end
		elseif rr ~= true and total > BUFFER_LIMIT and not s.pause then
			-- nobody is reading: stop reading from the kernel (readall wants it all, though)
			pause_socket(s, total)
		end
	end
end

-- CONNECT (also confirms start and listen)
socket_message[2] = function(id, _, addr)
	local s = socket_pool[id]
	if s == nil then
		return
	end
	if not s.connected then
		s.connected = true
		s.peer = addr
		wakeup(s)
	end
end

-- CLOSE
socket_message[3] = function(id)
	local s = socket_pool[id]
	if s then
		s.connected = false
		wakeup(s)
	end
	local cb = socket_onclose[id]
	if cb then
		socket_onclose[id] = nil
		cb(id)
	end
end

-- ACCEPT
socket_message[4] = function(id, newid, addr)
	local s = socket_pool[id]
	if s == nil then
		driver.close(newid)
		return
	end
	s.callback(newid, addr)
end

-- ERROR
socket_message[5] = function(id, _, err)
	local s = socket_pool[id]
	if s == nil then
		driver.shutdown(id)
		skynet.error("socket: error on unknown", id, err)
		return
	end
	if s.callback then
		skynet.error("socket: accept error:", err)
		return
	end
	if s.connected then
		skynet.error("socket: error on", id, err)
	elseif s.connecting then
		s.connecting = err
	end
	s.connected = false
	driver.shutdown(id)
	wakeup(s)
end

-- UDP
socket_message[6] = function(id, size, data, address)
	local s = socket_pool[id]
	if s == nil or s.callback == nil then
		skynet.error("socket: drop udp package from " .. id)
		return
	end
	s.callback(data, address)
end

local function default_warning(id, size)
	local s = socket_pool[id]
	if not s then
		return
	end
	skynet.error(string.format("WARNING: %d K bytes need to send out (fd = %d)", size, id))
end

-- WARNING: pending output crossed the high-water mark (size in K bytes)
socket_message[7] = function(id, size)
	local s = socket_pool[id]
	if s then
		local warning = s.on_warning or default_warning
		warning(id, size)
	end
end

skynet.register_protocol {
	name = "socket",
	id = skynet.PTYPE_SOCKET, -- PTYPE_SOCKET = 6
	unpack = driver.unpack,
	dispatch = function(_, _, t, ...)
		socket_message[t](...)
	end,
}

local function connect(id, func)
	local newbuffer
	if func == nil then
		newbuffer = driver.buffer()
	end
	local s = {
		id = id,
		buffer = newbuffer,
		connected = false,
		connecting = true,
		read_required = false,
		co = false,
		callback = func,
		protocol = "TCP",
	}
	assert(not socket_onclose[id], "socket has onclose callback")
	local s2 = socket_pool[id]
	if s2 and not s2.listen then
		error("socket is not closed")
	end
	socket_pool[id] = s
	suspend(s)
	local err = s.connecting
	s.connecting = nil
	if s.connected then
		return id
	else
		socket_pool[id] = nil
		return nil, err
	end
end

-- socket.open(host, port [, timeout]) or socket.open("host:port" [, nil, timeout]);
-- timeout in 1/100 s (default 10 s). Returns id, or nil and the reason.
function socket.open(addr, port, timeout)
	if port == nil then
		addr, port = string.match(addr, "^%[?(.-)%]?:(%d+)$")
		port = tonumber(port)
	end
	local id = driver.connect(addr, port, timeout)
	return connect(id)
end

-- Start reading an accepted socket (the caller becomes its owner), or start accepting on a
-- listen socket with `func(fd, addr)` called for each new client.
function socket.start(id, func)
	driver.start(id)
	return connect(id, func)
end

-- The process's standard input as a socket to read lines from (skynet's console service).
function socket.stdin()
	return socket.start(driver.stdin())
end

function socket.pause(id)
	local s = socket_pool[id]
	if s == nil then
		return
	end
	pause_socket(s)
end

-- Close now, dropping unsent output (a CLOSE event follows; call socket.close later).
function socket.shutdown(id)
	local s = socket_pool[id]
	if s then
		driver.shutdown(id)
	end
end

-- Close a socket this service never started (e.g. an accepted id it won't use).
function socket.close_fd(id)
	assert(socket_pool[id] == nil, "Use socket.close instead")
	driver.close(id)
end

-- Close after sending what is queued; waits until the socket is really closed.
function socket.close(id)
	local s = socket_pool[id]
	if s == nil then
		return
	end
	driver.close(id)
	if s.connected then
		s.pause = false -- don't resume it while closing
		if s.co then
			-- another coroutine is reading: let it finish with the buffered data first
			assert(not s.closing)
			s.closing = coroutine.running()
			skynet.wait(s.closing)
		else
			suspend(s)
		end
		s.connected = false
	end
	socket_pool[id] = nil
end

-- read(id) returns whatever is buffered (waiting for some); read(id, n) exactly n bytes.
-- On a closed socket: false, plus the rest of the buffer.
function socket.read(id, sz)
	local s = socket_pool[id]
	assert(s)
	if sz == nil then
		local ret = s.buffer:readall()
		if ret ~= "" then
			return ret
		end
		if not s.connected then
			return false, ret
		end
		assert(not s.read_required)
		s.read_required = 0
		suspend(s)
		ret = s.buffer:readall()
		if ret ~= "" then
			return ret
		else
			return false, ret
		end
	end

	local ret = s.buffer:pop(sz)
	if ret then
		return ret
	end
	if not s.connected then
		return false, s.buffer:readall()
	end

	assert(not s.read_required)
	s.read_required = sz
	suspend(s)
	ret = s.buffer:pop(sz)
	if ret then
		return ret
	else
		return false, s.buffer:readall()
	end
end

-- Everything until the peer closes.
function socket.readall(id)
	local s = socket_pool[id]
	assert(s)
	if not s.connected then
		local r = s.buffer:readall()
		return r ~= "" and r
	end
	assert(not s.read_required)
	s.read_required = true
	suspend(s)
	assert(s.connected == false)
	return s.buffer:readall()
end

function socket.readline(id, sep)
	sep = sep or "\n"
	local s = socket_pool[id]
	assert(s)
	local ret = s.buffer:readline(sep)
	if ret then
		return ret
	end
	if not s.connected then
		return false, s.buffer:readall()
	end
	assert(not s.read_required)
	s.read_required = sep
	suspend(s)
	if s.connected then
		return s.buffer:readline(sep)
	else
		return false, s.buffer:readall()
	end
end

-- Wait until there is something to read (or the socket closes); false if closed.
function socket.block(id)
	local s = socket_pool[id]
	if not s or not s.connected then
		return false
	end
	assert(not s.read_required)
	s.read_required = 0
	suspend(s)
	return s.connected
end

socket.write = assert(driver.send)
socket.lwrite = assert(driver.lsend)
-- one message framed for the connection: 2-byte big-endian length on TCP, a binary message
-- on a WebSocket gate connection
socket.sendframe = assert(driver.sendframe)

-- Decode a 1..4 byte big-endian length header, as skynet's socket.header does.
function socket.header(s)
	local n = #s
	assert(n >= 1 and n <= 4, "Invalid read header size")
	return (string.unpack(">I" .. n, s))
end

function socket.invalid(id)
	return socket_pool[id] == nil
end

function socket.disconnected(id)
	local s = socket_pool[id]
	if s then
		return not (s.connected or s.connecting)
	end
end

-- listen(host, port [, backlog]) or listen("host:port"); port 0 picks a free port.
-- Returns id, address, port; call socket.start(id, accept_cb) to accept.
function socket.listen(host, port, backlog)
	if port == nil then
		host, port = string.match(host, "^%[?(.-)%]?:(%d+)$")
		port = tonumber(port)
	end
	local id, addr, lport = driver.listen(host, port, backlog)
	local s = {
		id = id,
		connected = false,
		listen = true,
		addr = addr,
		port = lport,
	}
	assert(socket_pool[id] == nil)
	socket_pool[id] = s
	return id, addr, lport
end

-- Stop tracking a socket so another service can socket.start it. Reading pauses until that
-- start, so nothing the peer sends in between is lost.
function socket.abandon(id)
	local s = socket_pool[id]
	if s then
		driver.pause(id)
		s.connected = false
		wakeup(s)
		socket_onclose[id] = nil
		socket_pool[id] = nil
	end
end

-- Close the socket when more than `limit` unread bytes pile up.
function socket.limit(id, limit)
	local s = assert(socket_pool[id])
	s.buffer_limit = limit
end

---------------------- UDP

local function create_udp_object(id, cb)
	assert(not socket_pool[id], "socket is not closed")
	socket_pool[id] = {
		id = id,
		connected = true,
		protocol = "UDP",
		callback = cb,
	}
end

-- udp(callback(data, from), [host, port]): bind; `from` is an opaque address for sendto.
function socket.udp(callback, host, port)
	local id = driver.udp(host, port)
	create_udp_object(id, callback)
	return id
end

-- Set the default destination of socket.write on a UDP socket.
function socket.udp_connect(id, addr, port, callback)
	local obj = socket_pool[id]
	if obj then
		assert(obj.protocol == "UDP")
		if callback then
			obj.callback = callback
		end
	else
		create_udp_object(id, callback)
	end
	driver.udp_connect(id, addr, port)
end

-- udp_listen(addr, port, callback): a UDP socket bound to addr:port (IPv4 or IPv6).
function socket.udp_listen(addr, port, callback)
	return socket.udp(callback, addr, port)
end

-- udp_dial(addr, port, callback): a UDP socket on an ephemeral port of addr's family whose
-- plain writes go to addr:port.
function socket.udp_dial(addr, port, callback)
	local any = string.find(addr, ":", 1, true) and "::" or "0.0.0.0"
	local id = socket.udp(callback, any, 0)
	socket.udp_connect(id, addr, port)
	return id
end

socket.sendto = assert(driver.udp_send)
socket.udp_address = assert(driver.udp_address)
socket.netstat = assert(driver.info)

-- All IP addresses of a host name (suspends this coroutine only).
function socket.resolve(host)
	return skynet.await(driver.resolve(host))
end

function socket.warning(id, callback)
	local obj = socket_pool[id]
	assert(obj)
	obj.on_warning = callback
end

function socket.onclose(id, callback)
	socket_onclose[id] = callback
end

return socket
