-- skynet.dns: an asynchronous DNS client (A and AAAA over UDP), as skynet's.
--   dns.server([address [, port]])  -- the server to ask (default: the first nameserver of
--                                   -- /etc/resolv.conf, port 53)
--   local ip, ips = dns.resolve(name [, ipv6])  -- the first address and all of them;
--                                   -- nil, err on failure (raises on timeout, as skynet)
--   dns.flush()                     -- forget cached answers
-- IP literals come back as they are; /etc/hosts is read first; answers are cached for their TTL.
local skynet = require "skynet"
local socket = require "skynet.socket"

local dns = {}

local A, AAAA, CNAME = 1, 28, 5
local TIMEOUT = 100 -- 1/100 s per try
local TRIES = 2

local server = {}
local cache = {}
local hosts
local udp -- the socket, opened on first use
local next_id = math.random(0, 0xffff)
local waiting = {} -- query id -> { co = coroutine, answer = ... }

function dns.server(address, port)
	if not address then
		local f = io.open("/etc/resolv.conf")
		if f then
			for line in f:lines() do
				address = address or line:match "^%s*nameserver%s+([^%s]+)"
			end
			f:close()
		end
	end
	assert(address, "dns.server: no server given and none in /etc/resolv.conf")
	server.address = address
	server.port = port or 53
	if udp then
		socket.close(udp)
		udp = nil
	end
end

function dns.flush()
	cache = { [A] = {}, [AAAA] = {} }
end

dns.flush()

local function load_hosts()
	hosts = { [A] = {}, [AAAA] = {} }
	local f = io.open "/etc/hosts"
	if not f then
		return
	end
	for line in f:lines() do
		local ip, names = line:match "^%s*([%x%.:]+)%s+([^#]+)"
		if ip then
			local kind = ip:find(":", 1, true) and AAAA or A
			for name in names:gmatch "%S+" do
				local list = hosts[kind][name:lower()]
				if not list then
					list = {}
					hosts[kind][name:lower()] = list
				end
				list[#list + 1] = ip
			end
		end
	end
	f:close()
end

local function encode_name(name)
	local parts = {}
	for label in name:gmatch "[^%.]+" do
		assert(#label < 64, "illegal name")
		parts[#parts + 1] = string.char(#label) .. label
	end
	return table.concat(parts) .. "\0"
end

-- the position after the (possibly compressed) name at pos
local function skip_name(msg, pos)
	while true do
		local len = msg:byte(pos)
		if not len then
			error "truncated answer"
		elseif len == 0 then
			return pos + 1
		elseif len >= 0xc0 then
			return pos + 2
		end
		pos = pos + 1 + len
	end
end

local function ipv6_text(b)
	local groups = { string.unpack(">I2I2I2I2I2I2I2I2", b) }
	for i = 1, 8 do
		groups[i] = string.format("%x", groups[i])
	end
	return table.concat(groups, ":", 1, 8)
end

-- { ips }, ttl, or nil, error from a response
local function parse(msg, qtype)
	local _, flags, qd, an = string.unpack(">I2I2I2I2", msg)
	local rcode = flags & 0xf
	if rcode ~= 0 then
		return nil, "dns error rcode " .. rcode
	end
	local pos = 13
	for _ = 1, qd do
		pos = skip_name(msg, pos) + 4
	end
	local ips, ttl = {}, nil
	for _ = 1, an do
		pos = skip_name(msg, pos)
		local t, _, rttl, len = string.unpack(">I2I2I4I2", msg, pos)
		pos = pos + 10
		local data = msg:sub(pos, pos + len - 1)
		pos = pos + len
		if t == qtype then
			if t == A and len == 4 then
				ips[#ips + 1] = string.format("%d.%d.%d.%d", data:byte(1, 4))
			elseif t == AAAA and len == 16 then
				ips[#ips + 1] = ipv6_text(data)
			end
			ttl = ttl and math.min(ttl, rttl) or rttl
		elseif t ~= CNAME then
			-- other records are ignored
		end
	end
	if #ips == 0 then
		return nil, "no ip"
	end
	return ips, ttl
end

local function on_answer(msg)
	if #msg < 12 then
		return
	end
	local id = string.unpack(">I2", msg)
	local w = waiting[id]
	if w then
		waiting[id] = nil
		w.answer = msg
		skynet.wakeup(w.co)
	end
end

local function query(name, qtype)
	if not server.address then
		dns.server()
	end
	if not udp then
		local any = server.address:find(":", 1, true) and "::" or "0.0.0.0"
		udp = socket.udp(on_answer, any, 0)
		socket.udp_connect(udp, server.address, server.port)
	end
	for _ = 1, TRIES do
		next_id = (next_id + 1) & 0xffff
		local id = next_id
		local packet = string.pack(">I2I2I2I2I2I2", id, 0x0100, 1, 0, 0, 0) .. encode_name(name)
			.. string.pack(">I2I2", qtype, 1)
		local w = { co = coroutine.running() }
		waiting[id] = w
		socket.write(udp, packet)
		skynet.sleep(TIMEOUT, w.co)
		waiting[id] = nil
		if w.answer then
			return parse(w.answer, qtype)
		end
	end
	error "timeout or no answer"
end

local function is_ip(name)
	return name:match "^%d+%.%d+%.%d+%.%d+$" or name:find(":", 1, true)
end

function dns.resolve(name, ipv6)
	name = name:lower()
	if is_ip(name) then
		return name
	end
	if not name:match "^[%w%-%.]+$" then
		return nil, "illegal name"
	end
	local qtype = ipv6 and AAAA or A
	if not hosts then
		load_hosts()
	end
	local local_ips = hosts[qtype][name]
	if local_ips then
		return local_ips[1], local_ips
	end
	local c = cache[qtype][name]
	if c and c.expire > skynet.now() then
		return c.ips[1], c.ips
	end
	local ips, ttl = query(name, qtype)
	if not ips then
		return nil, ttl
	end
	cache[qtype][name] = { ips = ips, expire = skynet.now() + ttl * 100 }
	return ips[1], ips
end

return dns
