-- skynet.sharedata: read-only tables shared by every service of the node.
-- new/update accept a table, Lua source returning a table, or "@file.lua".

local core = require "skynet.sharedata.core"

local sharedata = {}

local function build(value, ...)
	local t = type(value)
	if t == "table" then
		return value
	elseif t == "string" then
		local chunk, err
		if value:sub(1, 1) == "@" then
			chunk, err = loadfile(value:sub(2), "t", {})
		else
			chunk, err = load(value, "=sharedata", "t", {})
		end
		if not chunk then
			error(err, 3)
		end
		local r = chunk(...)
		assert(type(r) == "table", "sharedata source must return a table")
		return r
	elseif t == "nil" then
		return {}
	else
		error("sharedata needs a table or Lua source, got " .. t, 3)
	end
end

function sharedata.new(name, value, ...)
	core.new(name, build(value, ...))
end

function sharedata.update(name, value, ...)
	core.update(name, build(value, ...))
end

function sharedata.delete(name)
	core.delete(name)
end

function sharedata.query(name)
	return core.query(name)
end

-- Readers re-resolve lazily on access; nothing to flush.
function sharedata.flush() end

function sharedata.deepcopy(name, ...)
	return core.deepcopy(name, ...)
end

return sharedata
