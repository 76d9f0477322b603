-- http.sockethelper: read/write functions over skynet.socket for http.httpd, as skynet's.
--   local read = sockethelper.readfunc(fd [, already_read])  -- read(n) or read() (what's there)
--   local write = sockethelper.writefunc(fd)
-- A closed socket raises sockethelper.socket_error (tostring gives the detail).
local socket = require "skynet.socket"

local sockethelper = {}

local socket_error = setmetatable({}, {
	__tostring = function(self)
		local info = self.err_info
		self.err_info = nil
		return info or "[Socket Error]"
	end,
	__call = function(self, info)
		self.err_info = "[Socket Error] : " .. tostring(info)
		return self
	end,
})
sockethelper.socket_error = socket_error

local function read(fd, sz)
	local r = socket.read(fd, sz)
	if not r then
		error(socket_error("read failed fd = " .. fd))
	end
	return r
end

-- read(n) / read() that returns `pre` first (bytes already read past something else)
function sockethelper.prefixed(readf, pre)
	return function(sz)
		if pre then
			local s = pre
			if sz == nil or sz == #s then
				pre = nil
				return s
			elseif sz < #s then
				pre = s:sub(sz + 1)
				return s:sub(1, sz)
			end
			pre = nil
			return s .. readf(sz - #s)
		end
		return readf(sz)
	end
end

function sockethelper.readfunc(fd, pre)
	return sockethelper.prefixed(function(sz) return read(fd, sz) end, pre)
end

function sockethelper.writefunc(fd)
	return function(content)
		if not socket.write(fd, content) then
			error(socket_error("write failed fd = " .. fd))
		end
	end
end

-- connect(host, port [, timeout in 1/100 s]) -> fd, raising socket_error on failure
function sockethelper.connect(host, port, timeout)
	local fd, err = socket.open(host, port, timeout)
	if not fd then
		error(socket_error(string.format("connect failed host = %s, port = %s: %s", host, port, tostring(err))))
	end
	return fd
end

sockethelper.readall = socket.readall

function sockethelper.close(fd)
	socket.close(fd)
end

function sockethelper.shutdown(fd)
	socket.shutdown(fd)
end

return sockethelper
