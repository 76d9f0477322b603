-- snax.gateserver: a gate written in Lua over skynet.socketdriver, for msgserver-style
-- services. It listens, counts clients, deframes each connection's 2-byte big-endian length
-- frames and calls the handler:
--   handler.connect(fd, addr)   a client connected (call gateserver.openclient(fd) to read it)
--   handler.message(fd, msg, sz) one frame (msg is a string here; netpack.tostring takes it)
--   handler.disconnect(fd), handler.error(fd, msg), handler.warning(fd, size),
--   handler.open(source, conf) after `open`, handler.command(cmd, source, ...) for other calls.
-- `skynet.call(gate, "lua", "open", { address, port, maxclient, nodelay, backlog })` listens.
local skynet = require "skynet"
local driver = require "skynet.socketdriver"

local gateserver = {}

local listen_id -- the listening socket
local maxclient
local client_number = 0
local nodelay = false
local connection = {} -- fd -> true (open), false (read side closed); nil when closed
local unframed = {}   -- fd -> bytes of an incomplete frame

function gateserver.openclient(fd)
	if connection[fd] then
		driver.start(fd)
	end
end

function gateserver.closeclient(fd)
	if connection[fd] ~= nil then
		connection[fd] = nil
		unframed[fd] = nil
		driver.close(fd)
	end
end

function gateserver.start(handler)
	assert(handler.message)
	assert(handler.connect)

	local CMD = {}

	function CMD.open(source, conf)
		assert(not listen_id, "gate is already open")
		local address = conf.address or "0.0.0.0"
		local port = conf.port
		maxclient = conf.maxclient or 1024
		nodelay = conf.nodelay
		skynet.error("Listen on", address, port)
		local id, addr, p = driver.listen(address, port, conf.backlog)
		listen_id = id
		conf.address = addr
		conf.port = p
		driver.start(id)
		if handler.open then
			return handler.open(source, conf)
		end
	end

	function CMD.close()
		assert(listen_id, "gate is not open")
		driver.close(listen_id)
	end

	local function dispatch_msg(fd, msg)
		if connection[fd] then
			handler.message(fd, msg, #msg)
		else
			skynet.error(string.format("Drop message from fd (%d) : %s", fd, msg))
		end
	end

	local EVENT = {}

	-- DATA: deframe; each frame is handled in its own coroutine, in order
	EVENT[1] = function(fd, size, msg, sz)
		-- (msg, sz) is the whole event; its last `size` bytes are the data
		local data = string.sub(skynet.tostring(msg, sz), sz - size + 1)
		local buf = unframed[fd]
		if buf then
			data = buf .. data
		end
		local pos = 1
		while #data - pos + 1 >= 2 do
			local len = string.unpack(">I2", data, pos)
			if #data - pos + 1 < 2 + len then
				break
			end
			skynet.fork(dispatch_msg, fd, string.sub(data, pos + 2, pos + 1 + len))
			pos = pos + 2 + len
		end
		if pos <= #data then
			unframed[fd] = string.sub(data, pos)
		else
			unframed[fd] = nil
		end
	end

	EVENT[2] = function() end -- CONNECT: a start confirmed

	-- CLOSE
	EVENT[3] = function(fd)
		if fd == listen_id then
			listen_id = nil
			return
		end
		client_number = client_number - 1
		unframed[fd] = nil
		if connection[fd] then
			connection[fd] = false -- read side closed
		end
		if handler.disconnect then
			handler.disconnect(fd)
		end
	end

	-- ACCEPT
	EVENT[4] = function(_, fd, addr)
		client_number = client_number + 1
		if client_number >= maxclient then
			driver.shutdown(fd)
			return
		end
		if nodelay then
			driver.nodelay(fd)
		end
		connection[fd] = true
		handler.connect(fd, addr)
	end

	-- ERROR
	EVENT[5] = function(fd, _, msg)
		if fd == listen_id then
			skynet.error("gateserver accept error:", msg)
		else
			driver.shutdown(fd)
			if handler.error then
				handler.error(fd, msg)
			end
		end
	end

	-- WARNING
	EVENT[7] = function(fd, size)
		if handler.warning then
			handler.warning(fd, size)
		end
	end

	skynet.register_protocol {
		name = "socket",
		id = skynet.PTYPE_SOCKET,
		unpack = driver.unpack,
		dispatch = function(_, _, t, ...)
			local f = EVENT[t]
			if f then
				f(...)
			end
		end,
	}

	local function init()
		skynet.dispatch("lua", function(_, address, cmd, ...)
			local f = CMD[cmd]
			if f then
				skynet.ret(skynet.pack(f(address, ...)))
			else
				skynet.ret(skynet.pack(handler.command(cmd, address, ...)))
			end
		end)
	end

	if handler.embed then
		init()
	else
		skynet.start(init)
	end
end

return gateserver
