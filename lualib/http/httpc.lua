-- http.httpc: HTTP client with skynet's API, on hyper's pooled client (keep-alive). Plain
-- http:// only. Each request suspends the calling coroutine, never the worker thread.
--
--   local httpc = require "http.httpc"
--   local status, body = httpc.get("127.0.0.1:8080", "/health")
--   local status, body = httpc.request("POST", "http://127.0.0.1:8080", "/push", recvheader,
--                                      { ["content-type"] = "application/json" }, '{"msg":1}')
--   httpc.timeout = 100   -- centiseconds, for following requests (default 30 s)

local skynet = require "skynet"
local core = require "http.core"

local httpc = {}

local function full_url(host, url)
	if not string.find(host, "^%a[%w+.-]*://") then
		host = "http://" .. host
	end
	url = url or "/"
	if string.sub(url, 1, 1) ~= "/" then
		url = "/" .. url
	end
	return host .. url
end

-- request(method, host, url, recvheader, header, content) -> status, body
-- `recvheader`, if a table, receives the response headers (lower-case names).
function httpc.request(method, host, url, recvheader, header, content)
	local status, body, headers = skynet.await(core.request(method, full_url(host, url), header, content, httpc.timeout))
	if recvheader then
		for k, v in pairs(headers) do
			recvheader[k] = v
		end
	end
	return status, body
end

function httpc.get(host, url, recvheader, header)
	return httpc.request("GET", host, url, recvheader, header)
end

local function escape(s)
	return (string.gsub(s, "([^A-Za-z0-9_.~-])", function(c)
		return string.format("%%%02X", string.byte(c))
	end))
end

-- POST a form (table) as application/x-www-form-urlencoded.
function httpc.post(host, url, form, recvheader)
	local body = {}
	for k, v in pairs(form) do
		body[#body + 1] = escape(tostring(k)) .. "=" .. escape(tostring(v))
	end
	local header = { ["content-type"] = "application/x-www-form-urlencoded" }
	return httpc.request("POST", host, url, recvheader, header, table.concat(body, "&"))
end

-- skynet's httpc.dns switches to async DNS; hyper's resolver already never blocks a worker.
function httpc.dns() end

return httpc
