-- skynet.datasheet.builder: publish a named table for skynet.datasheet readers.
--   builder.new(name, tbl); builder.update(name, tbl)  -- readers are patched in place
local skynet = require "skynet"
local server = require "skynet.datasheet.server"

local builder = {}

function builder.new(name, tbl)
	assert(type(tbl) == "table")
	skynet.call(server(), "lua", "new", name, tbl)
end

function builder.update(name, tbl)
	assert(type(tbl) == "table")
	skynet.call(server(), "lua", "update", name, tbl)
end

return builder
