-- snax.loginserver: skynet's login server. `login(conf)` makes this service the master, which
-- listens on conf.host:conf.port and hands each connection to one of conf.instance (8) slaves
-- (the same script, launched again) for the handshake. The line protocol, one base64 field
-- per line:
--   S->C challenge (8 random bytes)        C->S client key (8 bytes, DH-exchanged)
--   S->C DH-exchange of the server key     both: secret = dhsecret(client key, server key)
--   C->S hmac64(challenge, secret)         C->S DES(secret, token)
-- then auth_handler(token) -> server, uid runs in the slave and login_handler(server, uid,
-- secret) -> subid in the master, and the client reads `200 base64(subid)`, or 401
-- Unauthorized (auth failed), 403 Forbidden (login_handler failed), 406 Not Acceptable (the
-- uid is already logging in and conf.multilogin is off).
local skynet = require "skynet"
require "skynet.manager"
local socket = require "skynet.socket"
local crypt = require "skynet.crypt"

local socket_error = {} -- raised when the client's socket closed

local function check_socket(what, v, fd)
	if v then
		return v
	end
	skynet.error(string.format("%s failed: socket (fd = %d) closed", what, fd))
	error(socket_error)
end

local function write(what, fd, text)
	check_socket(what, socket.write(fd, text), fd)
end

local function run_slave(auth_handler)
	local function handshake(fd)
		-- a client that sends more than 8 KiB before logging in is dropped
		socket.limit(fd, 8192)
		local challenge = crypt.randomkey()
		write("auth", fd, crypt.base64encode(challenge) .. "\n")
		local clientkey = crypt.base64decode(check_socket("auth", socket.readline(fd), fd))
		if #clientkey ~= 8 then
			error "Invalid client key"
		end
		local serverkey = crypt.randomkey()
		write("auth", fd, crypt.base64encode(crypt.dhexchange(serverkey)) .. "\n")
		local secret = crypt.dhsecret(clientkey, serverkey)
		local answer = check_socket("auth", socket.readline(fd), fd)
		if crypt.hmac64(challenge, secret) ~= crypt.base64decode(answer) then
			error "challenge failed"
		end
		local etoken = check_socket("auth", socket.readline(fd), fd)
		local token = crypt.desdecode(secret, crypt.base64decode(etoken))
		local ok, server, uid = pcall(auth_handler, token)
		return ok, server, uid, secret
	end

	local function result(ok, ...)
		if ok then
			return skynet.pack(...)
		end
		local err = ...
		if err == socket_error then
			return skynet.pack(nil, "socket error")
		end
		return skynet.pack(false, err)
	end

	local function auth(fd, addr)
		skynet.error(string.format("connect from %s (fd = %d)", addr, fd))
		socket.start(fd)
		local msg, sz = result(pcall(handshake, fd))
		socket.abandon(fd) -- the master writes the answer
		return msg, sz
	end

	skynet.dispatch("lua", function(_, _, ...)
		local ok, msg, sz = pcall(auth, ...)
		if ok then
			skynet.ret(msg, sz)
		else
			skynet.ret(skynet.pack(false, msg))
		end
	end)
end

local logging_in = {} -- uid -> true while its login_handler runs

local function login_client(conf, slave, fd, addr)
	local ok, server, uid, secret = skynet.call(slave, "lua", fd, addr)
	if not ok then
		if ok ~= nil then -- nil: the socket failed, nobody to answer
			write("response 401", fd, "401 Unauthorized\n")
		end
		error(server)
	end
	if not conf.multilogin then
		if logging_in[uid] then
			write("response 406", fd, "406 Not Acceptable\n")
			error(string.format("User %s is already login", uid))
		end
		logging_in[uid] = true
	end
	local done, subid = pcall(conf.login_handler, server, uid, secret)
	logging_in[uid] = nil
	if done then
		write("response 200", fd, "200 " .. crypt.base64encode(subid or "") .. "\n")
	else
		write("response 403", fd, "403 Forbidden\n")
		error(subid)
	end
end

local function run_master(conf)
	local instance = conf.instance or 8
	assert(instance > 0)
	local host = conf.host or "0.0.0.0"
	local port = assert(tonumber(conf.port))
	skynet.dispatch("lua", function(_, _, command, ...)
		skynet.ret(skynet.pack(conf.command_handler(command, ...)))
	end)
	local slaves = {}
	for i = 1, instance do
		slaves[i] = skynet.newservice(SERVICE_NAME)
	end
	local next_slave = 1
	skynet.error(string.format("login server listen at : %s %d", host, port))
	local id = socket.listen(host, port)
	socket.start(id, function(fd, addr)
		local slave = slaves[next_slave]
		next_slave = next_slave % #slaves + 1
		local ok, err = pcall(login_client, conf, slave, fd, addr)
		if not ok and err ~= socket_error then
			skynet.error(string.format("invalid client (fd = %d) error = %s", fd, err))
		end
		socket.close(fd)
	end)
end

return function(conf)
	local name = "." .. (conf.name or "login")
	skynet.start(function()
		if skynet.localname(name) then
			-- the master is up: this is one of its slaves
			run_slave(assert(conf.auth_handler))
		else
			assert(conf.login_handler)
			assert(conf.command_handler)
			skynet.register(name)
			run_master(conf)
		end
	end)
end
