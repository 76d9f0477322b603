-- sprotoparser: schema text -> binary bundle, byte-identical to cloudwu's parser output.
-- The grammar and checks live in Rust (`sproto.core`), so Lua needs no lpeg.

local core = require "sproto.core"

local parser = {}

-- parse(text [, name]) returns the bundle string for sproto.new / sprotoloader.save.
-- `name` only labels error messages.
function parser.parse(text, name)
	return core.parse(text, name)
end

-- Print a bundle as hex, 16 bytes per line (cloudwu's debugging helper).
function parser.dump(str)
	local line = {}
	for i = 1, #str do
		line[#line + 1] = string.format("%02X", str:byte(i))
		if i % 8 == 0 and i % 16 ~= 0 then
			line[#line + 1] = "-"
		end
		if i % 16 == 0 then
			print(table.concat(line, " "))
			line = {}
		end
	end
	if #line > 0 then
		print(table.concat(line, " "))
	end
end

return parser
