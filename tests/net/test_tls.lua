-- TLS inside one node: ltls.c objects handshaking in memory (bytes, errors, verification,
-- cipher lists), then http.httpc https:// requests to an https server (tests/net/tls_node.lua,
-- http.httpd over http.tlshelper) and a wss:// echo (http.websocket client and server).
-- kernel/tests/tls.rs makes the certificates with rcgen and passes their paths:
-- $CIRRUS_TLS_CA (the CA), $CIRRUS_TLS_CERT / $CIRRUS_TLS_KEY (a server certificate for
-- "localhost" and 127.0.0.1 signed by it), $CIRRUS_TLS_OTHER_KEY (a key that is not its).
local skynet = require "skynet"
local ltls = require "ltls.c"
local httpc = require "http.httpc"
local server = require "http.server"
local websocket = require "http.websocket"
local T = require "testing"

local function env(name)
	return assert(os.getenv(name), name .. " is not set")
end
local CA, CERT, KEY, OTHER_KEY = env "CIRRUS_TLS_CA", env "CIRRUS_TLS_CERT", env "CIRRUS_TLS_KEY",
	env "CIRRUS_TLS_OTHER_KEY"

local function server_ctx()
	local ctx = ltls.newctx()
	ctx:set_cert(CERT, KEY)
	return ctx
end

-- run a handshake between two TLS objects the way http.tlshelper does over a socket
local function handshake(client, srv)
	local c1 = T.ok(client:handshake(), "ClientHello")
	T.eq(c1:byte(1), 0x16, "a handshake record")
	T.eq(client:finished(), false)
	local s1 = T.ok(srv:handshake(c1), "server flight")
	local c2 = T.ok(client:handshake(s1), "client Finished")
	T.ok(client:finished(), "client finished")
	local s2 = srv:handshake(c2)
	T.ok(srv:finished(), "server finished")
	if s2 then
		T.eq(client:read(s2), "", "session tickets carry no plaintext")
	end
	T.eq(srv:write(), "", "nothing left to send")
end

local https_port, wss_port

T.case("memory handshake, then bytes both ways (and 300 KB in records)", function()
	local client = ltls.newtls("client", ltls.newctx(), "localhost")
	local srv = ltls.newtls("server", server_ctx())
	handshake(client, srv)
	local wire = client:write("hello")
	T.ok(#wire > 5 and not wire:find("hello", 1, true), "ciphertext")
	T.eq(srv:read(wire), "hello")
	T.eq(client:read(srv:write("world")), "world")
	local big = string.rep("0123456789abcdef", 300 * 64)
	wire = client:write(big)
	-- the bytes arrive in arbitrary pieces
	local got, at = {}, 1
	while at <= #wire do
		got[#got + 1] = srv:read(wire:sub(at, at + 999))
		at = at + 1000
	end
	T.eq(table.concat(got), big)
	T.raises(function() client:handshake() end, "handshake is finished")
	client:close()
	T.raises(function() client:write("x") end, "context is closed")
	client:close() -- twice is fine
end)

T.case("plaintext that comes with the handshake's last bytes is kept for read", function()
	local client = ltls.newtls("client", ltls.newctx())
	local srv = ltls.newtls("server", server_ctx())
	local s1 = srv:handshake(client:handshake())
	local c2 = client:handshake(s1)
	-- the client's Finished and its first request in one piece, as one TCP read may bring them
	local s2 = srv:handshake(c2 .. client:write("early request"))
	T.ok(srv:finished())
	T.eq(srv:read(), "early request")
	T.eq(client:read(s2 or ""), "")
end)

T.case("set_cert, newtls and bad handshake bytes give clear errors", function()
	local ctx = ltls.newctx()
	T.raises(function() ctx:set_cert("/nonexistent/cert.pem", KEY) end, "certfile /nonexistent/cert.pem")
	T.raises(function() ctx:set_cert(CERT) end, "need private key")
	T.raises(function() ctx:set_cert(KEY, KEY) end, "no certificate in it")
	T.raises(function() ctx:set_cert(CERT, CERT) end, "keyfile")
	T.raises(function() ctx:set_cert(CERT, OTHER_KEY) end, "set_cert")
	T.raises(function() ltls.newtls("server", ctx) end, "has no certificate")
	T.raises(function() ltls.newtls("proxy", ctx) end, "invalid method:proxy")
	T.raises(function() ltls.newtls("client", {}) end, "need sslctx")
	T.raises(function() ltls.newtls("client", ctx, "bad host name!") end, "host name")

	local srv = ltls.newtls("server", server_ctx())
	T.raises(function() srv:handshake("GET / HTTP/1.1\r\nHost: x\r\n\r\n") end, "plain HTTP, not TLS")
	T.raises(function() srv:read("more") end, "failed earlier")
	local alert = srv:write()
	T.eq(alert:byte(1), 0x15, "a TLS alert for the peer")
	srv = ltls.newtls("server", server_ctx())
	T.raises(function() srv:handshake("\22\3\1\0\5junk!") end, "tls handshake")
	T.raises(function() srv:set_ext_host_name("x") end, "failed earlier")
	local client = ltls.newtls("client", ltls.newctx())
	client:handshake()
	T.raises(function() client:set_ext_host_name("localhost") end, "the handshake has started")
end)

T.case("set_verify: the CA's certificate passes for its name, fails for another", function()
	local ctx = ltls.newctx()
	ctx:set_verify(CA)
	handshake(ltls.newtls("client", ctx, "localhost"), ltls.newtls("server", server_ctx()))
	local tls = ltls.newtls("client", ctx)
	T.eq(tls:set_ext_host_name("127.0.0.1"), 1)
	handshake(tls, ltls.newtls("server", server_ctx()))
	local client = ltls.newtls("client", ctx, "other.example")
	local srv = ltls.newtls("server", server_ctx())
	local s1 = srv:handshake(client:handshake())
	T.raises(function() client:handshake(s1) end, "not valid for name")
	T.raises(function() ltls.newtls("client", ctx):handshake() end, "needs its host name")
	local strict = ltls.newctx()
	strict:set_verify(true) -- the Mozilla roots: our CA is not one of them
	client = ltls.newtls("client", strict, "localhost")
	srv = ltls.newtls("server", server_ctx())
	s1 = srv:handshake(client:handshake())
	T.raises(function() client:handshake(s1) end, "UnknownIssuer")
	T.raises(function() ctx:set_verify("/nonexistent/ca.pem") end, "cafile /nonexistent/ca.pem")
	T.raises(function() ctx:set_verify({}) end, "not a table")
end)

T.case("set_ciphers maps OpenSSL and IANA names, refuses a list rustls has none of", function()
	local sctx = server_ctx()
	sctx:set_ciphers("TLS_CHACHA20_POLY1305_SHA256")
	local cctx = ltls.newctx()
	cctx:set_ciphers("HIGH:!aNULL:TLS13_CHACHA20_POLY1305_SHA256:ECDHE-ECDSA-AES128-GCM-SHA256")
	handshake(ltls.newtls("client", cctx), ltls.newtls("server", sctx))
	T.raises(function() cctx:set_ciphers("AES128-SHA:RC4-MD5") end, "names no cipher suite")
	T.raises(function() cctx:set_ciphers() end, "need cipher list")
	-- disjoint TLS 1.3 suites and no TLS 1.2 one in common: no handshake
	cctx:set_ciphers("TLS_AES_128_GCM_SHA256:ECDHE-RSA-AES128-GCM-SHA256")
	local client, srv = ltls.newtls("client", cctx), ltls.newtls("server", sctx)
	T.raises(function() srv:handshake(client:handshake()) end, "tls handshake")
end)

T.case("httpc https:// to the https server: bytes, headers, large body, SNI host", function()
	local recv = {}
	local status, body = httpc.get("https://127.0.0.1:" .. https_port, "/hello?x=1", recv)
	T.eq(status, 200)
	T.eq(body, "GET /hello?x=1\n")
	T.eq(recv["x-host"], "127.0.0.1:" .. https_port)
	local big = string.rep("x", 200000) .. "end"
	status, body = httpc.request("POST", "https://localhost:" .. https_port, "/big", nil,
		{ ["content-type"] = "text/plain" }, big)
	T.eq(status, 200)
	T.eq(body, "POST /big\n" .. big)
	status, body = httpc.request("PUT", "HTTPS://127.0.0.1:" .. https_port, "up", nil, nil, "abc")
	T.eq(body, "PUT /up\nabc")
end)

T.case("httpc: https:// to a plain HTTP server fails clearly, bad protocols are refused", function()
	local plain = server.listen({ host = "127.0.0.1", port = 0 }, function() return 200, "plain" end)
	T.eq(select(2, httpc.get("http://127.0.0.1:" .. plain.port, "/")), "plain")
	local err = T.raises(function() httpc.get("https://127.0.0.1:" .. plain.port, "/") end)
	T.ok(tostring(err):find("https://127.0.0.1:" .. plain.port, 1, true), tostring(err))
	plain:close()
	T.raises(function() httpc.get("ftp://127.0.0.1", "/") end, "Invalid protocol: ftp")
	T.raises(function() httpc.get("::1", "/") end, "use '[::1]' instead")
end)

T.case("wss:// echo: text, 100 KB binary, ping, close", function()
	local id = websocket.connect("wss://127.0.0.1:" .. wss_port .. "/echo")
	websocket.write(id, "hello wss")
	T.eq(websocket.read(id), "hello wss")
	local big = string.rep("\0\1\2\255", 25000)
	websocket.write(id, big, "binary")
	T.eq(websocket.read(id), big)
	websocket.ping(id)
	websocket.write(id, "after ping")
	T.eq(websocket.read(id), "after ping")
	websocket.close(id)
	T.ok(websocket.is_close(id))
	-- with a host name: SNI "localhost"
	id = websocket.connect("wss://localhost:" .. wss_port)
	websocket.write(id, "sni")
	T.eq(websocket.read(id), "sni")
	websocket.close(id)
end)

T.case("wss:// to the https server's port is not a websocket; ws:// to wss fails", function()
	T.raises(function() websocket.connect("wss://127.0.0.1:" .. https_port .. "/") end,
		"websocket handshake failed")
	T.raises(function() websocket.connect("ws://127.0.0.1:" .. wss_port .. "/", nil, 300) end)
	-- the wss server is still there
	local id = websocket.connect("wss://127.0.0.1:" .. wss_port)
	websocket.write(id, "still up")
	T.eq(websocket.read(id), "still up")
	websocket.close(id)
end)

T.case("httpc.dns: the host is resolved by skynet.dns (/etc/hosts), TLS still to its name", function()
	httpc.dns("127.0.0.1", 1) -- a server that does not answer: localhost must come from /etc/hosts
	local recv = {}
	local status, body = httpc.get("https://localhost:" .. https_port, "/dns", recv)
	T.eq(status, 200)
	T.eq(body, "GET /dns\n")
	T.eq(recv["x-host"], "localhost:" .. https_port)
end)

T.start(function()
	skynet.setenv("certfile", CERT)
	skynet.setenv("keyfile", KEY)
	local node = skynet.newservice "tls_node"
	https_port, wss_port = skynet.call(node, "lua", "ports")
end)
