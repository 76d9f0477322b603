-- skynet.socketchannel: a request/response channel over one TCP connection, as skynet's
-- database drivers use it. Two modes:
--   order:   channel:request(req, function(sock) return ok, data end) -- replies come in order
--   session: socketchannel.channel{ ..., response = function(sock) return session, ok, data end }
--            channel:request(req, session)                           -- replies matched by session
-- sock:read(n) / sock:readline(sep) raise socketchannel.error when the connection drops; the
-- waiting requests then fail and the next request reconnects (to host:port, then `backup`:
-- a list of "host:port" strings or { host =, port = }). desc.auth(channel) runs after each
-- connect; desc.nodelay sets TCP_NODELAY. A response function returning a third value
-- `padding` true collects several replies into one table (order mode) or data (session mode).
local skynet = require "skynet"
local socket = require "skynet.socket"
local driver = require "skynet.socketdriver"

local socketchannel = {}
local socket_error = setmetatable({}, { __tostring = function() return "[Error: socket]" end })
socketchannel.error = socket_error

local channel = {}
local channel_meta = { __index = channel }

function socketchannel.channel(desc)
	local c = {
		host = assert(desc.host),
		port = desc.port,
		backup = desc.backup,
		auth = desc.auth,
		session_response = desc.response,
		nodelay = desc.nodelay,
		queue = {},    -- order mode: { f, co } in request order
		sessions = {}, -- session mode: session -> co
		results = {},  -- co -> { ok, data }
		fd = false,
		closed = false,
	}
	return setmetatable(c, channel_meta)
end

local function sock_object(fd)
	local function wrap(f)
		return function(_, ...)
			local r = f(fd, ...)
			if not r then
				error(socket_error)
			end
			return r
		end
	end
	return { fd, read = wrap(socket.read), readline = wrap(socket.readline) }
end

local function deliver(self, co, ok, data)
	self.results[co] = { ok, data }
	skynet.wakeup(co)
end

-- fail every waiting request (the connection is gone)
local function fail_all(self, why)
	local queue = self.queue
	self.queue = {}
	for _, item in ipairs(queue) do
		if item.close then
			self.queue[#self.queue + 1] = item -- the dispatcher's stop signal stays
		else
			deliver(self, item.co, socket_error, why)
		end
	end
	for session, co in pairs(self.sessions) do
		self.sessions[session] = nil
		deliver(self, co, socket_error, why)
	end
end

local function close_socket(self)
	local fd = self.fd
	if fd then
		self.fd = false
		socket.close(fd)
	end
end

local function collect(f, sock)
	local ok, data, padding = f(sock)
	if not (ok and padding) then
		return ok, data
	end
	local all = { data }
	repeat
		ok, data, padding = f(sock)
		if not ok then
			return ok, data
		end
		all[#all + 1] = data
	until not padding
	return true, all
end

local function dispatch_by_order(self, fd)
	local sock = sock_object(fd)
	while self.fd == fd do
		local item = table.remove(self.queue, 1)
		if not item then
			self.idle = coroutine.running()
			skynet.wait(self.idle)
			self.idle = nil
		elseif item.close then
			break
		else
			local ok, rok, data = pcall(collect, item.f, sock)
			if ok then
				deliver(self, item.co, rok, data)
			else
				close_socket(self)
				local why = rok ~= socket_error and rok or nil
				deliver(self, item.co, socket_error, why)
				fail_all(self, why)
			end
		end
	end
end

local function dispatch_by_session(self, fd)
	local sock = sock_object(fd)
	local partial = {} -- co -> data collected with padding
	while self.fd == fd do
		local ok, session, rok, data, padding = pcall(self.session_response, sock)
		if not (ok and session) then
			close_socket(self)
			fail_all(self, session ~= socket_error and session or nil)
			break
		end
		local co = self.sessions[session]
		if not co then
			skynet.error("socket: unknown session :", session)
		elseif padding and rok then
			local t = partial[co] or {}
			partial[co] = t
			t[#t + 1] = data
		else
			self.sessions[session] = nil
			if partial[co] and rok then
				local t = partial[co]
				t[#t + 1] = data
				data = t
			end
			partial[co] = nil
			deliver(self, co, rok, data)
		end
	end
end

local function hosts(self)
	local list = { { self.host, self.port } }
	for _, b in ipairs(self.backup or {}) do
		if type(b) == "table" then
			list[#list + 1] = { b.host, b.port or self.port }
		else
			local h, p = b:match "^(.-):(%d+)$"
			list[#list + 1] = { h or b, tonumber(p) or self.port }
		end
	end
	return list
end

local function connect_now(self)
	for _, hp in ipairs(hosts(self)) do
		local fd = socket.open(hp[1], hp[2])
		if fd then
			self.host, self.port = hp[1], hp[2]
			if self.nodelay then
				driver.nodelay(fd)
			end
			self.fd = fd
			local dispatch = self.session_response and dispatch_by_session or dispatch_by_order
			skynet.fork(dispatch, self, fd)
			if self.auth then
				local ok, err = pcall(self.auth, self)
				if not ok then
					close_socket(self)
					skynet.error(string.format("socket: auth failed %s", tostring(err)))
					return false
				end
			end
			return true
		end
		skynet.error(string.format("socket: connect %s:%s failed", hp[1], tostring(hp[2])))
	end
	return false
end

-- connect(once): returns true when connected; without `once`, retries (backing off up to 10 s)
function channel:connect(once)
	self.closed = false
	if self.fd then
		return true
	end
	if self.connecting then
		-- another coroutine is connecting: wait for it
		local co = coroutine.running()
		table.insert(self.connecting, co)
		skynet.wait(co)
		return self.fd and true or false
	end
	self.connecting = {}
	local ok
	local delay = 10
	while true do
		ok = connect_now(self)
		if ok or once or self.closed then
			break
		end
		skynet.sleep(delay)
		delay = math.min(delay * 2, 1000)
	end
	local waiting = self.connecting
	self.connecting = nil
	for _, co in ipairs(waiting) do
		skynet.wakeup(co)
	end
	return ok
end

local function wait_for(self, response)
	local co = coroutine.running()
	if self.session_response then
		self.sessions[response] = co
	else
		self.queue[#self.queue + 1] = { f = response, co = co }
		if self.idle then
			skynet.wakeup(self.idle)
		end
	end
	skynet.wait(co)
	local r = self.results[co]
	self.results[co] = nil
	if r[1] == socket_error then
		error(r[2] or socket_error)
	end
	assert(r[1], r[2])
	return r[2]
end

function channel:request(request, response, padding)
	if not self.fd and not self:connect(true) then
		error(socket_error)
	end
	local fd = self.fd
	local sent = socket.write(fd, request)
	for _, part in ipairs(padding or {}) do
		sent = sent and socket.write(fd, part)
	end
	if not sent then
		close_socket(self)
		fail_all(self)
		error(socket_error)
	end
	if response == nil then
		return
	end
	return wait_for(self, response)
end

-- wait for a reply without sending (session mode pushes, order mode unsolicited replies)
function channel:response(response)
	if not self.fd and not self:connect(true) then
		error(socket_error)
	end
	return wait_for(self, response)
end

function channel:close()
	if not self.closed then
		self.closed = true
		if self.idle then
			table.insert(self.queue, { close = true })
			skynet.wakeup(self.idle)
		end
		close_socket(self)
		fail_all(self, "channel_closed")
	end
end

function channel:changehost(host, port)
	self.host = host
	if port then
		self.port = port
	end
	if not self.closed then
		close_socket(self)
	end
end

function channel:changebackup(backup)
	self.backup = backup
end

return socketchannel
