-- http.httpc: HTTP client with skynet's API, on hyper's pooled client (keep-alive), for
-- http:// and https:// (TLS on rustls; like skynet's, the server's certificate is not
-- verified). Each request suspends the calling coroutine, never the worker thread.
--
--   local httpc = require "http.httpc"
--   local status, body = httpc.get("127.0.0.1:8080", "/health")
--   local status, body = httpc.request("POST", "http://127.0.0.1:8080", "/push", recvheader,
--                                      { ["content-type"] = "application/json" }, '{"msg":1}')
--   httpc.timeout = 100   -- centiseconds, for following requests (default 30 s)
--   httpc.dns([server, port])  -- resolve host names with skynet.dns from then on

local skynet = require "skynet"
local core = require "http.core"
local dns = require "skynet.dns"

local httpc = {}

local default_port = { http = 80, https = 443 }

-- skynet's host forms: "host", "host:port", "1.2.3.4[:port]", "[v6][:port]", each with an
-- optional "http://" or "https://"; returns protocol, host, port, kind, the Host header
local function parse_url(host)
	local protocol, rest = host:match "^(%a[%w+.-]*)://(.*)"
	if protocol then
		protocol = protocol:lower()
	else
		protocol, rest = "http", host
	end
	local port = default_port[protocol]
	if not port then
		error("Invalid protocol: " .. protocol)
	end
	local name, p, kind
	if rest:find(":", (rest:find(":", 1, true) or #rest) + 1, true) then
		name, p = rest:match "^%[(.-)%]:?(%d*)$"
		if not name then
			error(string.format("Invalid host: bare IPv6 address '%s', use '[%s]' instead", rest, rest))
		end
		kind = "ipv6"
	else
		name, p = rest:match "^([^:]*):?(%d*)$"
		if not name then
			error("Invalid host: " .. rest)
		end
		kind = name:find "^%d+%.%d+%.%d+%.%d+$" and "ipv4" or "hostname"
	end
	return protocol, name, tonumber(p) or port, kind, rest
end

local async_dns

-- request(method, host, url, recvheader, header, content) -> status, body
-- `recvheader`, if a table, receives the response headers (lower-case names).
function httpc.request(method, host, url, recvheader, header, content)
	local protocol, name, port, kind, hostheader = parse_url(host)
	local connect
	if async_dns and kind == "hostname" then
		local addr, msg = dns.resolve(name)
		if not addr then
			error(string.format("%s dns resolve failed msg:%s", name, msg))
		end
		connect = (addr:find(":", 1, true) and "[" .. addr .. "]" or addr) .. ":" .. port
	end
	url = url or "/"
	if string.sub(url, 1, 1) ~= "/" then
		url = "/" .. url
	end
	local full = protocol .. "://" .. hostheader .. url
	local status, body, headers = skynet.await(core.request(method, full, header, content, httpc.timeout, connect))
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

-- As skynet's: host names are resolved with skynet.dns (dns.server(server, port), default
-- /etc/resolv.conf) from then on. Without it hyper's resolver runs, which never blocks a
-- worker either.
function httpc.dns(server, port)
	async_dns = true
	dns.server(server, port)
end

return httpc
