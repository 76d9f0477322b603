-- skynet.manager: naming, launching and killing services, protocol forwarding and filters.

local skynet = require "skynet"
local c = require "skynet.core"

local function number_address(name)
	local t = type(name)
	if t == "number" then
		return name
	elseif t == "string" then
		local hex = name:match "^:(%x+)"
		if hex then
			return tonumber(hex, 16)
		end
	end
end

function skynet.launch(...)
	local addr = c.command("LAUNCH", table.concat({ ... }, " "))
	if addr then
		return tonumber(string.sub(addr, 2), 16)
	end
end

function skynet.kill(name)
	local addr = number_address(name)
	if addr then
		skynet.send(".launcher", "lua", "REMOVE", addr, true)
		name = skynet.address(addr)
	end
	c.command("KILL", name)
end

-- `.name` is local to the node; a global name (no dot) is node-wide, as in a standalone skynet
-- node. Across a cluster, use cluster.register.
local function checkname(name)
	local c = string.sub(name, 1, 1)
	assert(c ~= ":")
	if c ~= "." then
		assert(#name < 16) -- GLOBALNAME_LENGTH is 16, defined in skynet_harbor.h
		assert(tonumber(name) == nil) -- global name can't be number
	end
end

function skynet.register(name)
	checkname(name)
	c.command("REG", name)
end

function skynet.name(name, handle)
	checkname(name)
	c.command("NAME", name .. " " .. skynet.address(handle))
end

-- Stop the node. Cirrus extension: an optional process exit code (default 0).
function skynet.abort(code)
	c.command("ABORT", code)
end

local dispatch_message = skynet.dispatch_message

function skynet.forward_type(map, start_func)
	c.callback(function(ptype, msg, sz, ...)
		local prototype = map[ptype]
		if prototype then
			dispatch_message(prototype, msg, sz, ...)
		else
			local ok, err = pcall(dispatch_message, ptype, msg, sz, ...)
			c.trash(msg, sz)
			if not ok then
				error(err)
			end
		end
	end, true)
	skynet.timeout(0, function()
		skynet.init_service(start_func)
	end)
end

function skynet.filter(f, start_func)
	c.callback(function(...)
		dispatch_message(f(...))
	end)
	skynet.timeout(0, function()
		skynet.init_service(start_func)
	end)
end

return skynet
