-- http.server and http.httpc in one service: the server's accept loop and the client's
-- requests are separate coroutines, so nothing blocks.

local skynet = require "skynet"
local server = require "http.server"
local httpc = require "http.httpc"
local T = require "testing"

local srv
local seen = {}

local function start()
	srv = server.listen({ host = "127.0.0.1", port = 0, max_body = 1024 }, function(req)
		seen[#seen + 1] = req
		if req.path == "/hello" then
			return 200, "hello " .. (server.parse_query(req.query).name or "?"), { ["x-reply"] = "yes" }
		elseif req.path == "/post" then
			return 201, req.method .. ":" .. req.headers["content-type"] .. ":" .. req.body
		elseif req.path == "/slow" then
			skynet.sleep(50)
			return 200, "slow"
		elseif req.path == "/fail" then
			error("handler blew up")
		end
		return 404, "no such page"
	end)
end

local function host()
	return "127.0.0.1:" .. srv.port
end

T.case("GET with query, response headers", function()
	local recv = {}
	local status, body = httpc.get(host(), "/hello?name=cirrus%20node", recv, { ["x-req"] = "1" })
	T.eq(status, 200)
	T.eq(body, "hello cirrus node")
	T.eq(recv["x-reply"], "yes")
	local req = seen[#seen]
	T.eq(req.method, "GET")
	T.eq(req.headers["x-req"], "1")
	T.ok(string.match(req.addr, "^127%.0%.0%.1:%d+$"), req.addr)
end)

T.case("POST form and raw body", function()
	local status, body = httpc.post(host(), "/post", { a = "1 2" })
	T.eq(status, 201)
	T.eq(body, "POST:application/x-www-form-urlencoded:a=1%202")
	status, body = httpc.request("PUT", "http://" .. host(), "/post", nil, { ["content-type"] = "text/plain" }, "raw")
	T.eq(status, 201)
	T.eq(body, "PUT:text/plain:raw")
end)

T.case("404, handler error is a 500, body over max_body is a 413", function()
	T.eq((httpc.get(host(), "/nothing")), 404)
	T.eq((httpc.get(host(), "/fail")), 500)
	T.eq((httpc.request("POST", host(), "/post", nil, nil, string.rep("x", 4096))), 413)
end)

T.case("concurrent requests while a handler sleeps", function()
	local done = 0
	for _ = 1, 5 do
		skynet.fork(function()
			local s, b = httpc.get(host(), "/slow")
			if s == 200 and b == "slow" then done = done + 1 end
		end)
	end
	local t0 = skynet.now()
	while done < 5 and skynet.now() - t0 < 500 do
		skynet.sleep(5)
	end
	T.eq(done, 5)
	T.ok(skynet.now() - t0 < 200, "handlers ran concurrently")
end)

T.case("client timeout and refused connection raise", function()
	httpc.timeout = 10
	local err = T.raises(function() httpc.get(host(), "/slow") end, "timed out")
	httpc.timeout = nil
	T.ok(err)
	local s = server.listen({ host = "127.0.0.1", port = 0 }, function() return 200 end)
	local dead = s.port
	s:close()
	skynet.sleep(1)
	T.raises(function() httpc.get("127.0.0.1:" .. dead, "/") end)
	T.raises(function() httpc.get("ftp://example.invalid", "/") end, "Invalid protocol: ftp")
end)

T.start(start)
