-- locator: where players play (seed 004's locatorserver). Room instances on game nodes
-- report themselves (server id, room kind, capacity, live counts) every few seconds and on
-- every change; `place` picks the fullest instance of a room kind that still has a free
-- desk. When every instance is full the next standby server is started (all-in-one: more room
-- services in this process; cluster: `locator_start_cmd` for the next `locator_standby`
-- entry) and the player waits for it; a standby server left empty for `locator_idle` seconds
-- is stopped again. The seed's keys mirror the state in the online store:
--   fdnum_server:<game>           hash server id -> players
--   fdnum_room:<server>@<room>    hash room instance address -> players
--   readystart_server:<game>      set of standby server ids not running
--   readystop_server              set of server ids being stopped

local skynet = require "skynet"
local role = require "game.role"
local errors = require "game.errors"
local conf = require "game.conf"
local node = require "game.node"
local online = require "game.online"
local standby = require "standby"

local LOC = role.new "locator"

local STALE = 15 * 100 -- an instance that has not reported for 15 s is gone
local START_WAIT = conf.number("locator_start_wait", 20) * 100
local IDLE = conf.number("locator_idle", 60) * 100

local servers = {} -- sid -> { sid, node, game, rooms = { [addr] = instance }, empty_since, stopping }

local function alive(inst)
	if skynet.now() - inst.seen > STALE then
		return false
	end
	if node.clustered() and inst.node ~= node.name() then
		for _, n in ipairs(node.nodes("room")) do
			if n == inst.node then
				return true
			end
		end
		return false
	end
	return true
end

local function mirror(sid)
	local srv = servers[sid]
	local S = online.store()
	local total = 0
	for _, inst in pairs(srv.rooms) do
		total = total + inst.players
	end
	S:hset("fdnum_server:" .. srv.game, sid, total)
	return total
end

-- A room instance reports (register and every change).
function LOC.cmd.report(info)
	local srv = servers[info.sid]
	if not srv then
		srv = { sid = info.sid, node = info.node, game = info.game, rooms = {} }
		servers[info.sid] = srv
		role.log(nil, "server %d (%s) up: room %d", info.sid, info.node, info.room_id)
		standby.started(srv)
	end
	srv.node = info.node
	local inst = srv.rooms[info.addr] or {}
	srv.rooms[info.addr] = inst
	for k, v in pairs(info) do
		inst[k] = v
	end
	inst.seen = skynet.now()
	inst.reserved = 0
	online.store():hset(string.format("fdnum_room:%d@%d", info.sid, info.room_id), info.addr, info.players)
	mirror(info.sid)
end

-- A room instance stops (standby stop, node shutdown).
function LOC.cmd.gone(sid, addr)
	local srv = servers[sid]
	if srv and srv.rooms[addr] then
		local inst = srv.rooms[addr]
		srv.rooms[addr] = nil
		online.store():hdel(string.format("fdnum_room:%d@%d", sid, inst.room_id), addr)
		if next(srv.rooms) == nil then
			servers[sid] = nil
			online.store():hdel("fdnum_server:" .. srv.game, sid)
			standby.stopped(srv)
		else
			mirror(sid)
		end
	end
end

local function each_instance(room_id, fn)
	for sid, srv in pairs(servers) do
		for addr, inst in pairs(srv.rooms) do
			if inst.room_id == room_id and alive(inst) then
				fn(sid, srv, addr, inst)
			end
		end
	end
end

local function room_info(room_id)
	local r = conf.room(room_id)
	local info = {
		id = room_id, name = r.name, base_score = r.base_score, min_gold = r.min_gold, game = r.game,
		players = 0, desks = 0, free_desks = 0, playing = 0,
	}
	each_instance(room_id, function(_, _, _, inst)
		info.players = info.players + inst.players + inst.reserved
		info.desks = info.desks + inst.desks
		info.free_desks = info.free_desks + inst.free_desks
		info.playing = info.playing + inst.playing
	end)
	return info
end

function LOC.cmd.rooms(game)
	local list = {}
	for id, r in pairs(conf.rooms()) do
		if game == 0 or r.game == game then
			list[#list + 1] = room_info(id)
		end
	end
	table.sort(list, function(a, b)
		return a.id < b.id
	end)
	return list
end

-- The fullest live instance with room for one more player.
local function best(room_id, exclude)
	local skip = {}
	for _, k in ipairs(exclude or {}) do
		skip[k] = true
	end
	local pick, pick_sid, pick_addr
	each_instance(room_id, function(sid, srv, addr, inst)
		local key = sid .. "/" .. addr
		local load = inst.players + inst.reserved
		if not srv.stopping and not skip[key] and load < inst.capacity and inst.free_desks > 0 then
			if not pick or load > pick.players + pick.reserved or (load == pick.players + pick.reserved and sid < pick_sid) then
				pick, pick_sid, pick_addr = inst, sid, addr
			end
		end
	end)
	return pick, pick_sid, pick_addr
end

function LOC.cmd.place(room_id, exclude)
	local r = conf.room(room_id)
	if not r then
		return nil, errors.UNKNOWN_ROOM
	end
	local inst, sid, addr = best(room_id, exclude)
	if not inst and standby.start(r.game) then
		local deadline = skynet.now() + START_WAIT
		repeat
			skynet.sleep(10)
			inst, sid, addr = best(room_id, exclude)
		until inst or skynet.now() > deadline
	end
	if not inst then
		return nil, errors.ROOM_FULL
	end
	-- counted at once so concurrent placements spread; the room's next report is the truth
	inst.reserved = inst.reserved + 1
	servers[sid].empty_since = nil
	return { node = inst.node, addr = addr, sid = sid, key = sid .. "/" .. addr, info = room_info(room_id) }
end

function LOC.cmd.servers()
	local out = {}
	for sid, srv in pairs(servers) do
		local n, players = 0, 0
		for _, inst in pairs(srv.rooms) do
			if alive(inst) then
				n = n + 1
				players = players + inst.players
			end
		end
		out[#out + 1] = { sid = sid, node = srv.node, game = srv.game, rooms = n, players = players,
			standby = standby.is_standby(sid), stopping = srv.stopping or false }
	end
	table.sort(out, function(a, b)
		return a.sid < b.sid
	end)
	return out
end

-- Stop standby servers left empty; forget instances that stopped reporting.
local function watch()
	while true do
		skynet.sleep(100)
		local now = skynet.now()
		for sid, srv in pairs(servers) do
			local players, live = 0, false
			for addr, inst in pairs(srv.rooms) do
				if now - inst.seen > STALE * 4 then
					LOC.cmd.gone(sid, addr)
				elseif alive(inst) then
					live = true
					players = players + inst.players + inst.reserved
				end
			end
			if servers[sid] and live and standby.is_standby(sid) and not srv.stopping then
				if players > 0 then
					srv.empty_since = nil
				elseif not srv.empty_since then
					srv.empty_since = now
				elseif now - srv.empty_since >= IDLE then
					srv.stopping = true
					skynet.fork(standby.stop, srv)
				end
			end
		end
	end
end

role.start(LOC, function()
	standby.init(servers, LOC.cmd.gone)
	skynet.fork(watch)
end)
