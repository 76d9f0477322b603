-- sproto Lua API: encode/decode/pack/unpack/default/queries, run by the kernel's Rust tests
-- (kernel/src/sproto/tests.rs) with package.path at lualib/ and `sproto.core` preloaded.

local sproto = require "sproto"
local parser = require "sprotoparser"
local core = require "sproto.core"

local function hex(s)
	return (s:gsub("%s", ""):gsub("..", function(h) return string.char(tonumber(h, 16)) end))
end

local function tohex(s)
	return (s:gsub(".", function(c) return string.format("%02X ", c:byte()) end))
end

local function eq(a, b, path)
	path = path or "value"
	if type(a) ~= type(b) then
		error(string.format("%s: %s ~= %s", path, tostring(a), tostring(b)), 2)
	end
	if type(a) ~= "table" then
		if a ~= b or math.type(a) ~= math.type(b) then
			error(string.format("%s: %s (%s) ~= %s (%s)", path, tostring(a), math.type(a), tostring(b), math.type(b)), 2)
		end
		return
	end
	for k, v in pairs(a) do eq(v, b[k], path .. "." .. tostring(k)) end
	for k in pairs(b) do
		if a[k] == nil then error(path .. "." .. tostring(k) .. " missing", 2) end
	end
end

local function fails(pattern, f, ...)
	local ok, err = pcall(f, ...)
	assert(not ok, "expected an error matching " .. pattern)
	assert(tostring(err):find(pattern, 1, true), "error '" .. tostring(err) .. "' lacks '" .. pattern .. "'")
end

local schema = [[
.Person {
	name 0 : string
	age 1 : integer
	marital 2 : boolean
	children 3 : *Person
}

.Data {
	numbers 0 : *integer
	bools 1 : *boolean
	number 2 : integer
	bignumber 3 : integer
	double 4 : double
	doubles 5 : *double
	fpn 6 : integer(2)
}

.AddressBook {
	.Entry {
		id 0 : integer
		name 1 : string
		blob 2 : binary
	}
	.Score {
		player 0 : string
		points 1 : integer
	}
	byid 0 : *Entry(id)
	scores 1 : *Score()
	owner 2 : Entry
}

foobar 1 {
	request Person
	response {
		ok 0 : boolean
	}
}

ping 2 {
	response nil
}
]]

local sp = sproto.parse(schema)

-- README example 2, exact bytes.
local bob = {
	name = "Bob", age = 40,
	children = { { name = "Alice", age = 13 }, { name = "Carol", age = 5 } },
}
local code = sp:encode("Person", bob)
assert(code == hex [[
	04 00 00 00 52 00 01 00 00 00
	03 00 00 00 42 6F 62
	26 00 00 00
	0F 00 00 00 02 00 00 00 1C 00 05 00 00 00 41 6C 69 63 65
	0F 00 00 00 02 00 00 00 0C 00 05 00 00 00 43 61 72 6F 6C
]], tohex(code))
local back, used = sp:decode("Person", code)
eq(back, bob)
assert(used == #code)

-- Integers stay integers, decimals and doubles are floats.
local data = {
	numbers = { 1, 2, (1 << 40) },
	bools = { false, true, false },
	number = 100000,
	bignumber = -10000000000,
	double = 0.01171875,
	doubles = { 0.01171875, 23, 4 },
	fpn = 1.82,
}
local d = sp:decode("Data", sp:encode("Data", data))
assert(math.type(d.numbers[3]) == "integer" and d.numbers[3] == 1 << 40)
assert(math.type(d.fpn) == "float" and d.fpn == 1.82)
assert(math.type(d.doubles[2]) == "float" and d.doubles[2] == 23.0)
data.doubles[2], data.doubles[3] = 23.0, 4.0
eq(d, data)
-- README example 7 bytes for the doubles.
assert(sp:encode("Data", { double = 0.01171875, doubles = { 0.01171875, 23, 4 } }) == hex [[
	03 00 07 00 00 00 00 00
	08 00 00 00 00 00 00 00 00 00 88 3F
	19 00 00 00 08 00 00 00 00 00 00 88 3F 00 00 00 00 00 00 37 40 00 00 00 00 00 00 10 40
]])
-- Integral floats and numeric strings are accepted for integers, like lua_tointegerx.
eq(sp:decode("Data", sp:encode("Data", { number = 3.0, bignumber = "12" })), { number = 3, bignumber = 12 })
fails("Data.number[0] is not an integer (Is a number)", sp.encode, sp, "Data", { number = 1.5 })
fails("Person.marital[0] is not a boolean", sp.encode, sp, "Person", { marital = 1 })
fails("Person.name[0] is not a string (Is a number)", sp.encode, sp, "Person", { name = 5 })
fails("type Nope not found", sp.encode, sp, "Nope", {})

-- Maps: main index and two-field form; binary strings keep every byte.
local book = {
	byid = {
		[7] = { id = 7, name = "seven", blob = "\0\1\2\255" },
		[9] = { id = 9, name = "nine" },
	},
	scores = { alice = 10, bob = -3 },
	owner = { id = 1, name = "me" },
}
eq(sp:decode("AddressBook", sp:encode("AddressBook", book)), book)
-- Empty arrays survive as empty tables; absent arrays stay nil.
local e = sp:decode("Data", sp:encode("Data", { numbers = {} }))
assert(type(e.numbers) == "table" and next(e.numbers) == nil and e.bools == nil)

-- pencode/pdecode and pack/unpack (README packing example).
local p = sp:pencode("Person", bob)
eq(sp:pdecode("Person", p), bob)
assert(sproto.pack(hex "08 00 00 00 03 00 02 00 19 00 00 00 aa 01 00 00") == hex "51 08 03 02 31 19 aa 01")
assert(sproto.unpack(hex "51 08 03 02 31 19 aa 01") == hex "08 00 00 00 03 00 02 00 19 00 00 00 aa 01 00 00")
assert(sproto.pack(string.rep("\x8a", 30)) == hex "ff 03" .. string.rep("\x8a", 30) .. hex "00 00")
fails("Invalid unpack stream", sproto.unpack, hex "ff 03 8a")
fails("decode error", sp.decode, sp, "Person", hex "05 00 00 00")

-- Decoding into an existing table (what host:dispatch does with the header).
local into = { keep = true }
local t, n = core.decode(core.querytype(sp.__cobj, "Person"), sp:encode("Person", { age = 3 }), into)
assert(t == into and into.keep and into.age == 3 and n == 6)

-- Queries.
assert(sp:exist_type("Person") and sp:exist_type("AddressBook.Entry") and not sp:exist_type("Entry"))
assert(sp:exist_proto("foobar") and sp:exist_proto(2) and not sp:exist_proto("nope"))
local q = sp:queryproto("foobar")
assert(q.name == "foobar" and q.tag == 1 and q.request and q.response)
assert(sp:queryproto(1) == q)
local ping = sp:queryproto("ping")
assert(ping.request == nil and ping.response ~= nil, "response nil is a non-nil NULL type")
assert(core.encode(ping.response, nil) == "")

-- request/response encode/decode helpers.
local req, tag = sp:request_encode("foobar", { name = "x", age = 1 })
assert(tag == 1)
eq(sp:request_decode("foobar", req), { name = "x", age = 1 })
assert(select(2, sp:request_decode("foobar", req)) == "foobar")
eq(sp:response_decode("foobar", sp:response_encode("foobar", { ok = true })), { ok = true })
assert(sp:request_encode("ping") == "")
assert(sp:response_decode("ping", "") == nil)

-- Defaults, in cloudwu's shape.
eq(sp:default("Person"), { name = "", age = 0, marital = false, children = { __array = "Person" } })
eq(sp:default("Data"), {
	numbers = { __array = 0 }, bools = { __array = false }, number = 0, bignumber = 0,
	double = 0.0, doubles = { __array = 0.0 }, fpn = 0.0,
})
eq(sp:default("AddressBook").owner, { __type = "AddressBook.Entry" })
eq(sp:default("foobar", "RESPONSE"), { ok = false })
assert(sp:default("ping", "REQUEST") == nil)
fails("Invalid type", sp.default, sp, "foobar", "BOTH")

-- The parser: bundle, errors with lines, hex dump.
local bin = parser.parse(schema)
assert(sproto.new(bin):encode("Person", bob) == code)
fails("[my.sproto] line 2: undefined type Nope in type A", parser.parse, ".A {\n a 0 : Nope }", "my.sproto")
local ok, err = core.newproto("garbage")
assert(ok == nil and err:find("invalid sproto schema", 1, true))

-- The client schemas in sproto/ compile through the Lua path as well.
for _, name in ipairs { "proto.c2s.sproto", "proto.s2c.sproto" } do
	local f = assert(io.open(REPO_ROOT .. "/sproto/" .. name))
	local text = f:read "a"
	f:close()
	local s = sproto.new(parser.parse(text, name))
	assert(s:exist_type("package"), name)
end
