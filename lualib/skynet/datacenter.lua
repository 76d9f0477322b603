-- skynet.datacenter: a node-wide tree of values in the datacenterd service.
--   datacenter.set(k1, k2, ..., value)   -- returns the old value
--   datacenter.get(k1, k2, ...)          -- the value or subtree, or nil
--   datacenter.wait(k1, k2, ...)         -- blocks until that leaf is set (raises for a branch)
-- skynet boots datacenterd as the global name DATACENTER; Cirrus starts it on first use (a
-- unique service), so nodes that never use it don't carry it.
local skynet = require "skynet"

local datacenter = {}
local address

local function center()
	if not address then
		address = skynet.localname "DATACENTER" or skynet.uniqueservice "datacenterd"
	end
	return address
end

function datacenter.get(...)
	return skynet.call(center(), "lua", "QUERY", ...)
end

function datacenter.set(...)
	return skynet.call(center(), "lua", "UPDATE", ...)
end

function datacenter.wait(...)
	return skynet.call(center(), "lua", "WAIT", ...)
end

return datacenter
