-- Finding game roles, on this node or across the cluster. The same role code runs in the
-- all-in-one node (every role local, no cluster) and on role nodes discovered through Redis
-- (config `cluster_redis`; each node announces its roles as `cluster_role = "gate,login"`).
--
--   node.name()                      this node's name (config `nodename`)
--   node.register(role [, addr])     serve `role` from this node: local ".role" and cluster "@role"
--   node.nodes(role)                 live node names running `role`, sorted
--   node.pick(role [, key])          one of them: the same key always lands on the same node
--                                    (rendezvous hashing); no key: this node when it runs the role
--   node.call(role, key, ...)        skynet.call the role's "lua" dispatch on the picked node
--   node.send(role, key, ...)
--   node.call_at(nodename, addr, ...) / node.send_at(...)
--                                    addr: a handle on that node or a role name
-- A role with no live node raises "role X is unavailable" (callers answer UNAVAILABLE).

local skynet = require "skynet"
require "skynet.manager"

local node = {}

local NAME = skynet.getenv "nodename" or "node"
local CLUSTERED = skynet.getenv "cluster_redis" ~= nil
local cluster = CLUSTERED and require "skynet.cluster"

local local_roles = {} -- role -> handle (roles found on this node)
local roles_cache, roles_time = nil, -1

function node.name()
	return NAME
end

function node.clustered()
	return CLUSTERED
end

function node.register(role, addr)
	addr = addr or skynet.self()
	skynet.name("." .. role, addr)
	if CLUSTERED then
		cluster.register(role, addr)
	end
end

-- The handle of `role` on this node, or nil.
function node.local_role(role)
	local h = local_roles[role]
	if h == nil then
		h = skynet.localname("." .. role)
		if h then
			local_roles[role] = h
		end
	end
	return h
end

-- Node roles (`cluster_role`) name tiers; a tier may run a service of another name.
local TIER = { watchdog = "gate", room = "game" }

local function has_role(list, role)
	local tier = TIER[role]
	for r in string.gmatch(list, "[^,%s]+") do
		if r == role or r == tier or r == "all" then
			return true
		end
	end
	return false
end

-- node -> role list of every live node, refreshed at most every 0.5 s.
local function live_roles()
	local now = skynet.now()
	if not roles_cache or now - roles_time >= 50 then
		roles_cache, roles_time = cluster.roles(), now
	end
	return roles_cache
end

function node.nodes(role)
	if not CLUSTERED then
		return node.local_role(role) and { NAME } or {}
	end
	local out = {}
	for name, list in pairs(live_roles()) do
		if has_role(list, role) then
			out[#out + 1] = name
		end
	end
	table.sort(out)
	return out
end

-- FNV-1a over a string.
local function hash(s)
	local h = 2166136261
	for i = 1, #s do
		h = ((h ~ s:byte(i)) * 16777619) & 0xffffffff
	end
	return h
end

function node.pick(role, key)
	if key == nil and node.local_role(role) then
		return NAME
	end
	local list = node.nodes(role)
	if #list == 0 then
		error("role " .. role .. " is unavailable", 0)
	end
	if key == nil or #list == 1 then
		return list[1]
	end
	local best, best_h = nil, -1
	local k = tostring(key)
	for _, name in ipairs(list) do
		local h = hash(k .. "@" .. name)
		if h > best_h then
			best, best_h = name, h
		end
	end
	return best
end

local function target(nodename, addr)
	if nodename == NAME then
		if type(addr) == "string" then
			local h = node.local_role(addr)
			if not h then
				error("role " .. addr .. " is unavailable", 0)
			end
			return nil, h
		end
		return nil, addr
	end
	if not CLUSTERED then
		error("node " .. tostring(nodename) .. " is unreachable (no cluster configured)", 0)
	end
	if type(addr) == "string" then
		return nodename, "@" .. addr
	end
	return nodename, addr
end

function node.call_at(nodename, addr, ...)
	local remote, a = target(nodename, addr)
	if remote then
		return cluster.call(remote, a, ...)
	end
	return skynet.call(a, "lua", ...)
end

function node.send_at(nodename, addr, ...)
	local remote, a = target(nodename, addr)
	if remote then
		cluster.send(remote, a, ...)
	else
		skynet.send(a, "lua", ...)
	end
end

function node.call(role, key, ...)
	return node.call_at(node.pick(role, key), role, ...)
end

function node.send(role, key, ...)
	node.send_at(node.pick(role, key), role, ...)
end

return node
