-- skynet.snax: services written as `accept.name` (posts, no reply) and `response.name`
-- (requests) methods plus init/exit, run by service/snaxd.lua. A handle object gives
-- `obj.post.name(...)` and `obj.req.name(...)`.
local skynet = require "skynet"
local snax_interface = require "snax.interface"

local snax = {}
local typeclass = {}

-- an optional module (config snax_interface_g) whose globals interface files may read
local interface_g = skynet.getenv "snax_interface_g"
local G = interface_g and require(interface_g) or { require = function() end }

skynet.register_protocol {
	name = "snax",
	id = skynet.PTYPE_SNAX,
	pack = skynet.pack,
	unpack = skynet.unpack,
}

-- The method ids of a snax type: { name, accept = {name=id}, response = {...}, system = {...} }
function snax.interface(name)
	local t = typeclass[name]
	if t then
		return t
	end
	t = { name = name, accept = {}, response = {}, system = {} }
	for _, m in ipairs(snax_interface(name, G)) do
		local id, group, mname = m[1], m[2], m[3]
		t[group][mname] = id
	end
	typeclass[name] = t
	return t
end

local handle_meta = {
	__tostring = function(v)
		return string.format("[%s:%x]", v.type, v.handle)
	end,
}

local function method_table(t, handle, group, verb, call)
	return setmetatable({}, {
		__index = function(_, k)
			local id = t[group][k]
			if not id then
				error(string.format("%s %s:%s no exist", verb, t.name, k))
			end
			return function(...)
				return call(handle, "snax", id, ...)
			end
		end,
	})
end

local cache = setmetatable({}, { __mode = "kv" })

function snax.bind(handle, typename)
	local obj = cache[handle]
	if obj then
		assert(obj.type == typename)
		return obj
	end
	local t = snax.interface(typename)
	obj = setmetatable({
		post = method_table(t, handle, "accept", "post", function(...)
			skynet.send(...) -- posts return nothing
		end),
		req = method_table(t, handle, "response", "request", skynet.call),
		type = typename,
		handle = handle,
	}, handle_meta)
	cache[handle] = obj
	return obj
end

function snax.rawnewservice(name, ...)
	local t = snax.interface(name)
	local handle = skynet.newservice("snaxd", name)
	assert(cache[handle] == nil)
	if t.system.init then
		skynet.call(handle, "snax", t.system.init, ...)
	end
	return handle
end

function snax.newservice(name, ...)
	return snax.bind(snax.rawnewservice(name, ...), name)
end

function snax.uniqueservice(name, ...)
	local handle = assert(skynet.call(".service", "lua", "LAUNCH", "snaxd", name, ...))
	return snax.bind(handle, name)
end

function snax.globalservice(name, ...)
	local handle = assert(skynet.call(".service", "lua", "GLAUNCH", "snaxd", name, ...))
	return snax.bind(handle, name)
end

function snax.queryservice(name)
	local handle = assert(skynet.call(".service", "lua", "QUERY", "snaxd", name))
	return snax.bind(handle, name)
end

function snax.queryglobal(name)
	local handle = assert(skynet.call(".service", "lua", "GQUERY", "snaxd", name))
	return snax.bind(handle, name)
end

function snax.kill(obj, ...)
	local t = snax.interface(obj.type)
	skynet.call(obj.handle, "snax", t.system.exit, ...)
end

function snax.self()
	return snax.bind(skynet.self(), SERVICE_NAME)
end

function snax.exit(...)
	snax.kill(snax.self(), ...)
end

function snax.hotfix(obj, source, ...)
	local t = snax.interface(obj.type)
	local function result(ok, ...)
		if not ok then
			error(...)
		end
		return ...
	end
	return result(skynet.call(obj.handle, "snax", t.system.hotfix, source, ...))
end

function snax.printf(fmt, ...)
	skynet.error(string.format(fmt, ...))
end

function snax.profile_info(obj)
	local t = snax.interface(obj.type)
	return skynet.call(obj.handle, "snax", t.system.profile)
end

return snax
