-- skynet.sharetable: read-only tables loaded once per node and queried by name.
--   sharetable.loadfile(filename, ...)          -- the table the file's chunk returns
--   sharetable.loadstring(name, source, ...)    -- the table `source` returns
--   sharetable.loadtable(name, tbl)
--   local t = sharetable.query(name); sharetable.queryall({ names } or nil)
--   sharetable.update(name, ...)                -- refresh tables queried here, in place
-- skynet keeps them in shared memory; here the store is one service (made with
-- skynet.service) and a query copies the table into the caller, so treat it as read-only.
local skynet = require "skynet"
local service = require "skynet.service"

local function sharetable_service()
	local skynet = require "skynet"
	local files = {}
	local command = {}

	function command.loadfile(filename, ...)
		local f = assert(loadfile(filename, "bt", setmetatable({}, { __index = _ENV })))
		files[filename] = f(...)
	end

	function command.loadstring(filename, source, ...)
		local f = assert(load(source, "=" .. filename, "bt", setmetatable({}, { __index = _ENV })))
		files[filename] = f(...)
	end

	function command.loadtable(filename, tbl)
		assert(type(tbl) == "table")
		files[filename] = tbl
	end

	function command.query(filename)
		return files[filename]
	end

	function command.queryall(names)
		local r = {}
		if names then
			for _, name in ipairs(names) do
				r[name] = files[name]
			end
		else
			for name, t in pairs(files) do
				r[name] = t
			end
		end
		return r
	end

	skynet.start(function()
		skynet.dispatch("lua", function(_, _, cmd, ...)
			skynet.retpack(assert(command[cmd], cmd)(...))
		end)
	end)
end

local address
local function server()
	address = address or service.new("sharetable", sharetable_service)
	return address
end

local sharetable = {}
local queried = setmetatable({}, { __mode = "k" }) -- table -> name, for update

function sharetable.loadfile(filename, ...)
	skynet.call(server(), "lua", "loadfile", filename, ...)
end

function sharetable.loadstring(filename, source, ...)
	skynet.call(server(), "lua", "loadstring", filename, source, ...)
end

function sharetable.loadtable(filename, tbl)
	assert(type(tbl) == "table")
	skynet.call(server(), "lua", "loadtable", filename, tbl)
end

function sharetable.query(filename)
	local t = skynet.call(server(), "lua", "query", filename)
	if t then
		queried[t] = filename
	end
	return t
end

function sharetable.queryall(names)
	local list = skynet.call(server(), "lua", "queryall", names)
	for name, t in pairs(list) do
		queried[t] = name
	end
	return list
end

-- Refresh, in place, every table this service queried under one of the names.
function sharetable.update(...)
	local names = {}
	for _, name in ipairs { ... } do
		names[name] = skynet.call(server(), "lua", "query", name)
	end
	for t, name in pairs(queried) do
		local new = names[name]
		if new then
			for k in pairs(t) do
				t[k] = nil
			end
			for k, v in pairs(new) do
				t[k] = v
			end
		end
	end
end

return sharetable
