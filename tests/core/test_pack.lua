-- skynet.pack/unpack: round trips and byte-exact agreement with skynet's lua-seri format.
-- Expected bytes are derived by hand from the format: header byte = type | cookie << 3;
-- nil 0, boolean 1, number 2 (zero 0, byte 1, word 2, dword 4, qword 6, real 8),
-- userdata 3, short string 4 (cookie = len < 32), long string 5 (cookie 2: u16, 4: u32),
-- table 6 (cookie = array size < 31, else 31 + the size as a number), little-endian.
local skynet = require "skynet"
local T = require "testing"

local function hex(s)
	return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end))
end

local function bytes(h)
	return (h:gsub("%s", ""):gsub("..", function(x) return string.char(tonumber(x, 16)) end))
end

local vectors = {
	{ "nil", { nil }, 1, "00" },
	{ "true", { true }, 1, "09" },
	{ "false", { false }, 1, "01" },
	{ "zero", { 0 }, 1, "02" },
	{ "byte", { 255 }, 1, "0a ff" },
	{ "word", { 256 }, 1, "12 0001" },
	{ "word max", { 65535 }, 1, "12 ffff" },
	{ "dword", { 65536 }, 1, "22 00000100" },
	{ "int32 max", { 2147483647 }, 1, "22 ffffff7f" },
	{ "minus one", { -1 }, 1, "22 ffffffff" },
	{ "int32 min", { -2147483648 }, 1, "22 00000080" },
	{ "qword", { 2147483648 }, 1, "32 0000008000000000" },
	{ "qword neg", { -2147483649 }, 1, "32 ffffff7fffffffff" },
	{ "int64 max", { math.maxinteger }, 1, "32 ffffffffffffff7f" },
	{ "real", { 1.5 }, 1, "42 000000000000f83f" },
	{ "empty string", { "" }, 1, "04" },
	{ "short string", { "abc" }, 1, "1c 616263" },
	{ "string 31", { string.rep("x", 31) }, 1, "fc" .. string.rep("78", 31) },
	{ "string 32", { string.rep("y", 32) }, 1, "15 2000" .. string.rep("79", 32) },
	{ "array", { { 1, 2 } }, 1, "16 0a01 0a02 00" },
	{ "hash", { { a = 1 } }, 1, "06 0c61 0a01 00" },
	{ "mixed", { { 7, k = "v" } }, 1, "0e 0a07 0c6b 0c76 00" },
	{ "nested", { { { true } } }, 1, "0e 0e 09 00 00" },
	{ "multi", { 1, "a", nil, false }, 4, "0a01 0c61 00 01" },
}

T.case("bytes match skynet's format", function()
	for _, v in ipairs(vectors) do
		local name, args, n, want = v[1], v[2], v[3], v[4]
		local got = skynet.packstring(table.unpack(args, 1, n))
		T.eq(hex(got), hex(bytes(want)), name)
	end
end)

T.case("array of 31 or more uses the extended cookie", function()
	local t = {}
	for i = 1, 31 do t[i] = 0 end
	local got = skynet.packstring(t)
	-- fe = table | 31 << 3, then 0a 1f = the size 31 as a byte number, 31 zeros, nil
	T.eq(hex(got), "fe0a1f" .. string.rep("02", 31) .. "00")
end)

T.case("decoding skynet-produced bytes", function()
	for _, v in ipairs(vectors) do
		local name, args, n, want = v[1], v[2], v[3], v[4]
		local out = table.pack(skynet.unpack(bytes(want)))
		T.eq(out.n, n, name .. " count")
		for i = 1, n do
			T.same(out[i], args[i], name)
		end
	end
end)

T.case("round trip of every type", function()
	local big = string.rep("z", 70000)
	local deep = { level = 1, child = { level = 2, child = { level = 3, list = { 1, 2, { 3 } } } } }
	local values = { nil, true, false, 0, -7, 300, 70000, -2 ^ 40 // 1, math.mininteger, 0.25, -1e300, "", "s", big, deep,
		{ [1] = "a", [2] = "b", [10] = "sparse", [-1] = "neg", [1.5] = "float key", [true] = "bool key" } }
	local n = 16
	local out = table.pack(skynet.unpack(skynet.pack(table.unpack(values, 1, n))))
	T.eq(out.n, n)
	for i = 1, n do
		T.same(out[i], values[i], "value " .. i)
		if math.type(values[i]) then
			T.eq(math.type(out[i]), math.type(values[i]), "number subtype " .. i)
		end
	end
end)

T.case("pack pointer pairs are consumed by send and trash", function()
	local msg, sz = skynet.pack("x", 1)
	T.eq(type(msg), "userdata")
	T.eq(select(2, skynet.unpack(msg, sz)), 1)
	skynet.trash(msg, sz)
	T.raises(function() skynet.unpack(msg, sz) end, "invalid message pointer")
end)

T.case("bad input raises instead of crashing", function()
	T.raises(function() skynet.unpack("\x16\x0a") end)
	T.raises(function() skynet.unpack("\x15\xff\xff") end)
	T.raises(function() skynet.unpack("\xfe\x32\xff\xff\xff\xff\xff\xff\xff\x7f") end)
	T.raises(function() skynet.pack(print) end, "function")
	local t = {}
	local cur = t
	for i = 1, 40 do cur.x = {}; cur = cur.x end
	T.raises(function() skynet.pack(t) end, "depth")
	-- random garbage never brings the service down
	math.randomseed(42)
	for i = 1, 2000 do
		local len = math.random(0, 24)
		local s = {}
		for j = 1, len do s[j] = string.char(math.random(0, 255)) end
		pcall(skynet.unpack, table.concat(s))
	end
end)

T.case("the C paths of pack, send and unpack keep the Lua contracts", function()
	-- a table with __pairs anywhere inside takes the iterator path, also through sendpack
	local hidden = setmetatable({}, { __pairs = function()
		return function(_, k) if k == nil then return "k", "v" end end, nil, nil
	end })
	local out = table.pack(skynet.unpack(skynet.pack(1, { inner = hidden })))
	T.same(out[2], { inner = { k = "v" } })
	local b = skynet.newservice("svc_echo")
	local r = skynet.call(b, "lua", "echo", { hidden, 2 })
	T.same(r, { { k = "v" }, 2 })
	-- argument errors are Lua errors with the same messages as before
	T.raises(function() skynet.rawsend(true, "lua", "x") end, "invalid address type")
	T.raises(function() skynet.unpack(12) end, "expected a message")
	T.raises(function() skynet.unpack(skynet.pack(1), -1) end, "invalid message size")
	T.raises(function() skynet.timeout("soon", function() end) end, "timeout must be a number")
	-- an unknown address: send returns nil, call raises
	T.eq(skynet.send(0x7fffff0, "lua", "x"), nil)
	T.raises(function() skynet.call(0x7fffff0, "lua", "x") end, "invalid address")
	-- a string message with a size sends that prefix
	skynet.rawsend(b, "lua", skynet.packstring("record", 7) .. "junk", #skynet.packstring("record", 7))
	T.eq(skynet.call(b, "lua", "received")[1], 7)
end)

T.start()
