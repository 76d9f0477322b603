-- sprotoloader: compile a schema once and share it with every Lua state in the process.
-- Slots (0..15) are process-wide in the Rust core; `load` hands each state the same
-- compiled schema instead of parsing again.

local core = require "sproto.core"
local sproto = require "sproto"

local loader = {}

-- Parse a schema file into slot `index`.
function loader.register(filename, index)
	core.register(filename, index)
end

-- Store a bundle (sprotoparser.parse output) in slot `index`.
function loader.save(bin, index)
	core.saveproto(assert(core.newproto(bin)), index)
end

-- A sproto object for the schema in slot `index`.
function loader.load(index)
	return sproto.sharenew(core.loadproto(index))
end

return loader
