-- An https server and a wss echo server on free loopback ports, for the TLS tests
-- (tests/net/test_tls.lua launches it; kernel/tests/tls.rs starts a node with it through
-- tests/net/config_tls.lua). The certificate: config certfile / keyfile, as skynet's.
-- https: http.httpd over http.tlshelper, the way examples/simpleweb's https agent serves; the
-- answer is "METHOD PATH\n" and the request body, with the client's Host in x-host.
-- Prints "TLS READY https=PORT wss=PORT"; `skynet.call(addr, "lua", "ports")` returns them.
local skynet = require "skynet"
local socket = require "skynet.socket"
local httpd = require "http.httpd"
local tlshelper = require "http.tlshelper"
local websocket = require "http.websocket"

local ctx

local function serve_https(fd, addr)
	socket.start(fd)
	local tls = tlshelper.newtls("server", ctx)
	local ok, err = pcall(tlshelper.init_responsefunc(fd, tls))
	if not ok then
		skynet.error(string.format("https %s: %s", addr, tostring(err)))
		tls:close()
		return
	end
	local read, write = tlshelper.readfunc(fd, tls), tlshelper.writefunc(fd, tls)
	local code, url, method, header, body = httpd.read_request(read, 1 << 20)
	if not code then
		skynet.error(string.format("https %s: %s", addr, tostring(url)))
	elseif code ~= 200 then
		httpd.write_response(write, code, nil, { connection = "close" })
	else
		httpd.write_response(write, 200, method .. " " .. url .. "\n" .. body,
			{ connection = "close", ["x-host"] = header.host })
	end
	socket.close(fd)
	tls:close()
end

local echo = {}
function echo.message(id, msg, op)
	websocket.write(id, msg, op)
end
function echo.error(id, err)
	skynet.error("wss error " .. tostring(err))
end

local https_port, wss_port

skynet.start(function()
	ctx = tlshelper.newctx()
	ctx:set_cert(assert(skynet.getenv "certfile", "config certfile not set"),
		assert(skynet.getenv "keyfile", "config keyfile not set"))
	local id, _, port = socket.listen("127.0.0.1", 0)
	https_port = port
	socket.start(id, function(fd, addr)
		skynet.fork(serve_https, fd, addr)
	end)
	id, _, port = socket.listen("127.0.0.1", 0)
	wss_port = port
	socket.start(id, function(fd, addr)
		skynet.fork(function()
			local ok, err = websocket.accept(fd, echo, "wss", addr)
			if not ok then
				skynet.error(string.format("wss %s: %s", addr, tostring(err)))
			end
		end)
	end)
	skynet.dispatch("lua", function(_, _, cmd)
		assert(cmd == "ports")
		skynet.ret(skynet.pack(https_port, wss_port))
	end)
	print(string.format("TLS READY https=%d wss=%d", https_port, wss_port))
end)
