-- The client protocol codec of the gate tier: decodes requests and encodes responses and
-- pushes exactly as cloudwu's sproto host/attach do (package header `type, session, ud`,
-- then the body, 0-packed), on schemas compiled once per process (sprotoloader slots).
--
--   proto.load([dir])              once per node: compile sproto/proto.{c2s,s2c}.sproto
--   local codec = proto.codec()    per service
--   codec:request(msg, sz)         -> name, session, args   | nil, "unknown", tag, session
--                                     raises on bytes that do not decode
--   codec:response(name, session, body, ud)  -> packet
--   codec:error(session, code, ud)           -> packet ({code} decodes as any response)
--   codec:push(name, body, ud)               -> packet
--   codec:prepare(name, body) -> prep; codec:push_prepared(prep, ud) -> packet (one body
--                                     encoding for many receivers)

local skynet = require "skynet"
local sproto = require "sproto"
local core = require "sproto.core"
local loader = require "sprotoloader"

local C2S, S2C = 1, 2

local proto = {}

function proto.load(dir)
	dir = dir or skynet.getenv "sproto_dir" or ((skynet.getenv "root" or "./") .. "sproto/")
	loader.register(dir .. "proto.c2s.sproto", C2S)
	loader.register(dir .. "proto.s2c.sproto", S2C)
end

local Codec = {}
Codec.__index = Codec

function proto.codec()
	local c2s, s2c = loader.load(C2S), loader.load(S2C)
	return setmetatable({
		c2s = c2s,
		s2c = s2c,
		package = assert(core.querytype(c2s.__cobj, "package"), "c2s: no package type"),
		error_type = assert(core.querytype(c2s.__cobj, "Error"), "c2s: no Error type"),
		header = {},
	}, Codec)
end

-- Protocol info by tag or name, cached: {name, tag, request, response}.
local function query(sp, key)
	local p = sp.__pcache[key]
	if p == nil then
		local a, req, resp = core.protocol(sp.__cobj, key)
		if not a then
			return nil
		end
		local name, tag = key, a
		if math.type(key) == "integer" then
			name, tag = a, key
		end
		p = { name = name, tag = tag, request = req, response = resp }
		sp.__pcache[name] = p
		sp.__pcache[tag] = p
	end
	return p
end

function Codec:request(msg, sz)
	local bin = core.unpack(msg, sz)
	local h = self.header
	h.type, h.session, h.ud = nil, nil, nil
	local header, used = core.decode(self.package, bin, h)
	local tag, session = header.type, header.session
	if not tag then
		error("a response where a request was expected", 0)
	end
	local p = query(self.c2s, tag)
	if not p then
		return nil, "unknown", tag, session
	end
	local args
	if p.request then
		args = core.decode(p.request, bin:sub(used + 1))
	end
	return p.name, session, args or {}
end

local function header(self, tag, session, ud)
	local h = self.header
	h.type, h.session, h.ud = tag, session, ud
	return core.encode(self.package, h)
end

function Codec:response(name, session, body, ud)
	local p = assert(query(self.c2s, name), name)
	if p.response then
		return core.pack(header(self, nil, session, ud) .. core.encode(p.response, body))
	end
	return core.pack(header(self, nil, session, ud))
end

function Codec:error(session, code, ud)
	return core.pack(header(self, nil, session, ud) .. core.encode(self.error_type, { code = code }))
end

function Codec:push(name, body, ud)
	local p = query(self.s2c, name)
	if not p then
		error("unknown push " .. tostring(name), 2)
	end
	if p.request then
		return core.pack(header(self, p.tag, nil, ud) .. core.encode(p.request, body))
	end
	return core.pack(header(self, p.tag, nil, ud))
end

-- A push body encoded once for many receivers: only the header (their ud) differs.
function Codec:prepare(name, body)
	local p = query(self.s2c, name)
	if not p then
		error("unknown push " .. tostring(name), 2)
	end
	return { tag = p.tag, body = p.request and core.encode(p.request, body) or "" }
end

function Codec:push_prepared(prep, ud)
	return core.pack(header(self, prep.tag, nil, ud) .. prep.body)
end

-- True when `name` is a push the s2c schema defines.
function Codec:has_push(name)
	return query(self.s2c, name) ~= nil
end

proto.sproto = sproto
return proto
