-- Cross-tier router (design seed 002): game nodes and cross-server nodes join it with
-- (tier, id); messages carry source and destination (tier, id) and are forwarded by it.
-- Whenever a node joins, every node of the other tier is told ("linkup"), so the upper tier
-- can broadcast down and the lower tier pull up whatever order the nodes started in.
-- Start with skynet.newservice("router") on the router node after cluster.open.

local skynet = require "skynet"
local cluster = require "skynet.cluster"

local members = {} -- tier -> id -> cluster node name
local CMD = {}

local function other(tier)
	local t = {}
	for tname, ids in pairs(members) do
		if tname ~= tier then
			for id, node in pairs(ids) do t[#t + 1] = { tier = tname, id = id, node = node } end
		end
	end
	return t
end

local function deliver(node, ...)
	local ok, err = pcall(cluster.send, node, "@routerclient", ...)
	if not ok then skynet.error("router: " .. tostring(err)) end
end

-- Join (idempotent, nodes repeat it as a heartbeat). Returns the other tiers' members.
function CMD.join(tier, id, node)
	members[tier] = members[tier] or {}
	local known = members[tier][id] == node
	members[tier][id] = node
	if not known then
		skynet.error(string.format("router: %s %s joined from node %s", tier, tostring(id), node))
		for _, m in ipairs(other(tier)) do deliver(m.node, "linkup", tier, id) end
	end
	return other(tier)
end

function CMD.leave(tier, id)
	if members[tier] then members[tier][id] = nil end
end

-- Forward a one-way message; dst_id "*" means every member of the tier.
function CMD.route(src_tier, src_id, dst_tier, dst_id, ...)
	local ids = members[dst_tier] or {}
	if dst_id == "*" then
		for _, node in pairs(ids) do deliver(node, "message", src_tier, src_id, ...) end
	elseif ids[dst_id] then
		deliver(ids[dst_id], "message", src_tier, src_id, ...)
	else
		skynet.error(string.format("router: no %s %s for a message from %s %s", dst_tier, tostring(dst_id), src_tier, tostring(src_id)))
	end
end

-- Forward a request and return the answer.
function CMD.request(src_tier, src_id, dst_tier, dst_id, ...)
	local node = (members[dst_tier] or {})[dst_id]
	if not node then error(string.format("no %s %s behind this router", dst_tier, tostring(dst_id))) end
	return cluster.call(node, "@routerclient", "request", src_tier, src_id, ...)
end

skynet.start(function()
	skynet.dispatch("lua", function(session, source, cmd, ...)
		local f = assert(CMD[cmd], cmd)
		if session == 0 then f(...) else skynet.ret(skynet.pack(f(...))) end
	end)
	cluster.register("router", skynet.self())
end)
