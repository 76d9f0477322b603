-- bson: skynet's BSON module (as its MongoDB driver uses it), in Lua.
--   local doc = bson.encode { a = 1, b = { 1, 2 } }     -- a document object
--   bson.encode_order("k1", v1, "k2", v2, ...)         -- keys in this order
--   doc:decode() / bson.decode(doc_or_string)          -- back to Lua tables
--   doc:makeindex(); doc.a = 2                         -- replace a top-level value in place
-- Special values are strings starting with "\0" and the BSON type byte, as in skynet:
-- bson.null, bson.minkey, bson.maxkey, bson.binary(s), bson.objectid([hex]), bson.date(sec),
-- bson.timestamp(sec [, inc]), bson.regex(pattern [, options]), bson.int64(n);
-- bson.type(v) returns the type name and the value's parts.
local bson = {}

local REAL, STRING, DOCUMENT, ARRAY, BINARY = 1, 2, 3, 4, 5
local OBJECTID, BOOLEAN, DATE, NULL, REGEX = 7, 8, 9, 10, 11
local DBPOINTER, JSCODE, SYMBOL, CODEWS = 12, 13, 14, 15
local INT32, TIMESTAMP, INT64, MINKEY, MAXKEY = 16, 17, 18, 255, 127
local MAX_DEPTH = 128

local spack, sunpack, schar, sbyte, ssub = string.pack, string.unpack, string.char, string.byte, string.sub
local mtype = math.type

local doc_meta = {}
doc_meta.__index = doc_meta

local function new_doc(bytes)
	return setmetatable({ __bson = bytes }, doc_meta)
end

bson.null = "\0" .. schar(NULL)
bson.minkey = "\0" .. schar(MINKEY)
bson.maxkey = "\0" .. schar(MAXKEY)

function bson.binary(s)
	return "\0" .. schar(BINARY) .. "\0" .. s
end

function bson.date(sec)
	return "\0" .. schar(DATE) .. spack("<i4", sec)
end

function bson.int64(n)
	return "\0" .. schar(INT64) .. spack("<i8", n)
end

local ts_inc = 0
function bson.timestamp(sec, inc)
	if inc == nil then
		inc = ts_inc
		ts_inc = ts_inc + 1
	end
	return "\0" .. schar(TIMESTAMP) .. spack("<I4I4", inc & 0xffffffff, sec)
end

function bson.regex(pattern, options)
	return "\0" .. schar(REGEX) .. pattern .. "\0" .. (options or "") .. "\0"
end

local oid_counter = math.random(0, 0xffffff)
local oid_header = spack(">I4", math.random(0, 0xffffffff)):sub(1, 3) .. spack(">I2", math.random(0, 0xffff))

function bson.objectid(hex)
	if hex then
		assert(#hex == 24, "Invalid objectid " .. hex)
		return "\0" .. schar(OBJECTID) .. (hex:gsub("..", function(h)
			return schar(tonumber(h, 16) or 0)
		end))
	end
	oid_counter = (oid_counter + 1) & 0xffffff
	return "\0" .. schar(OBJECTID) .. spack(">I4", os.time() & 0xffffffff) .. oid_header
		.. spack(">I3", oid_counter)
end

local encode_value

local function cstring(s)
	assert(not s:find("\0", 1, true), "bson key contains \\0")
	return s .. "\0"
end

local function element(t, key, bytes)
	return schar(t) .. cstring(key) .. bytes
end

local function document(parts)
	local body = table.concat(parts) .. "\0"
	return spack("<i4", #body + 4) .. body
end

local function is_rawarray(t)
	local k = next(t)
	if k == nil then
		return false
	end
	local first = mtype(k) == "integer" and k or 0
	if first <= 1 then
		return first > 0
	end
	return first <= #t
end

local function encode_array(t, n, depth)
	local parts = {}
	for i = 1, n do
		parts[#parts + 1] = encode_value(tostring(i - 1), t[i], depth)
	end
	return document(parts)
end

local function dict_key(k)
	if type(k) == "number" then
		error "Bson dictionary's key can't be number"
	elseif type(k) ~= "string" then
		error("Invalid key type : " .. type(k))
	end
	return k
end

local function encode_table(t, depth)
	if depth > MAX_DEPTH then
		error "Too depth while encoding bson"
	end
	local mt = getmetatable(t)
	if mt == doc_meta then
		return DOCUMENT, t.__bson
	end
	if mt and mt.__len then
		local n = #t
		assert(mtype(n) == "integer", "__len should return integer")
		return ARRAY, encode_array(t, n, depth)
	end
	local parts = {}
	if mt and mt.__pairs then
		local f, data, k = mt.__pairs(t)
		while true do
			local v
			k, v = f(data, k)
			if k == nil then
				break
			end
			parts[#parts + 1] = encode_value(dict_key(k), v, depth)
		end
		return DOCUMENT, document(parts)
	end
	if is_rawarray(t) then
		return ARRAY, encode_array(t, #t, depth)
	end
	for k, v in next, t do
		parts[#parts + 1] = encode_value(dict_key(k), v, depth)
	end
	return DOCUMENT, document(parts)
end

local function encode_special(key, s)
	local t = sbyte(s, 2)
	local body = ssub(s, 3)
	if t == BINARY then
		return element(t, key, spack("<i4", #body - 1) .. body)
	elseif t == OBJECTID then
		assert(#body == 12, "Invalid object id")
		return element(t, key, body)
	elseif t == JSCODE or t == DBPOINTER or t == SYMBOL or t == CODEWS then
		return element(t, key, body)
	elseif t == DATE then
		assert(#body == 4, "Invalid date")
		return element(t, key, spack("<i8", sunpack("<I4", body) * 1000))
	elseif t == TIMESTAMP then
		assert(#body == 8, "Invalid timestamp")
		return element(t, key, body)
	elseif t == REGEX then
		return element(t, key, body)
	elseif t == MINKEY or t == MAXKEY or t == NULL then
		return element(t, key, "")
	elseif t == INT64 then
		assert(#body == 8, "Invalid int64")
		return element(t, key, body)
	end
	error("Invalid subtype " .. t)
end

function encode_value(key, v, depth)
	local vt = type(v)
	if vt == "number" then
		if mtype(v) == "integer" then
			if v >= -0x80000000 and v <= 0x7fffffff then
				return element(INT32, key, spack("<i4", v))
			end
			return element(INT64, key, spack("<i8", v))
		end
		return element(REAL, key, spack("<d", v))
	elseif vt == "string" then
		if #v > 1 and sbyte(v, 1) == 0 then
			return encode_special(key, v)
		end
		return element(STRING, key, spack("<i4", #v + 1) .. v .. "\0")
	elseif vt == "table" then
		local t, bytes = encode_table(v, depth + 1)
		return element(t, key, bytes)
	elseif vt == "boolean" then
		return element(BOOLEAN, key, v and "\1" or "\0")
	elseif vt == "nil" then
		error "Bson array has a hole (nil), Use bson.null instead"
	end
	error("Invalid value type : " .. vt)
end

function bson.encode(t)
	local kind, bytes = encode_table(t, 0)
	if kind == ARRAY then
		-- a top-level array is still a document ("0", "1", ... keys)
		return new_doc(bytes)
	end
	return new_doc(bytes)
end

function bson.encode_order(...)
	local n = select("#", ...)
	assert(n % 2 == 0, "encode_order needs key, value pairs")
	local parts = {}
	for i = 1, n, 2 do
		local k, v = select(i, ...)
		if type(k) ~= "string" then
			error(string.format("Argument %d need a string", i))
		end
		parts[#parts + 1] = encode_value(k, v, 0)
	end
	return new_doc(document(parts))
end

local decode_document

-- one element's value at pos (after its key); returns the value and the next position
local function decode_value(t, s, pos, depth)
	if t == REAL then
		return sunpack("<d", s, pos)
	elseif t == STRING then
		local len = sunpack("<i4", s, pos)
		return ssub(s, pos + 4, pos + 4 + len - 2), pos + 4 + len
	elseif t == DOCUMENT or t == ARRAY then
		local len = sunpack("<i4", s, pos)
		return decode_document(s, pos, t == ARRAY, depth + 1), pos + len
	elseif t == BINARY then
		local len = sunpack("<i4", s, pos)
		return "\0" .. schar(BINARY) .. ssub(s, pos + 4, pos + 4 + len), pos + 5 + len
	elseif t == OBJECTID then
		return "\0" .. schar(OBJECTID) .. ssub(s, pos, pos + 11), pos + 12
	elseif t == BOOLEAN then
		return sbyte(s, pos) ~= 0, pos + 1
	elseif t == DATE then
		local ms = sunpack("<i8", s, pos)
		return "\0" .. schar(DATE) .. spack("<I4", (ms // 1000) & 0xffffffff), pos + 8
	elseif t == NULL or t == MINKEY or t == MAXKEY then
		return "\0" .. schar(t), pos
	elseif t == REGEX then
		local p1 = s:find("\0", pos, true)
		local p2 = s:find("\0", p1 + 1, true)
		return "\0" .. schar(REGEX) .. ssub(s, pos, p2), p2 + 1
	elseif t == INT32 then
		return sunpack("<i4", s, pos)
	elseif t == TIMESTAMP then
		return "\0" .. schar(TIMESTAMP) .. ssub(s, pos, pos + 7), pos + 8
	elseif t == INT64 then
		return sunpack("<i8", s, pos)
	elseif t == JSCODE or t == SYMBOL then
		local len = sunpack("<i4", s, pos)
		return "\0" .. schar(t) .. ssub(s, pos, pos + 3 + len), pos + 4 + len
	elseif t == DBPOINTER then
		local len = sunpack("<i4", s, pos)
		return "\0" .. schar(t) .. ssub(s, pos, pos + 3 + len + 12), pos + 4 + len + 12
	elseif t == CODEWS then
		local len = sunpack("<i4", s, pos)
		return "\0" .. schar(t) .. ssub(s, pos, pos + len - 1), pos + len
	end
	error("Invalid bson type " .. tostring(t))
end

-- each element of the document at pos: f(type, key, value_pos, element_start)
local function elements(s, pos)
	local len = sunpack("<i4", s, pos)
	local stop = pos + len - 1
	local p = pos + 4
	return function()
		if p >= stop then
			return nil
		end
		local start = p
		local t = sbyte(s, p)
		local z = s:find("\0", p + 1, true)
		local key = ssub(s, p + 1, z - 1)
		p = z + 1
		return t, key, p, start
	end, function(np)
		p = np
	end
end

function decode_document(s, pos, array, depth)
	if depth > MAX_DEPTH then
		error "Too depth while decoding bson"
	end
	local r = {}
	local iter, seek = elements(s, pos)
	while true do
		local t, key, vpos = iter()
		if not t then
			break
		end
		local v, np = decode_value(t, s, vpos, depth)
		seek(np)
		if array then
			r[(tonumber(key) or 0) + 1] = v
		else
			r[key] = v
		end
	end
	return r
end

local function bytes_of(doc)
	if type(doc) == "string" then
		return doc
	end
	return doc.__bson
end

function bson.decode(doc)
	return decode_document(bytes_of(doc), 1, false, 0)
end

doc_meta.decode = bson.decode

-- Index the top-level keys, so `doc.key = value` replaces that value in place.
function doc_meta:makeindex()
	local index = {}
	local s = self.__bson
	local iter, seek = elements(s, 1)
	while true do
		local t, key, vpos, start = iter()
		if not t then
			break
		end
		local _, np = decode_value(t, s, vpos, 0)
		seek(np)
		index[key] = true
	end
	rawset(self, "__index_keys", index)
	return self
end

function doc_meta:__newindex(key, value)
	local index = rawget(self, "__index_keys")
	assert(index and index[key], "call makeindex first, and only top-level keys can be replaced")
	local s = self.__bson
	local iter, seek = elements(s, 1)
	while true do
		local t, k, vpos, start = iter()
		if not t then
			break
		end
		local _, np = decode_value(t, s, vpos, 0)
		seek(np)
		if k == key then
			local new = encode_value(key, value, 0)
			local body = ssub(s, 5, start - 1) .. new .. ssub(s, np, -1)
			rawset(self, "__bson", spack("<i4", #body + 4) .. body)
			return
		end
	end
end

function doc_meta:__len()
	return #self.__bson
end

function doc_meta:__tostring()
	return self.__bson
end

local TYPENAME = {
	[BINARY] = "binary",
	[OBJECTID] = "objectid",
	[TIMESTAMP] = "timestamp",
	[DATE] = "date",
	[REGEX] = "regex",
	[MINKEY] = "minkey",
	[MAXKEY] = "maxkey",
	[NULL] = "nil",
	[INT64] = "int64",
}

-- bson.type(v): the BSON type name and the value (special values give their parts)
function bson.type(v)
	local t = type(v)
	if t == "nil" then
		return "nil"
	elseif t ~= "string" or #v < 2 or sbyte(v, 1) ~= 0 then
		if t ~= "number" and t ~= "boolean" and t ~= "table" and t ~= "string" then
			error("Invalid type " .. t)
		end
		return t, v
	end
	local sub = sbyte(v, 2)
	local body = ssub(v, 3)
	if sub == BINARY then
		return "binary", ssub(body, 2), sbyte(body, 1)
	elseif sub == OBJECTID then
		return "objectid", (body:gsub(".", function(c)
			return string.format("%02x", sbyte(c))
		end))
	elseif sub == DATE then
		return "date", (sunpack("<i4", body))
	elseif sub == TIMESTAMP then
		local inc, ts = sunpack("<I4I4", body)
		return "timestamp", ts, inc
	elseif sub == REGEX then
		local pattern, options = body:match "^(.-)%z(.-)%z$"
		return "regex", pattern, options
	elseif sub == INT64 then
		return "int64", (sunpack("<i8", body))
	elseif TYPENAME[sub] then
		return TYPENAME[sub]
	end
	return "unsupported", body
end

return bson
