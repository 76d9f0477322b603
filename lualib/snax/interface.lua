-- snax.interface: load a snax service file and collect what it defines. The file runs with G
-- as its environment; `accept.name = f` and `response.name = f` (or `function accept.name`)
-- declare methods, and the globals init/exit/hotfix/profile are the system methods. Returns
-- the method list { {id, group, name, f}, ... } (system methods first, ids 1..4) and the
-- pattern of `snax` (config) the file was found by.
local skynet = require "skynet"

local SYSTEM = { "init", "exit", "hotfix", "profile" }

local function default_loader(path, name, G)
	local errors = {}
	for pattern in string.gmatch(path, "[^;]+") do
		local filename = string.gsub(pattern, "?", name)
		local f, err = loadfile(filename, "bt", G)
		if f then
			return f, pattern
		end
		errors[#errors + 1] = err
	end
	error(table.concat(errors, "\n"))
end

return function(name, G, loader)
	loader = loader or default_loader
	local methods = {}
	local system_index = {}
	for i, n in ipairs(SYSTEM) do
		system_index[n] = i
		methods[i] = { i, "system", n }
	end

	-- a write-only table: each new field becomes a method of `group`
	local function group_table(group)
		local seen = {}
		return setmetatable({}, {
			__newindex = function(_, mname, f)
				if type(mname) ~= "string" then
					error(string.format("%s method only support string", group))
				end
				if type(f) ~= "function" then
					error(string.format("%s.%s must be function", group, mname))
				end
				if seen[mname] then
					error(string.format("%s.%s duplicate definition", group, mname))
				end
				seen[mname] = true
				methods[#methods + 1] = { #methods + 1, group, mname, f }
			end,
		})
	end

	assert(getmetatable(G) == nil)
	for _, k in ipairs { "init", "exit", "accept", "response" } do
		assert(G[k] == nil)
	end

	local other_globals = {}
	local env = setmetatable({
		accept = group_table "accept",
		response = group_table "response",
	}, { __index = other_globals })

	local function set_global(_, k, v)
		local index = system_index[k]
		if index then
			if type(v) ~= "function" then
				error(string.format("%s must be a function", k))
			end
			methods[index][4] = v
		else
			other_globals[k] = v
		end
	end

	local path = assert(skynet.getenv "snax", "please set snax in config file")
	local main, pattern = loader(path, name, G)
	setmetatable(G, { __index = env, __newindex = set_global })
	local ok, err = xpcall(main, debug.traceback)
	setmetatable(G, nil)
	assert(ok, err)
	for k, v in pairs(other_globals) do
		G[k] = v
	end
	return methods, pattern
end
