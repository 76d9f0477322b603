-- http.tlshelper: TLS over skynet.socket with skynet's API, on ltls.c (rustls,
-- kernel/src/tls). The TLS object never touches the socket: these functions carry its bytes.
--   local tls = require "http.tlshelper"
--   local ctx = tls.newctx()                      -- ctx:set_cert(certfile, keyfile) for a server
--   local tls_ctx = tls.newtls("client" | "server", ctx [, hostname])
--   tls.init_requestfunc(fd, tls_ctx)([hostname]) -- client handshake
--   tls.init_responsefunc(fd, tls_ctx)()          -- server handshake
--   tls.readfunc(fd, tls_ctx) / tls.writefunc(fd, tls_ctx) / tls.readallfunc(fd, tls_ctx)
--       read(n) or read() and write(s), shaped as http.sockethelper's
--   tls.closefunc(tls_ctx)()
-- A handshake that fails sends the peer the TLS alert saying why, closes the socket and
-- raises (skynet's leaves the socket open to its caller).
local socket = require "skynet.socket"
local sockethelper = require "http.sockethelper"
local ltls = require "ltls.c"

local tlshelper = {}

local function handshake_failed(fd, tls_ctx, err)
	pcall(function()
		local alert = tls_ctx:write()
		if alert ~= "" then
			socket.write(fd, alert)
		end
	end)
	socket.close(fd)
	error(err, 0)
end

local function guarded(fd, tls_ctx, f)
	return function(...)
		local ok, err = pcall(f, ...)
		if not ok then
			handshake_failed(fd, tls_ctx, err)
		end
	end
end

function tlshelper.init_requestfunc(fd, tls_ctx)
	local read = sockethelper.readfunc(fd)
	local write = sockethelper.writefunc(fd)
	return guarded(fd, tls_ctx, function(hostname)
		if hostname then
			tls_ctx:set_ext_host_name(hostname)
		end
		write(tls_ctx:handshake())
		while not tls_ctx:finished() do
			local out = tls_ctx:handshake(read())
			if out then
				write(out)
			end
		end
	end)
end

function tlshelper.init_responsefunc(fd, tls_ctx)
	local read = sockethelper.readfunc(fd)
	local write = sockethelper.writefunc(fd)
	return guarded(fd, tls_ctx, function()
		while not tls_ctx:finished() do
			local out = tls_ctx:handshake(read())
			if out then
				write(out)
			end
		end
		-- whatever the end of the handshake left to send
		local rest = tls_ctx:write()
		if rest ~= "" then
			write(rest)
		end
	end)
end

function tlshelper.closefunc(tls_ctx)
	return function()
		tls_ctx:close()
	end
end

function tlshelper.readfunc(fd, tls_ctx)
	local read = sockethelper.readfunc(fd)
	local buf = ""
	return function(sz)
		-- plaintext that came with the handshake's last bytes is there before any socket read
		if buf == "" then
			buf = tls_ctx:read()
		end
		if not sz then
			while buf == "" do
				buf = tls_ctx:read(read())
			end
			local s = buf
			buf = ""
			return s
		end
		while #buf < sz do
			buf = buf .. tls_ctx:read(read())
		end
		local s = buf:sub(1, sz)
		buf = buf:sub(sz + 1)
		return s
	end
end

function tlshelper.writefunc(fd, tls_ctx)
	local write = sockethelper.writefunc(fd)
	return function(s)
		return write(tls_ctx:write(s))
	end
end

function tlshelper.readallfunc(fd, tls_ctx)
	return function()
		return tls_ctx:read(socket.readall(fd))
	end
end

function tlshelper.newctx()
	return ltls.newctx()
end

function tlshelper.newtls(method, ssl_ctx, hostname)
	return ltls.newtls(method, ssl_ctx, hostname)
end

return tlshelper
