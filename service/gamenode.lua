-- The start service of a game node: runs the roles named by `cluster_role` (default "all",
-- the all-in-one node): gate (watchdog), auth, login, hall, locator, game (room instances of
-- `game_rooms` as server `game_server_id`), chat. With `cluster_redis` set the node joins the
-- cluster under `nodename` and its roles are found through discovery (lualib/game/node.lua).

local skynet = require "skynet"
require "skynet.manager"
local conf = require "game.conf"
local node = require "game.node"
local proto = require "game.proto"
local role = require "game.role"

local roles = {}
for _, r in ipairs(conf.list("cluster_role", "all")) do
	roles[r] = true
end

local function runs(r)
	return roles.all or roles[r]
end

local G = role.new "gamenode"
local rooms = {}

-- Stop this node when its rooms are empty (the locator stops idle standby nodes).
function G.cmd.stop()
	for _, addr in ipairs(rooms) do
		if not skynet.call(addr, "lua", "stop") then
			return false
		end
	end
	skynet.error("game node " .. node.name() .. ": stopping on request")
	skynet.timeout(50, function()
		skynet.abort(0)
	end)
	return true
end

-- Freezing (kernel/src/lifecycle/freeze.rs): every gate node holds the requests routed to
-- this node's rooms (for the gate's freeze_timeout). Returns the gates that acknowledged and the gates asked.
function G.cmd.freeze_hold()
	if not (runs("game") and node.clustered()) then
		return 0, 0
	end
	local gates, acks = node.nodes("watchdog"), 0
	for _, name in ipairs(gates) do
		if name ~= node.name() then
			local ok, err = pcall(node.call_at, name, "watchdog", "hold", node.name())
			if ok then
				acks = acks + 1
			else
				skynet.error(string.format("freeze: gate %s did not acknowledge the hold: %s", name, tostring(err)))
			end
		end
	end
	return acks, #gates
end

function G.cmd.roles()
	return conf.string("cluster_role", "all")
end

role.start(G, function()
	proto.load()
	if runs("auth") or runs("login") or runs("hall") or runs("game") then
		skynet.newservice("db")
	end
	if runs("locator") then
		skynet.newservice("locator")
	end
	for _, r in ipairs { "auth", "login", "hall", "chat" } do
		if runs(r) then
			skynet.newservice(r)
		end
	end
	if runs("game") then
		local sid = conf.number("game_server_id", 1)
		for _, room_id in ipairs(conf.list("game_rooms", "1")) do
			rooms[#rooms + 1] = skynet.newservice("room", sid, room_id)
		end
	end
	local ports = {}
	if runs("gate") then
		local wd = skynet.newservice("watchdog")
		ports = skynet.call(wd, "lua", "ports")
	end
	if node.clustered() then
		require("skynet.cluster").open(node.name())
		if runs("game") then
			-- gates holding requests for this node (it was frozen) let them go on now
			for _, name in ipairs(node.nodes("watchdog")) do
				if name ~= node.name() then
					pcall(node.send_at, name, "watchdog", "release", node.name())
				end
			end
		end
	end
	skynet.error(string.format("GAME NODE READY name=%s roles=%s tcp=%s ws=%s", node.name(),
		conf.string("cluster_role", "all"), tostring(ports.tcp or 0), tostring(ports.ws or 0)))
end)
