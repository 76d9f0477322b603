-- Prints BSON encodings and decodings for fixed values, one line each; runs unmodified on
-- skynet and on Cirrus (kernel/tests/skynet.rs compares the two).
local skynet = require "skynet"
require "skynet.manager" -- skynet.abort
local bson = require "bson"

local function hex(s)
	return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end))
end

local values = {
	{ "int32", 7 }, { "negative", -2 }, { "int64", 1 << 40 }, { "double", 0.5 },
	{ "string", "hi" }, { "true", true }, { "false", false },
	{ "array", { 1, "two", 3.5 } }, { "doc", bson.encode_order("x", 1) },
	{ "binary", bson.binary "\0\1" }, { "objectid", bson.objectid "0123456789abcdef01234567" },
	{ "date", bson.date(1700000000) }, { "timestamp", bson.timestamp(1700000000, 9) },
	{ "regex", bson.regex("^a", "i") }, { "null", bson.null }, { "minkey", bson.minkey },
	{ "maxkey", bson.maxkey }, { "int64box", bson.int64(5) },
}

skynet.start(function()
	for _, kv in ipairs(values) do
		local doc = bson.encode_order("v", kv[2])
		print("BSON " .. kv[1] .. " " .. hex(tostring(doc)))
		local back = bson.decode(doc).v
		local parts = table.pack(bson.type(back))
		for i = 2, parts.n do
			if type(parts[i]) == "table" then
				parts[i] = "table"
			else
				parts[i] = tostring(parts[i])
			end
		end
		print("BSONTYPE " .. kv[1] .. " " .. table.concat(parts, " ", 1, parts.n))
	end
	local b = bson.encode_order("a", 1, "s", "x")
	b:makeindex()
	b.a = 2
	print("BSON replaced " .. hex(tostring(b)))
	skynet.abort()
end)
