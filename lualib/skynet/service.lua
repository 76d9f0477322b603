-- skynet.service: services from Lua functions. service.new(name, mainfunc, ...) starts (once
-- per name, node-wide) a service whose body is mainfunc, which must use no upvalue but _ENV
-- (it is sent as bytecode); later calls with the same name return the same address.
-- service.query(name) waits for it; service.close(name) kills it.
local skynet = require "skynet"

local service = {}
local cache = {}
local provider

local function get_provider()
	provider = provider or skynet.uniqueservice "service_provider"
	return provider
end

local function check(func)
	local info = debug.getinfo(func, "u")
	assert(info.nups == 1 and debug.getupvalue(func, 1) == "_ENV", "service.new: mainfunc may only use globals")
end

function service.new(name, mainfunc, ...)
	local p = get_provider()
	local addr, booting = skynet.call(p, "lua", "test", name)
	if not addr then
		if booting then
			addr = skynet.call(p, "lua", "query", name)
		else
			check(mainfunc)
			addr = skynet.call(p, "lua", "launch", name, string.dump(mainfunc), ...)
		end
	end
	cache[name] = addr
	return addr
end

function service.close(name)
	local addr = skynet.call(get_provider(), "lua", "close", name)
	if addr then
		cache[name] = nil
		skynet.kill(addr)
		return true
	end
	return false
end

function service.query(name)
	if not cache[name] then
		cache[name] = skynet.call(get_provider(), "lua", "query", name)
	end
	return cache[name]
end

return service
