-- A game client for Lua test services: a real TCP connection to a gate, 2-byte frames, and
-- cloudwu's sproto host/attach API on the project's schemas, as any client would use them.
--   local gc = require "gameclient"
--   local c = gc.connect("127.0.0.1", port)
--   local r = c:call("visitor_login", { device_id = "d1" })   -- response body (r.code ...)
--   local push = c:wait("game_start")                          -- next push of that name
--   c:close()
-- Every packet the server sends after login is checked for ud = previous + 1 (c.ud_errors).

local skynet = require "skynet"
local socket = require "skynet.socket"
local sproto = require "sproto"
local crypt = require "cirrus.crypt"

local gc = {}

local function read_schema(name)
	local root = skynet.getenv "root" or "./"
	local f = assert(io.open(root .. "sproto/" .. name))
	local text = f:read "a"
	f:close()
	return sproto.parse(text)
end

local C2S, S2C

local Client = {}
Client.__index = Client

-- `prev`: the client of an earlier connection of the same login (reconnect): its sproto host
-- (answers to requests sent there may be replayed here), session counter and last ud go on.
function gc.connect(host, port, prev)
	C2S = C2S or read_schema("proto.c2s.sproto")
	S2C = S2C or read_schema("proto.s2c.sproto")
	local fd = assert(socket.open(host, port))
	local host_ = prev and prev.host or S2C:host "package"
	local c = setmetatable({
		fd = fd,
		host = host_,
		request = prev and prev.request or host_:attach(C2S),
		session = prev and prev.session or 0,
		waiting = {}, -- session -> { body, ud } once answered; token while waiting
		answers = {},
		pushes = {}, -- in arrival order: { name, body, ud }
		push_waiters = {},
		last_ud = prev and prev.last_ud,
		ud_errors = 0,
		names = {}, -- session -> request name
		closed = false,
	}, Client)
	skynet.fork(function()
		c:reader()
	end)
	return c
end

local function track_ud(c, ud)
	if ud then
		if c.last_ud and ud ~= c.last_ud + 1 then
			c.ud_errors = c.ud_errors + 1
		end
		c.last_ud = ud
	end
end

function Client:reader()
	while true do
		local h = socket.read(self.fd, 2)
		if not h then
			break
		end
		local n = string.unpack(">I2", h)
		local pkt = socket.read(self.fd, n)
		if not pkt then
			break
		end
		local ok, kind, a, b, c, d = pcall(self.host.dispatch, self.host, pkt)
		if not ok then
			-- e.g. a second answer to a session already answered: counted, not fatal
			self.bad_packets = (self.bad_packets or 0) + 1
			self.last_bad = kind
		elseif kind == "RESPONSE" then
			track_ud(self, c)
			if self.names[a] == "reconnect" and b and b.code == 0 and b.resumed == false then
				self.last_ud = b.seq -- not resumed: the sequence goes on from the server's seq
			end
			self.answers[a] = { body = b, ud = c }
			local token = self.waiting[a]
			if token then
				self.waiting[a] = nil
				skynet.wakeup(token)
			end
		else
			track_ud(self, d)
			self.pushes[#self.pushes + 1] = { name = a, body = b, ud = d }
			local w = self.push_waiters
			self.push_waiters = {}
			for _, token in ipairs(w) do
				skynet.wakeup(token)
			end
		end
	end
	self.closed = true
	for s, token in pairs(self.waiting) do
		self.waiting[s] = nil
		skynet.wakeup(token)
	end
	for _, token in ipairs(self.push_waiters) do
		skynet.wakeup(token)
	end
end

-- Send a request without waiting; returns its session.
function Client:send(name, args)
	self.session = self.session + 1
	self.names[self.session] = name
	socket.write(self.fd, string.pack(">s2", self.request(name, args or {}, self.session)))
	return self.session
end

-- Expect an answer to `session` (sent raw) decoded as c2s type `typename` (bad-input tests).
function Client:expect(session, typename)
	self.host.__session[session] = assert(require("sproto.core").querytype(C2S.__cobj, typename))
end

-- Send raw bytes as one frame (bad-input tests).
function Client:send_raw(bytes)
	socket.write(self.fd, string.pack(">s2", bytes))
end

-- Wait for the answer to `session` (timeout in seconds, default 10); nil on close/timeout.
function Client:answer(session, timeout)
	local deadline = skynet.now() + (timeout or 10) * 100
	while not self.answers[session] do
		if self.closed or skynet.now() > deadline then
			return nil, self.closed and "closed" or "timeout"
		end
		local token = {}
		self.waiting[session] = token
		skynet.timeout(10, function()
			if self.waiting[session] == token then
				self.waiting[session] = nil
				skynet.wakeup(token)
			end
		end)
		skynet.wait(token)
	end
	local a = self.answers[session]
	self.answers[session] = nil
	return a.body, a.ud
end

function Client:call(name, args, timeout)
	return self:answer(self:send(name, args), timeout)
end

-- The first push named `name` (optionally matching pred) not consumed yet; removes it and
-- every push before it only when `drop` is true. Waits up to `timeout` seconds (default 15).
function Client:wait(name, pred, timeout)
	local deadline = skynet.now() + (timeout or 15) * 100
	while true do
		for i, p in ipairs(self.pushes) do
			if p.name == name and (not pred or pred(p.body)) then
				table.remove(self.pushes, i)
				return p.body, p.ud
			end
		end
		if self.closed or skynet.now() > deadline then
			return nil, self.closed and "closed" or "timeout"
		end
		local token = {}
		self.push_waiters[#self.push_waiters + 1] = token
		skynet.timeout(10, function()
			skynet.wakeup(token)
		end)
		skynet.wait(token)
	end
end

-- Forget the pushes received so far.
function Client:clear()
	self.pushes = {}
end

function Client:close()
	if not self.closed then
		socket.close(self.fd)
		-- our side is closed: nothing more will be read, whatever the reader still waits on
		self.closed = true
		for s, token in pairs(self.waiting) do
			self.waiting[s] = nil
			skynet.wakeup(token)
		end
	end
end

-- Wait until the server closes the connection (seconds); true when it did.
function Client:wait_closed(timeout)
	local deadline = skynet.now() + (timeout or 10) * 100
	while not self.closed and skynet.now() < deadline do
		skynet.sleep(5)
	end
	return self.closed
end

function Client:visitor(device, nickname)
	return self:call("visitor_login", { device_id = device, nickname = nickname })
end

-- The challenge/proof handshake and login (docs/PROTOCOL.md). Returns the login answer, or
-- the first failing answer.
function Client:password_login(account, password)
	local cnonce = crypt.randombytes(16)
	local ch = self:call("auth_challenge", { account = account, client_nonce = cnonce })
	if not ch or ch.code ~= 0 then
		return ch
	end
	local key = crypt.pbkdf2_sha256(password, ch.salt, ch.iterations)
	local pr = self:call("auth_proof", { account = account, proof = crypt.hmac_sha256(key, cnonce .. ch.server_nonce) })
	if not pr or pr.code ~= 0 then
		return pr
	end
	assert(pr.server_proof == crypt.hmac_sha256(key, ch.server_nonce .. cnonce), "server proof")
	return self:call("login", { account = account, auth_token = pr.auth_token })
end

return gc
