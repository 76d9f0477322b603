-- Replace a live service's functions with those of a new version of one of its files, keeping
-- its state (console `hotfix ADDR FILE [MODULE]`, the debug command HOTFIX).
--
-- The target is a module the service required (`MODULE`, or the module whose file is FILE) or
-- the service's main file. The new chunk runs once, in the service, with the same globals:
--   * a module chunk returns its new module table;
--   * the main chunk runs with the service's launch arguments, and its `skynet.start`,
--     `skynet.init` and `skynet.dispatch` calls only hand over their functions (nothing is
--     started or registered again).
-- Then the new code is joined to the old state, by name:
--   * an upvalue of a new function that the old code also had (a `local` of the file such as
--     `desks`, `players`, `count`, `Desk`) is joined to the old one, so the new code sees the
--     live value (numbers and strings included: they are state);
--   * when that upvalue holds a table in both versions (a method table like `Desk`, a handler
--     table like `R.client`), the new functions are copied into the old table (and new keys
--     added, old data kept), so objects made by the old code (desks, with the old metatable)
--     run the new methods;
--   * a local function (`seat_view`) is replaced in place, for old callers too;
--   * fields of the module table are merged the same way.
-- Upvalues that only the new code has start fresh. Anything that fails (a syntax error, an
-- error while the chunk runs, a module that is not loaded, an ambiguous local name) is
-- reported before anything is changed: the old code keeps running.

local code = require "cirrus.code"

local hotfix = {}

local function upvalues(f)
	local i = 0
	return function()
		i = i + 1
		local name, value = debug.getupvalue(f, i)
		if name ~= nil then
			return i, name, value
		end
	end
end

-- Chunk names of the code each target runs, original file and earlier hotfixes: the functions
-- of the live version come from any of them.
local sources = {}

-- Every function reachable from `roots` (through tables, metatables and upvalues) whose
-- source is in the set `source`; tables in `skip` (other modules, globals) are not entered.
local function reachable(roots, source, skip, exclude)
	local seen, funcs = {}, {}
	local stack = {}
	for _, r in ipairs(roots) do
		stack[#stack + 1] = r
	end
	while #stack > 0 do
		local v = table.remove(stack)
		local t = type(v)
		if (t == "table" or t == "function") and not seen[v] and not skip[v] then
			seen[v] = true
			if t == "table" then
				for _, x in next, v do
					stack[#stack + 1] = x
				end
				local mt = debug.getmetatable(v)
				if mt then
					stack[#stack + 1] = mt
				end
			else
				if not exclude[v] and source[debug.getinfo(v, "S").source] then
					funcs[#funcs + 1] = v
				end
				for _, _, x in upvalues(v) do
					stack[#stack + 1] = x
				end
			end
		end
	end
	return funcs
end

-- name -> { func, index, id } for the upvalues of `funcs`; false when two different locals
-- share the name.
local function upvalue_map(funcs)
	local map = {}
	for _, f in ipairs(funcs) do
		for i, name in upvalues(f) do
			if name ~= "_ENV" then
				local id = debug.upvalueid(f, i)
				local old = map[name]
				if old == nil then
					map[name] = { func = f, index = i, id = id }
				elseif old and old.id ~= id then
					map[name] = false
				end
			end
		end
	end
	return map
end

-- Tables not to walk into: globals and every loaded module but the target.
local function skip_set(target)
	local skip = { [_G] = true, [package] = true, [package.loaded] = true, [debug.getregistry()] = true }
	for _, m in pairs(package.loaded) do
		if type(m) == "table" and m ~= target then
			skip[m] = true
		end
	end
	return skip
end

-- The service's main file: its path on LUA_SERVICE.
local function main_path()
	return package.searchpath(SERVICE_NAME, LUA_SERVICE)
end

-- Which module (or "main") FILE is.
local function find_target(realfile, modname)
	if modname then
		if modname == "main" or modname == SERVICE_NAME then
			return "main"
		end
		if package.loaded[modname] == nil then
			error(string.format("module %s is not loaded in this service", modname), 0)
		end
		return modname
	end
	local mp = main_path()
	if mp and code.realpath(mp) == realfile then
		return "main"
	end
	for name in pairs(package.loaded) do
		if type(name) == "string" then
			local p = package.searchpath(name, package.path)
			if p and code.realpath(p) == realfile then
				return name
			end
		end
	end
	error(string.format("%s is neither this service's main file (%s) nor one of its loaded modules; " ..
		"name the module: hotfix ADDR FILE MODULE", realfile, tostring(mp)), 0)
end

local function source_of(target)
	local p
	if target == "main" then
		p = main_path()
	else
		p = package.searchpath(target, package.path)
	end
	if not p then
		error("cannot find the file of " .. target, 0)
	end
	return "@" .. p
end

-- Run the new chunk; returns the new roots.
local function run_new(skynet, target, src, chunkname)
	local f, err = load(src, chunkname, "t", _ENV)
	if not f then
		error(err, 0)
	end
	if target ~= "main" then
		local ok, m = xpcall(f, debug.traceback, target)
		if not ok then
			error(m, 0)
		end
		if type(m) ~= "table" then
			error(string.format("the new %s returns %s, not a module table", target, type(m)), 0)
		end
		return { m }, m
	end
	local roots = {}
	local saved = { start = skynet.start, init = skynet.init, dispatch = skynet.dispatch }
	skynet.start = function(fn)
		roots[#roots + 1] = fn
	end
	skynet.init = function(fn)
		roots[#roots + 1] = fn
	end
	skynet.dispatch = function(name, fn)
		if fn == nil then
			return saved.dispatch(name)
		end
		roots[#roots + 1] = fn
	end
	local args = debug.getregistry()["cirrus.args"] or {}
	local ok, e = xpcall(f, debug.traceback, table.unpack(args))
	skynet.start, skynet.init, skynet.dispatch = saved.start, saved.init, saved.dispatch
	if not ok then
		error(e, 0)
	end
	return roots
end

-- The functions the live service runs for the target.
local function old_roots(export, target)
	if target ~= "main" then
		return { package.loaded[target] }
	end
	local roots = {}
	local start = export.start and export.start()
	if start then
		roots[#roots + 1] = start
	end
	-- the dispatch function of every protocol
	for _, p in pairs(export.proto) do
		if type(p) == "table" and type(p.dispatch) == "function" then
			roots[#roots + 1] = p.dispatch
		end
	end
	return roots
end

--- hotfix.apply(skynet, export, source, filename, realfile, modname) -> report lines
-- Raises (changing nothing) when the patch cannot be applied.
function hotfix.apply(skynet, export, src, filename, realfile, modname)
	local target = find_target(realfile, modname)
	if target == "skynet" or target:find("^skynet%.") then
		error(string.format("%s is a framework module, loaded without debug info (no local names to keep): " ..
			"restart the service instead", target), 0)
	end
	local old_source = source_of(target)
	local old_target = target ~= "main" and package.loaded[target] or nil
	if target ~= "main" and type(old_target) ~= "table" then
		error(string.format("module %s is a %s; hotfix replaces the functions of a module table",
			target, type(old_target)), 0)
	end
	local skip = skip_set(old_target)
	local live = sources[target] or { [old_source] = true }
	local old_funcs = reachable(old_roots(export, target), live, skip, {})
	local old_set = {}
	for _, f in ipairs(old_funcs) do
		old_set[f] = true
	end
	local old_map = upvalue_map(old_funcs)

	local chunkname = "@" .. filename
	local new_roots, new_module = run_new(skynet, target, src, chunkname)
	local new_funcs = reachable(new_roots, { [chunkname] = true }, skip_set(nil), old_set)
	local is_new = {}
	for _, f in ipairs(new_funcs) do
		is_new[f] = true
	end

	-- Plan everything, then apply: an error above or here leaves the service as it was.
	local joins, sets, fields = {}, {}, {}
	local merged = {}
	local function merge(old, new)
		if merged[new] then
			return
		end
		merged[new] = true
		for k, nv in next, new do
			local ov = rawget(old, k)
			if is_new[nv] then
				fields[#fields + 1] = { old, k, nv }
			elseif type(nv) == "table" and type(ov) == "table" and nv ~= ov then
				merge(ov, nv)
			elseif ov == nil then
				fields[#fields + 1] = { old, k, nv }
			end
		end
	end
	local set_done = {}
	for _, f in ipairs(new_funcs) do
		for i, name, nv in upvalues(f) do
			local o = old_map[name]
			if name ~= "_ENV" and o ~= nil then
				if o == false then
					error(string.format("local %s is ambiguous in the running %s (several locals of that name); " ..
						"rename it in the new code", name, target), 0)
				end
				local _, ov = debug.getupvalue(o.func, o.index)
				joins[#joins + 1] = { f, i, o.func, o.index }
				if is_new[nv] then
					if not set_done[o.id] then
						set_done[o.id] = true
						sets[#sets + 1] = { o.func, o.index, nv }
					end
				elseif type(nv) == "table" and type(ov) == "table" and nv ~= ov then
					merge(ov, nv)
				end
			end
		end
	end
	if new_module then
		merge(old_target, new_module)
	end

	for _, j in ipairs(joins) do
		debug.upvaluejoin(j[1], j[2], j[3], j[4])
	end
	for _, s in ipairs(sets) do
		debug.setupvalue(s[1], s[2], s[3])
	end
	live[chunkname] = true
	sources[target] = live
	local replaced = 0
	for _, fl in ipairs(fields) do
		if type(fl[3]) == "function" then
			replaced = replaced + 1
		end
		rawset(fl[1], fl[2], fl[3])
	end
	return {
		string.format("hotfix %s from %s: %d functions loaded, %d table entries set (%d functions), " ..
			"%d upvalues joined, %d local functions replaced", target, filename, #new_funcs, #fields, replaced,
			#joins, #sets),
	}
end

return hotfix
