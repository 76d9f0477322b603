-- http.websocket: skynet's WebSocket API (ws:// and wss://) over skynet.socket; wss goes
-- through http.tlshelper (a server's certificate: config certfile / keyfile, default
-- ./server-cert.pem and ./server-key.pem, as skynet's).
-- Server: websocket.accept(fd, handle, protocol, addr [, options]) runs the connection in the
-- calling coroutine until it closes, calling handle.connect(id), handle.handshake(id, header,
-- url), handle.message(id, msg, "text"|"binary"), handle.ping(id), handle.pong(id),
-- handle.close(id, code, reason), handle.error(id, err).
-- Client: local id = websocket.connect("ws[s]://host:port/path" [, header, timeout]);
-- websocket.read(id) -> msg, or false, reason once closed; websocket.write(id, data
-- [, "text"|"binary", masking_key]); websocket.ping(id); websocket.close(id [, code, reason]);
-- websocket.addrinfo(id), websocket.real_ip(id) (X-Real-IP of the handshake).
-- Client frames are always masked (RFC 6455; a random key when none is given).
local skynet = require "skynet"
local socket = require "skynet.socket"
local crypt = require "skynet.crypt"
local httpd = require "http.httpd"
local sockethelper = require "http.sockethelper"

local M = {}

local GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
local MAX_FRAME_SIZE = 256 * 1024
local OP = { frame = 0, text = 1, binary = 2, close = 8, ping = 9, pong = 10 }
local OPNAME = { [0] = "frame", [1] = "text", [2] = "binary", [8] = "close", [9] = "ping", [10] = "pong" }

local pool = {} -- socket id -> ws object

local SSLCTX_CLIENT, SSLCTX_SERVER

-- A ws object in the pool; for wss, ws.init() runs its TLS handshake (raising if it fails).
local function new_ws(id, mode, handle, protocol, hostname)
	local ws = { id = id, mode = mode, handle = handle }
	pool[id] = ws
	if protocol == "ws" then
		ws.read = sockethelper.readfunc(id)
		ws.write = sockethelper.writefunc(id)
	elseif protocol == "wss" then
		local tls = require "http.tlshelper"
		local init
		if mode == "client" then
			SSLCTX_CLIENT = SSLCTX_CLIENT or tls.newctx()
			ws.tls = tls.newtls("client", SSLCTX_CLIENT, hostname)
			init = tls.init_requestfunc(id, ws.tls)
		else
			if not SSLCTX_SERVER then
				local ctx = tls.newctx()
				ctx:set_cert(skynet.getenv "certfile" or "./server-cert.pem",
					skynet.getenv "keyfile" or "./server-key.pem")
				SSLCTX_SERVER = ctx
			end
			ws.tls = tls.newtls("server", SSLCTX_SERVER)
			init = tls.init_responsefunc(id, ws.tls)
		end
		ws.read = tls.readfunc(id, ws.tls)
		ws.write = tls.writefunc(id, ws.tls)
		ws.init = init
	else
		error(string.format("invalid websocket protocol:%s", tostring(protocol)))
	end
	return ws
end

local function close_ws(ws)
	if pool[ws.id] == ws then
		pool[ws.id] = nil
		socket.close(ws.id)
		if ws.tls then
			ws.tls:close()
		end
	end
end

local function call(ws, method, ...)
	local f = ws.handle and ws.handle[method]
	if f then
		f(ws.id, ...)
	end
end

local function write_frame(ws, op, payload, masking_key)
	payload = payload or ""
	local n = #payload
	if ws.mode == "client" and not masking_key then
		masking_key = math.random(0, 0xffffffff)
	end
	local mask = masking_key and 0x80 or 0
	local head
	if n < 126 then
		head = string.pack("BB", 0x80 | OP[op], mask | n)
	elseif n <= 0xffff then
		head = string.pack(">BBI2", 0x80 | OP[op], mask | 126, n)
	else
		head = string.pack(">BBI8", 0x80 | OP[op], mask | 127, n)
	end
	if masking_key then
		local key = string.pack(">I4", masking_key)
		head = head .. key
		if n > 0 then
			payload = crypt.xor_str(payload, key)
		end
	end
	ws.write(head .. payload)
end

local function read_frame(ws)
	local b1, b2 = string.unpack("BB", ws.read(2))
	local fin = (b1 & 0x80) ~= 0
	local op = OPNAME[b1 & 0x0f]
	if not op then
		error("invalid websocket opcode " .. (b1 & 0x0f))
	end
	local n = b2 & 0x7f
	if n == 126 then
		n = string.unpack(">I2", ws.read(2))
	elseif n == 127 then
		n = string.unpack(">I8", ws.read(8))
	end
	if ws.mode == "server" and n > MAX_FRAME_SIZE then
		error "payload_len is too large"
	end
	local key = (b2 & 0x80) ~= 0 and ws.read(4)
	local payload = n > 0 and ws.read(n) or ""
	if key and n > 0 then
		payload = crypt.xor_str(payload, key)
	end
	return fin, op, payload
end

local function close_reason(payload)
	if #payload >= 2 then
		return string.unpack(">I2", payload), payload:sub(3)
	end
end

local function header_has(v, word)
	return type(v) == "string" and v:lower():find(word, 1, true)
end

-- the server side of the handshake: nil, header, url when accepted, else an HTTP status code
local function server_handshake(ws)
	local code, url, method, header = httpd.read_request(ws.read, 8192)
	if not code then
		error(url)
	end
	if code ~= 200 then
		return code
	end
	if method ~= "GET" or not header_has(header.upgrade, "websocket")
		or not header_has(header.connection, "upgrade") then
		return 400, "not a websocket upgrade"
	end
	if header["sec-websocket-version"] ~= "13" then
		return 400, "Sec-WebSocket-Version must be 13"
	end
	local key = header["sec-websocket-key"]
	if not key then
		return 400, "no Sec-WebSocket-Key"
	end
	local accept = crypt.base64encode(crypt.sha1(key .. GUID))
	local reply = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
		.. "Sec-WebSocket-Accept: " .. accept .. "\r\n"
	local sub = header["sec-websocket-protocol"]
	if sub then
		reply = reply .. "Sec-WebSocket-Protocol: " .. sub:match "^%s*([^,%s]+)" .. "\r\n"
	end
	ws.write(reply .. "\r\n")
	ws.real_ip = header["x-real-ip"]
	return nil, header, url
end

local function serve(ws, options)
	if ws.init then
		ws.init()
	end
	call(ws, "connect")
	local code, header, url = server_handshake(ws, options)
	if code then
		httpd.write_response(ws.write, code, header)
		call(ws, "close")
		return
	end
	call(ws, "handshake", header, url)
	local parts, size, first
	while true do
		local fin, op, payload = read_frame(ws)
		if op == "close" then
			local c, reason = close_reason(payload)
			pcall(write_frame, ws, "close") -- the peer may not wait for the answer
			call(ws, "close", c, reason)
			return
		elseif op == "ping" then
			write_frame(ws, "pong", payload)
			call(ws, "ping")
		elseif op == "pong" then
			call(ws, "pong")
		elseif fin and not parts then
			call(ws, "message", payload, op)
		else
			parts = parts or {}
			parts[#parts + 1] = payload
			size = (size or 0) + #payload
			first = first or op
			if size > MAX_FRAME_SIZE then
				error "payload_len is too large"
			end
			if fin then
				local msg, kind = table.concat(parts), first
				parts, size, first = nil, nil, nil
				call(ws, "message", msg, kind)
			end
		end
	end
end

function M.accept(id, handle, protocol, addr, options)
	if not (options and options.upgrade) then
		local ok, err = socket.start(id)
		if not ok then
			return false, err
		end
	end
	local ws = new_ws(id, "server", handle, protocol or "ws")
	ws.addr = addr
	local ok, err = xpcall(serve, debug.traceback, ws, options)
	local open = pool[id] == ws
	close_ws(ws)
	if not ok then
		if tostring(err):find("Socket Error", 1, true) then
			if open then
				call(ws, "error", err)
			end
			call(ws, "close")
		else
			return false, err
		end
	end
	return true
end

function M.connect(url, header, timeout)
	local protocol, host, path = url:match "^(wss?)://([^/]+)(.*)$"
	if protocol ~= "ws" and protocol ~= "wss" then
		error(string.format("invalid protocol: %s", tostring(protocol)))
	end
	local addr, port = host:match "^([^:]+):?(%d*)$"
	assert(addr, "invalid host " .. host)
	port = tonumber(port) or (protocol == "ws" and 80 or 443)
	path = path == "" and "/" or path
	-- the TLS host name (SNI), as skynet's: unless the host ends with a digit (an address)
	local hostname = not addr:match "%d$" and addr or nil
	local id = sockethelper.connect(addr, port, timeout)
	local ws = new_ws(id, "client", nil, protocol, hostname)
	ws.addr = host
	local ok, err = pcall(function()
		if ws.init then
			ws.init()
		end
		local key = crypt.base64encode(crypt.randomkey() .. crypt.randomkey())
		local lines = {
			"GET " .. path .. " HTTP/1.1",
			"Host: " .. addr, -- as skynet's client sends it
			"Content-Length: 0",
			"Upgrade: websocket",
			"Connection: Upgrade",
			"Sec-WebSocket-Version: 13",
			"Sec-WebSocket-Key: " .. key,
		}
		for k, v in pairs(header or {}) do
			lines[#lines + 1] = k .. ": " .. v
		end
		ws.write(table.concat(lines, "\r\n") .. "\r\n\r\n")
		-- the 101 answer
		local head = ""
		while not head:find("\r\n\r\n", 1, true) do
			head = head .. ws.read()
		end
		local e = head:find("\r\n\r\n", 1, true)
		local rest = head:sub(e + 4)
		local status = head:match "^HTTP/1%.%d (%d+)"
		if status ~= "101" then
			error("websocket handshake failed: " .. (head:match "^[^\r]*" or ""))
		end
		local accept = head:lower():match "\r\nsec%-websocket%-accept:%s*([^\r]+)"
		local want = crypt.base64encode(crypt.sha1(key .. GUID))
		if not accept or accept ~= want:lower() then
			error "websocket handshake failed: bad Sec-WebSocket-Accept"
		end
		if rest ~= "" then
			ws.read = sockethelper.prefixed(ws.read, rest)
		end
	end)
	if not ok then
		close_ws(ws)
		error(err)
	end
	return id
end

function M.read(id)
	local ws = assert(pool[id], "not a websocket")
	local parts
	while true do
		local ok, fin, op, payload = pcall(read_frame, ws)
		if not ok then
			close_ws(ws)
			return false, tostring(fin)
		end
		if op == "close" then
			close_ws(ws)
			local _, reason = close_reason(payload)
			return false, reason or ""
		elseif op == "ping" then
			write_frame(ws, "pong", payload)
		elseif op ~= "pong" then
			if fin and not parts then
				return payload
			end
			parts = parts or {}
			parts[#parts + 1] = payload
			if fin then
				return table.concat(parts)
			end
		end
	end
end

function M.write(id, data, fmt, masking_key)
	local ws = assert(pool[id], "not a websocket")
	fmt = fmt or "text"
	assert(fmt == "text" or fmt == "binary")
	write_frame(ws, fmt, data, masking_key)
end

function M.ping(id)
	write_frame(assert(pool[id], "not a websocket"), "ping")
end

function M.addrinfo(id)
	return assert(pool[id], "not a websocket").addr
end

function M.real_ip(id)
	return assert(pool[id], "not a websocket").real_ip
end

function M.close(id, code, reason)
	local ws = pool[id]
	if not ws then
		return
	end
	pcall(function()
		local payload = code and string.pack(">I2", code) .. (reason or "") or ""
		write_frame(ws, "close", payload)
	end)
	close_ws(ws)
end

function M.is_close(id)
	return pool[id] == nil
end

return M
