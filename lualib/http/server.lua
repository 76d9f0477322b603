-- http.server: serve HTTP from a service (hyper underneath; keep-alive, parsing and limits are
-- handled in Rust). Each request runs in its own coroutine, so a handler may skynet.call.
--
--   local server = require "http.server"
--   local srv = server.listen({ host = "0.0.0.0", port = 8080 }, function(req)
--       -- req.method, req.path, req.query, req.headers (lower-case names), req.body, req.addr
--       if req.path == "/health" then return 200, "ok" end
--       return 404, "not found\n", { ["content-type"] = "text/plain" }
--   end)
--   srv.port       -- the bound port (useful with port = 0)
--   srv:close()
--
-- opts: host ("0.0.0.0"), port (0 = any free port), max_body (bytes, default 8 MiB; larger
-- bodies get 413), timeout (seconds a handler may take, default 30; then 504).
-- A handler returns status [, body [, headers]]; an error becomes a logged 500.

local skynet = require "skynet"
local core = require "http.core"

local server = {}

local function serve_one(handler, req)
	local ok, status, body, headers = xpcall(handler, debug.traceback, req)
	if not ok then
		skynet.error(string.format("http %s %s: handler error: %s", req.method, req.path, tostring(status)))
		core.respond(req.id, 500, "internal server error\n")
		return
	end
	core.respond(req.id, math.tointeger(status) or 200, body ~= nil and tostring(body) or "", headers)
end

function server.listen(opts, handler)
	assert(type(handler) == "function", "http.server.listen(opts, handler)")
	local c = core.listen(opts.host or "0.0.0.0", opts.port or 0, opts.max_body, opts.timeout)
	local srv = { port = c:port() }
	local running = true
	skynet.fork(function()
		while running do
			local ok, req = pcall(skynet.await, c:accept())
			if not ok then
				break
			end
			skynet.fork(serve_one, handler, req)
		end
	end)
	function srv:close()
		running = false
		c:close()
	end
	return srv
end

function server.urldecode(s)
	s = string.gsub(s, "+", " ")
	return (string.gsub(s, "%%(%x%x)", function(h)
		return string.char(tonumber(h, 16))
	end))
end

-- "a=1&b=x%20y" -> { a = "1", b = "x y" }
function server.parse_query(q)
	local r = {}
	for k, v in string.gmatch(q or "", "([^&=]+)=?([^&]*)") do
		r[server.urldecode(k)] = server.urldecode(v)
	end
	return r
end

return server
