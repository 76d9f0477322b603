-- snax.msgserver: skynet's message server over snax.gateserver, for clients that logged in
-- through snax.loginserver. Numbers are big-endian; every packet is a 2-byte length frame.
--   handshake (first packet): base64(uid)@base64(server)#base64(subid):index:base64(hmac)
--     where hmac = hmac_hash(secret, "username:index"); the answer is "200 OK", or
--     "404 User Not Found", "403 Index Expired", "401 Unauthorized", "400 Bad Request".
--   request: content .. dword session;  response: content .. byte ok .. dword session.
-- A client that reconnects (a higher index) and repeats a session gets the cached response
-- again instead of a second call; conf.expired_number (128) responses are kept.
-- server.start(conf) takes login_handler(uid, secret) -> subid, logout_handler(uid, subid),
-- kick_handler(uid, subid), request_handler(username, msg) -> response,
-- register_handler(servername) and optionally disconnect_handler(username).
local skynet = require "skynet"
local gateserver = require "snax.gateserver"
local netpack = require "skynet.netpack"
local crypt = require "skynet.crypt"
local socketdriver = require "skynet.socketdriver"

local b64encode = crypt.base64encode
local b64decode = crypt.base64decode

local server = {}

skynet.register_protocol {
	name = "client",
	id = skynet.PTYPE_CLIENT,
}

local user_online = {} -- username -> user
local handshake = {}   -- fd -> addr, until its first packet
local connection = {}  -- fd -> user

function server.userid(username)
	local uid, servername, subid = username:match "([^@]*)@([^#]*)#(.*)"
	return b64decode(uid), b64decode(subid), b64decode(servername)
end

function server.username(uid, subid, servername)
	return string.format("%s@%s#%s", b64encode(uid), b64encode(servername), b64encode(tostring(subid)))
end

function server.logout(username)
	local u = user_online[username]
	user_online[username] = nil
	if u.fd and connection[u.fd] then
		gateserver.closeclient(u.fd)
		connection[u.fd] = nil
	end
end

function server.login(username, secret)
	assert(user_online[username] == nil)
	user_online[username] = {
		secret = secret,
		version = 0, -- the index of the last handshake
		index = 0,   -- counts responses, for expiring the cache
		username = username,
		response = {}, -- session -> { fd to send to, packet, version, index }
	}
end

function server.ip(username)
	local u = user_online[username]
	if u and u.fd then
		return u.ip
	end
end

function server.start(conf)
	local expired_number = conf.expired_number or 128
	local handler = {}
	local CMD = {
		login = assert(conf.login_handler),
		logout = assert(conf.logout_handler),
		kick = assert(conf.kick_handler),
	}

	function handler.command(cmd, _, ...)
		local f = assert(CMD[cmd])
		return f(...)
	end

	function handler.open(_, gateconf)
		return conf.register_handler(assert(gateconf.servername))
	end

	function handler.connect(fd, addr)
		handshake[fd] = addr
		gateserver.openclient(fd)
	end

	function handler.disconnect(fd)
		handshake[fd] = nil
		local u = connection[fd]
		if u then
			if conf.disconnect_handler then
				conf.disconnect_handler(u.username)
			end
			if connection[fd] then
				u.fd = nil
				connection[fd] = nil
				gateserver.closeclient(fd)
			end
		end
	end

	handler.error = handler.disconnect

	local function check_handshake(fd, message, addr)
		local username, index, hmac = string.match(message, "([^:]*):([^:]*):([^:]*)")
		local u = user_online[username]
		if u == nil then
			return "404 User Not Found"
		end
		local idx = assert(tonumber(index))
		if idx <= u.version then
			return "403 Index Expired"
		end
		local text = string.format("%s:%s", username, index)
		if crypt.hmac_hash(u.secret, text) ~= b64decode(hmac) then
			return "401 Unauthorized"
		end
		u.version = idx
		u.fd = fd
		u.ip = addr
		connection[fd] = u
	end

	local function auth(fd, addr, msg, sz)
		local ok, result = pcall(check_handshake, fd, netpack.tostring(msg, sz), addr)
		if not ok then
			skynet.error(result)
			result = "400 Bad Request"
		end
		local close = result ~= nil
		socketdriver.send(fd, netpack.pack(result or "200 OK"))
		if close then
			gateserver.closeclient(fd)
		end
	end

	local request_handler = assert(conf.request_handler)

	-- forget sent responses older than expired_number once the counter passes twice that
	local function expire(u)
		if u.index < expired_number * 2 then
			return
		end
		local max = 0
		for session, p in pairs(u.response) do
			if p[1] == nil then -- sent
				if p[4] < expired_number then
					u.response[session] = nil
				else
					p[4] = p[4] - expired_number
					if p[4] > max then
						max = p[4]
					end
				end
			end
		end
		u.index = max + 1
	end

	local function handle_request(fd, message)
		local u = assert(connection[fd], "invalid fd")
		local session = string.unpack(">I4", message, -4)
		message = message:sub(1, -5)
		local p = u.response[session]
		if p and p[3] == u.version then
			-- the same session twice on one connection
			u.response[session] = nil
			if p[2] == nil then
				local err = string.format("Conflict session %s", crypt.hexencode(session))
				skynet.error(err)
				error(err)
			end
			p = nil
		end
		if p == nil then
			p = { fd }
			u.response[session] = p
			local ok, result = pcall(request_handler, u.username, message)
			result = result or ""
			if ok then
				result = result .. string.pack(">BI4", 1, session)
			else
				skynet.error(result)
				result = string.pack(">BI4", 0, session)
			end
			p[2] = string.pack(">s2", result)
			p[3] = u.version
			p[4] = u.index
		else
			-- a reconnected client repeats a session: send the cached response (when ready)
			p[1] = fd
			p[3] = u.version
			p[4] = u.index
			if p[2] == nil then
				return -- still being handled; it goes out to the new fd when done
			end
		end
		u.index = u.index + 1
		fd = p[1]
		if connection[fd] then
			socketdriver.send(fd, p[2])
		end
		p[1] = nil
		expire(u)
	end

	local function request(fd, msg, sz)
		local message = netpack.tostring(msg, sz)
		local ok, err = pcall(handle_request, fd, message)
		if not ok then
			skynet.error(string.format("Invalid package %s : %s", err, message))
			if connection[fd] then
				gateserver.closeclient(fd)
			end
		end
	end

	function handler.message(fd, msg, sz)
		local addr = handshake[fd]
		if addr then
			handshake[fd] = nil
			auth(fd, addr, msg, sz)
		else
			request(fd, msg, sz)
		end
	end

	return gateserver.start(handler)
end

return server
