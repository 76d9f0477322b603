-- sproto: cloudwu's Lua API over Cirrus's Rust codec (`sproto.core`).
-- Objects, hosts and message layout match cloudwu/sproto's sproto.lua, so client and
-- server code written for it runs unchanged.

local core = require "sproto.core"

local assert = assert
local setmetatable = setmetatable
local tonumber = tonumber
local error = error
local pack = core.pack
local encode = core.encode
local decode = core.decode

local sproto = {}
local host = {}

local weak_mt = { __mode = "kv" }
local sproto_mt = { __index = sproto }
local host_mt = { __index = host }

local function wrap(cobj)
	return setmetatable({
		__cobj = cobj,
		__tcache = setmetatable({}, weak_mt),
		__pcache = setmetatable({}, weak_mt),
	}, sproto_mt)
end

-- Create from a binary bundle (sprotoparser.parse output).
function sproto.new(bin)
	return wrap(assert(core.newproto(bin)))
end

-- Wrap a core object shared through sprotoloader; the schema stays owned by the store.
function sproto.sharenew(cobj)
	return wrap(cobj)
end

-- Create from schema text.
function sproto.parse(ptext)
	local parser = require "sprotoparser"
	return sproto.new(parser.parse(ptext))
end

function sproto:host(packagename)
	packagename = packagename or "package"
	local obj = {
		__proto = self,
		__package = assert(core.querytype(self.__cobj, packagename), "type package not found"),
		__session = {},
	}
	return setmetatable(obj, host_mt)
end

local function querytype(self, typename)
	local v = self.__tcache[typename]
	if not v then
		v = core.querytype(self.__cobj, typename)
		if not v then
			error("type " .. tostring(typename) .. " not found", 3)
		end
		self.__tcache[typename] = v
	end
	return v
end

function sproto:exist_type(typename)
	return self.__tcache[typename] ~= nil or core.querytype(self.__cobj, typename) ~= nil
end

function sproto:encode(typename, tbl)
	return encode(querytype(self, typename), tbl)
end

-- decode(typename, string) or decode(typename, pointer, size); returns table, bytes used.
function sproto:decode(typename, ...)
	return decode(querytype(self, typename), ...)
end

function sproto:pencode(typename, tbl)
	return pack(encode(querytype(self, typename), tbl))
end

function sproto:pdecode(typename, ...)
	return decode(querytype(self, typename), core.unpack(...))
end

local function queryproto(self, pname)
	local v = self.__pcache[pname]
	if not v then
		local tag, req, resp = core.protocol(self.__cobj, pname)
		assert(tag, tostring(pname) .. " not found")
		if tonumber(pname) then
			pname, tag = tag, pname
		end
		v = {
			request = req,
			response = resp,
			name = pname,
			tag = tag,
		}
		self.__pcache[pname] = v
		self.__pcache[tag] = v
	end
	return v
end

sproto.queryproto = queryproto

function sproto:exist_proto(pname)
	return self.__pcache[pname] ~= nil or core.protocol(self.__cobj, pname) ~= nil
end

function sproto:request_encode(protoname, tbl)
	local p = queryproto(self, protoname)
	local request = p.request
	if request then
		return encode(request, tbl), p.tag
	else
		return "", p.tag
	end
end

function sproto:response_encode(protoname, tbl)
	local p = queryproto(self, protoname)
	local response = p.response
	if response then
		return encode(response, tbl)
	else
		return ""
	end
end

function sproto:request_decode(protoname, ...)
	local p = queryproto(self, protoname)
	local request = p.request
	if request then
		return decode(request, ...), p.name
	else
		return nil, p.name
	end
end

function sproto:response_decode(protoname, ...)
	local p = queryproto(self, protoname)
	local response = p.response
	if response then
		return decode(response, ...)
	end
end

sproto.pack = core.pack
sproto.unpack = core.unpack

-- A table of default values; what is "REQUEST" or "RESPONSE" to name a protocol's part.
function sproto:default(typename, what)
	if what == nil then
		return core.default(querytype(self, typename))
	end
	local p = queryproto(self, typename)
	if what == "REQUEST" then
		if p.request then
			return core.default(p.request)
		end
	elseif what == "RESPONSE" then
		if p.response then
			return core.default(p.response)
		end
	else
		error "Invalid type"
	end
end

local header_tmp = {}

local function gen_response(self, response, session)
	return function(args, ud)
		header_tmp.type = nil
		header_tmp.session = session
		header_tmp.ud = ud
		local header = encode(self.__package, header_tmp)
		if response then
			-- `response nil` protocols carry a NULL type, which encodes nil args as "".
			return pack(header .. encode(response, args))
		else
			return pack(header)
		end
	end
end

-- Returns "REQUEST", name, args, response_function, ud
--      or "RESPONSE", session, args, ud
function host:dispatch(...)
	local bin = core.unpack(...)
	header_tmp.type = nil
	header_tmp.session = nil
	header_tmp.ud = nil
	local header, size = decode(self.__package, bin, header_tmp)
	local content = bin:sub(size + 1)
	if header.type then
		-- request
		local proto = queryproto(self.__proto, header.type)
		local result
		if proto.request then
			result = decode(proto.request, content)
		end
		if header_tmp.session then
			return "REQUEST", proto.name, result, gen_response(self, proto.response, header_tmp.session), header.ud
		else
			return "REQUEST", proto.name, result, nil, header.ud
		end
	else
		-- response
		local session = assert(header_tmp.session, "session not found")
		local response = assert(self.__session[session], "Unknown session")
		self.__session[session] = nil
		if response == true then
			return "RESPONSE", session, nil, header.ud
		else
			local result = decode(response, content)
			return "RESPONSE", session, result, header.ud
		end
	end
end

-- A function(name, args, session, ud) that encodes requests of `sp` and remembers sessions.
function host:attach(sp)
	return function(name, args, session, ud)
		local proto = queryproto(sp, name)
		header_tmp.type = proto.tag
		header_tmp.session = session
		header_tmp.ud = ud
		local header = encode(self.__package, header_tmp)
		if session then
			self.__session[session] = proto.response or true
		end
		if proto.request then
			return pack(header .. encode(proto.request, args))
		else
			return pack(header)
		end
	end
end

return sproto
