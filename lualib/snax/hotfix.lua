-- snax.hotfix: replace methods of a running snax service with those of a patch source. The
-- patch's functions keep their own locals, but a local the patch declares without a value
-- (`local i`), and its globals, are joined to the running service's local of that name, so a
-- patched method works on the live state. The patch's `hotfix(...)` runs last, and its
-- results are returned: pcall-style, `true, ...` or `false, err`.
local interface = require "snax.interface"

-- the upvalue id of f's _ENV, or nil
local function env_id(f)
	local i = 1
	while true do
		local name = debug.getupvalue(f, i)
		if name == nil then
			return nil
		elseif name == "_ENV" then
			return debug.upvalueid(f, i)
		end
		i = i + 1
	end
end

-- every local reachable from f (through functions sharing its _ENV), by name
local function collect(f, found, env)
	local i = 1
	while true do
		local name, value = debug.getupvalue(f, i)
		if name == nil then
			return
		end
		local id = debug.upvalueid(f, i)
		local seen = found[name]
		if seen then
			assert(seen.id == id, string.format("ambiguity local value %s", name))
		else
			found[name] = { func = f, index = i, id = id }
			if type(value) == "function" and env_id(value) == env then
				collect(value, found, env)
			end
		end
		i = i + 1
	end
end

local function env_holder()
	return _ENV
end

local function live_locals(methods)
	local found = {}
	for _, m in pairs(methods) do
		if m[4] then
			collect(m[4], found, env_id(m[4]))
		end
	end
	if not found._ENV then
		found._ENV = { func = env_holder, index = 1 }
	end
	return found
end

-- the patch's environment: a copy of ours, recognised (and replaced) when joining upvalues
local patch_env = {}
for k, v in pairs(_ENV) do
	patch_env[k] = v
end

local function join(found, f)
	local i = 1
	while true do
		local name, value = debug.getupvalue(f, i)
		if name == nil then
			return
		end
		if value == nil or value == patch_env then
			local live = found[name]
			if live then
				debug.upvaluejoin(f, i, live.func, live.index)
			end
		elseif type(value) == "function" then
			join(found, value)
		end
		i = i + 1
	end
end

local function find(methods, group, name)
	for _, m in pairs(methods) do
		if m[2] == group and m[3] == name then
			return m
		end
	end
end

local function apply(methods, source, ...)
	local patch = interface("patch", patch_env, function()
		return load(source, "=patch", "bt", patch_env)
	end)
	local found = live_locals(methods)
	for _, m in pairs(patch) do
		local group, name, f = m[2], m[3], m[4]
		if f then
			local target = assert(find(methods, group, name), string.format("Patch mismatch %s.%s", group, name))
			join(found, f)
			target[4] = f
		end
	end
	local hf = find(patch, "system", "hotfix")
	if hf and hf[4] then
		return hf[4](...)
	end
end

return function(methods, source, ...)
	return pcall(apply, methods, source, ...)
end
