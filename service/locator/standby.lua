-- Standby game servers of the locator: started when every room instance is full, stopped
-- when left empty. Config:
--   locator_standby = "2,3"                 all-in-one: server ids run in this process
--   locator_standby = "game2:2,game3:3"     cluster: node name and server id each
--   locator_start_cmd = "./start.sh config/game.lua"   cluster: how a node is launched; it
--       gets CIRRUS_NODE and CIRRUS_SERVER_ID in its environment
--   locator_start_log = "log/"              cluster: folder for the launched nodes' output
--   game_rooms = "1,2"                      all-in-one: room kinds a standby server hosts

local skynet = require "skynet"
local conf = require "game.conf"
local node = require "game.node"
local online = require "game.online"
local role = require "game.role"

local standby = {}

local list = {} -- ordered { sid, name }
local by_sid = {}
local starting = {} -- sid -> start time
local pids = {} -- sid -> pid (cluster launches)
local servers, gone

local function game_of(_)
	-- one game kind (bull poker) today; a standby server hosts the rooms of `game_rooms`
	return 1
end

-- srv: the locator's server table; on_gone(sid, addr) forgets a room instance.
function standby.init(srv, on_gone)
	servers, gone = srv, on_gone
	for _, item in ipairs(conf.list("locator_standby")) do
		local name, sid = item:match "^([%w_%-%.]+):(%d+)$"
		if not name then
			sid = item:match "^(%d+)$"
		end
		sid = math.tointeger(tonumber(sid))
		if not sid then
			error("config key `locator_standby`: bad entry " .. item, 0)
		end
		local e = { sid = sid, name = name }
		list[#list + 1] = e
		by_sid[sid] = e
	end
	local S = online.store()
	S:del("readystop_server")
	for _, e in ipairs(list) do
		S:sadd("readystart_server:" .. game_of(e.sid), e.sid)
	end
end

function standby.is_standby(sid)
	return by_sid[sid] ~= nil
end

function standby.started(srv)
	starting[srv.sid] = nil
	if by_sid[srv.sid] then
		online.store():srem("readystart_server:" .. srv.game, srv.sid)
	end
end

function standby.stopped(srv)
	if by_sid[srv.sid] then
		local S = online.store()
		S:sadd("readystart_server:" .. srv.game, srv.sid)
		S:srem("readystop_server", srv.sid)
	end
end

local function launch(e)
	if not node.clustered() then
		for _, room_id in ipairs(conf.list("game_rooms", "1")) do
			skynet.newservice("room", e.sid, room_id)
		end
		return true
	end
	local cmd = conf.string("locator_start_cmd")
	if not cmd or not e.name then
		role.log(nil, "standby server %d: no locator_start_cmd or node name configured", e.sid)
		return false
	end
	local dir = conf.string("locator_start_log", "log/")
	local process = require "cirrus.process"
	local pid = process.spawn(cmd, { CIRRUS_NODE = e.name, CIRRUS_SERVER_ID = e.sid }, dir .. e.name .. ".log")
	pids[e.sid] = pid
	role.log(nil, "started standby server %d as node %s (pid %d): %s", e.sid, e.name, pid, cmd)
	return true
end

-- Start the next standby server not running; true if one is starting (or just started).
function standby.start(game)
	local now = skynet.now()
	for _, e in ipairs(list) do
		if starting[e.sid] and now - starting[e.sid] < 3000 then
			return true
		end
	end
	for _, e in ipairs(list) do
		if not servers[e.sid] and game_of(e.sid) == game then
			starting[e.sid] = now
			local ok, r = pcall(launch, e)
			if ok and r then
				return true
			end
			starting[e.sid] = nil
			role.log(nil, "standby server %d failed to start: %s", e.sid, tostring(r))
		end
	end
	return false
end

-- Stop an empty standby server (srv.stopping is set by the caller).
function standby.stop(srv)
	online.store():sadd("readystop_server", srv.sid)
	role.log(nil, "stopping idle standby server %d (%s)", srv.sid, srv.node)
	local ok, stopped = true, true
	if srv.node == node.name() then
		for addr in pairs(srv.rooms) do
			local r_ok, r = pcall(skynet.call, addr, "lua", "stop")
			if not r_ok or not r then
				stopped = false
			end
		end
	else
		ok, stopped = pcall(node.call_at, srv.node, "gamenode", "stop")
		local pid = pids[srv.sid]
		if pid then
			skynet.fork(function()
				skynet.sleep(1000)
				local process = require "cirrus.process"
				if process.status(pid) == "running" then
					process.kill(pid, "KILL")
				end
				pids[srv.sid] = nil
			end)
		end
	end
	if not ok or not stopped then
		-- a player came in meanwhile: keep it
		srv.stopping = nil
		srv.empty_since = nil
		online.store():srem("readystop_server", srv.sid)
		return
	end
	for addr in pairs(srv.rooms) do
		gone(srv.sid, addr)
	end
end

return standby
