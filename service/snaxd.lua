-- snaxd NAME: runs the snax service NAME (found through config `snax`). System methods
-- (init, exit, hotfix, profile) come first; accept methods get no reply, response methods
-- reply with what they return. Per-method call counts and times answer `profile` and the
-- debug INFO command.
local skynet = require "skynet"
local snax_interface = require "snax.interface"
local profile = require "skynet.profile"
local snax = require "skynet.snax"

local snax_name = tostring(...)
local loaderpath = skynet.getenv "snax_loader"
local loader = loaderpath and assert(dofile(loaderpath))
local methods, pattern = snax_interface(snax_name, _ENV, loader)
local snax_path = pattern:sub(1, pattern:find("?", 1, true) - 1) .. snax_name .. "/"
package.path = snax_path .. "?.lua;" .. package.path

SERVICE_NAME = snax_name
SERVICE_PATH = snax_path

local stats = {}

local function record(name, ti)
	local t = stats[name]
	if t == nil then
		t = { count = 0, time = 0 }
		stats[name] = t
	end
	t.count = t.count + 1
	t.time = t.time + ti
end

local function reply(f, ...)
	return skynet.ret(skynet.pack(f(...)))
end

local function run(method, ...)
	profile.start()
	local ok, err
	if method[2] == "accept" then
		ok, err = xpcall(method[4], debug.traceback, ...)
	else
		ok, err = xpcall(reply, debug.traceback, method[4], ...)
	end
	record(method[3], profile.stop())
	assert(ok, err)
end

skynet.start(function()
	local initialized = false
	local function dispatch(_, _, id, ...)
		local method = methods[id]
		if method[2] ~= "system" then
			assert(initialized, "Init first")
			return run(method, ...)
		end
		local command = method[3]
		if command == "hotfix" then
			local hotfix = require "snax.hotfix"
			skynet.ret(skynet.pack(hotfix(methods, ...)))
		elseif command == "profile" then
			skynet.ret(skynet.pack(stats))
		elseif command == "init" then
			assert(not initialized, "Already init")
			local f = method[4] or function() end
			f(...)
			skynet.ret()
			skynet.info_func(function()
				return stats
			end)
			initialized = true
		else
			assert(initialized, "Never init")
			assert(command == "exit")
			local f = method[4] or function() end
			f(...)
			skynet.ret()
			initialized = false
			skynet.exit()
		end
	end
	skynet.dispatch("snax", dispatch)

	-- take the same calls over the "lua" protocol (for cluster callers)
	function snax.enablecluster()
		skynet.dispatch("lua", dispatch)
	end
end)
