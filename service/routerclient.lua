-- A node's side of the cross-tier router: joins "@router" on the router node as (tier, id),
-- keeps re-joining (the router may start later or restart), and hands link-ups, messages and
-- requests to the local service that subscribed. Use lualib/router.lua rather than this
-- service directly.

local skynet = require "skynet"
local cluster = require "skynet.cluster"

local tier, id, router_node = ...
id = tonumber(id) or id
router_node = router_node or "router"
local app -- the subscribed service
local seen = {} -- peers already announced to the app
local CMD = {}

local function announce(peer_tier, peer_id)
	local key = peer_tier .. "/" .. tostring(peer_id)
	if app then skynet.send(app, "lua", "router_linkup", peer_tier, peer_id) end
	seen[key] = true
end

function CMD.subscribe(addr)
	app = addr
	for key in pairs(seen) do
		local t, i = key:match("^(.-)/(.*)$")
		skynet.send(app, "lua", "router_linkup", t, tonumber(i) or i)
	end
end

function CMD.linkup(peer_tier, peer_id)
	announce(peer_tier, peer_id)
end

function CMD.message(src_tier, src_id, ...)
	if app then skynet.send(app, "lua", "router_message", src_tier, src_id, ...) end
end

function CMD.request(src_tier, src_id, ...)
	assert(app, "no service handles router requests on this node")
	return skynet.call(app, "lua", "router_request", src_tier, src_id, ...)
end

function CMD.send(dst_tier, dst_id, ...)
	cluster.send(router_node, "@router", "route", tier, id, dst_tier, dst_id, ...)
end

function CMD.call(dst_tier, dst_id, ...)
	return cluster.call(router_node, "@router", "request", tier, id, dst_tier, dst_id, ...)
end

local function join_loop()
	local me = skynet.getenv "nodename"
	local joined = false
	while true do
		local ok, peers = pcall(cluster.call, router_node, "@router", "join", tier, id, me)
		if ok then
			if not joined then skynet.error("routerclient: joined " .. router_node .. " as " .. tier .. " " .. tostring(id)) end
			joined = true
			-- link-up for every peer already there (covers nodes that joined before us)
			for _, p in ipairs(peers) do
				if not seen[p.tier .. "/" .. tostring(p.id)] then announce(p.tier, p.id) end
			end
			skynet.sleep(100)
		else
			if joined then
				-- the router went away: forget peers, so they are announced again on rejoin
				seen = {}
			end
			joined = false
			skynet.sleep(20)
		end
	end
end

skynet.start(function()
	skynet.dispatch("lua", function(session, source, cmd, ...)
		local f = assert(CMD[cmd], cmd)
		if session == 0 then f(...) else skynet.ret(skynet.pack(f(...))) end
	end)
	cluster.register("routerclient", skynet.self())
	skynet.fork(join_loop)
end)
