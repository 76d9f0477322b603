-- skynet.datasheet: read a table built with skynet.datasheet.builder. `query(name)` returns
-- it; when the builder updates it, this service's copy is patched in place (tables that stay
-- tables keep their identity), so references taken earlier see the new values.
local skynet = require "skynet"
local server = require "skynet.datasheet.server"

local datasheet = {}
local sheets = {} -- name -> the table handed out

local function patch(dst, src)
	for k in pairs(dst) do
		if src[k] == nil then
			dst[k] = nil
		end
	end
	for k, v in pairs(src) do
		local old = dst[k]
		if type(v) == "table" and type(old) == "table" then
			patch(old, v)
		else
			dst[k] = v
		end
	end
end

function datasheet.query(name)
	local t = sheets[name]
	if t then
		return t
	end
	local addr = server()
	local data, version = skynet.call(addr, "lua", "query", name)
	if data == nil then
		return nil
	end
	sheets[name] = data
	skynet.fork(function()
		while true do
			local new
			new, version = skynet.call(addr, "lua", "monitor", name, version)
			patch(data, new)
		end
	end)
	return data
end

return datasheet
