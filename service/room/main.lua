-- room: one instance of a room kind on a game server (seed 004's gameserver room), holding
-- `desks` desks of bull poker (desk.lua). Launched as skynet.newservice("room", server_id,
-- room_id) by the game node (or the locator, for standby servers); reports itself to the
-- locator. Players enter through the hall, then their room requests come here directly.

local skynet = require "skynet"
local role = require "game.role"
local errors = require "game.errors"
local conf = require "game.conf"
local node = require "game.node"
local online = require "game.online"
local push = require "game.push"
local crypt = require "cirrus.crypt"
local dbhelper = require "dbhelper"
local metrics = require "cirrus.metrics"
local desk = require "desk"

local sid, room_id = ...
sid, room_id = math.tointeger(tonumber(sid)), math.tointeger(tonumber(room_id))

local R = role.new "room"
R.register = false -- reached by handle, through the locator

local room -- settings of this room kind (+ sid)
local desks = {}
local players = {} -- uid -> { uid, nickname, avatar, gold, online, ctx, desk, seat, logout }
local count = 0
local stopped = false

-- /metrics (docs/OPS.md)
local labels = { server = sid, room = room_id }
local m_playing = metrics.gauge("cirrus_game_desks_playing", "Desks with a round in progress.", labels)
local m_players = metrics.gauge("cirrus_game_room_players", "Players in a room instance.", labels)
local m_games = {}
for _, result in ipairs { "settled", "void" } do
	m_games[result] = metrics.counter("cirrus_game_games_finished_total",
		"Rounds played to game_end (void: the settlement failed and no gold moved).",
		{ server = sid, room = room_id, result = result })
end

local function log(uid, fmt, ...)
	role.log(uid, "[room %d/%d] " .. fmt, sid, room_id, ...)
end

-- ---- reporting to the locator ----

local reporting = false

local function report_now()
	local free, playing = 0, 0
	for _, d in ipairs(desks) do
		if d:free_seats() > 0 then
			free = free + 1
		end
		if d:playing() then
			playing = playing + 1
		end
	end
	local ok, err = pcall(node.send, "locator", nil, "report", {
		sid = sid, node = node.name(), room_id = room_id, game = room.game, addr = skynet.self(),
		capacity = #desks * 5, players = count, desks = #desks, free_desks = free, playing = playing,
	})
	if not ok then
		log(nil, "cannot report to the locator: %s", err)
	end
end

-- Changes come in bursts; one report per 50 ms is enough.
local function report()
	if not reporting then
		reporting = true
		skynet.timeout(5, function()
			reporting = false
			if not stopped then
				report_now()
			end
		end)
	end
end

-- ---- the online record and chat scopes ----

local function desk_scope(d)
	return online.scope(5, sid, room_id, d.id)
end

local function joined_desk(p, d)
	online.store():sadd(desk_scope(d), p.uid)
	online.set(p.uid, { desk = d.id, state = online.DESK })
end

local function left_desk(p, d)
	online.store():srem(desk_scope(d), p.uid)
	online.unset(p.uid, "desk")
	online.set(p.uid, { state = online.ROOM })
end

local function remove(p)
	players[p.uid] = nil
	count = count - 1
	m_players:set(count)
	local S = online.store()
	S:srem(online.scope(2, room.game), p.uid)
	S:srem(online.scope(3, sid), p.uid)
	S:srem(online.scope(4, room_id), p.uid)
	if not p.logout then
		online.unset(p.uid, "node", "room_addr", "room_id", "server", "game", "desk")
		online.set(p.uid, { state = online.HALL })
	end
	report()
end

-- ---- desk hooks ----

local hooks = {}

function hooks.push(p, name, body)
	push.send(p.ctx, name, body)
end

function hooks.broadcast(ctxs, name, body)
	push.many(ctxs, name, body)
end

function hooks.settle(d, rec)
	return dbhelper.call("game", "settle", string.format("%d:%d:%d", sid, room_id, d.id), rec)
end

function hooks.playing()
	local n = 0
	for _, d in ipairs(desks) do
		if d:playing() then
			n = n + 1
		end
	end
	m_playing:set(n)
end

function hooks.finished(_, void)
	m_games[void and "void" or "settled"]:inc()
end

function hooks.stood(p, why)
	log(p.uid, "seat freed at the end of the round (%s)", why)
	left_desk(p, desks[p.last_desk] or { id = p.last_desk })
	if p.logout then
		remove(p)
	else
		push.update(p.ctx, { desk = false })
	end
	report()
end

-- ---- client requests ----

local function player_of(ctx)
	local p = players[ctx.uid]
	if not p then
		-- the session thinks it is here but the room does not know it: send it to the hall
		return nil, errors.reply(errors.NOT_IN_ROOM), { room = false, desk = false }
	end
	return p
end

local function seated(ctx)
	local p, body, update = player_of(ctx)
	if not p then
		return nil, body, update
	end
	if not p.desk then
		return nil, errors.reply(errors.NOT_AT_DESK)
	end
	return p
end

-- The desk to sit at for desk_id 0: a waiting desk with players first (fill desks up), then
-- an empty one, then a desk mid-round with a free seat (dealt in from the next round).
local function pick_desk()
	local best, best_score
	for _, d in ipairs(desks) do
		local free = d:free_seats()
		if free > 0 then
			local score = (d:playing() and 0 or 10) + (5 - free)
			if not best or score > best_score then
				best, best_score = d, score
			end
		end
	end
	return best
end

function R.client.desk_join(ctx, args)
	local p, body, update = player_of(ctx)
	if not p then
		return body, update
	end
	local want = args.desk_id or 0
	if p.desk then
		if want ~= 0 and want ~= p.desk.id then
			return errors.AT_DESK
		end
		local d = p.desk
		return { desk_id = d.id, seat = p.seat, seats = d:seats_view(), round = d.round, phase = d.phase }, { desk = d.id }
	end
	if p.gold < room.min_gold then
		return errors.LOW_GOLD
	end
	local d
	if want ~= 0 then
		d = desks[want]
		if not d then
			return errors.UNKNOWN_DESK
		end
	else
		d = pick_desk()
		if not d then
			return errors.DESK_FULL
		end
	end
	local seat, code = d:sit(p, args.seat)
	if not seat then
		return code
	end
	p.last_desk = d.id
	joined_desk(p, d)
	report()
	log(p.uid, "sat at desk %d seat %d", d.id, seat)
	return { desk_id = d.id, seat = seat, seats = d:seats_view(), round = d.round, phase = d.phase }, { desk = d.id }
end

function R.client.desk_ready(ctx, args)
	local p, body, update = seated(ctx)
	if not p then
		return body, update
	end
	return p.desk:ready(p, args.ready ~= false)
end

function R.client.desk_leave(ctx)
	local p, body, update = seated(ctx)
	if not p then
		return body, update
	end
	local d = p.desk
	if d:leave(p) then
		return { pending = true }
	end
	left_desk(p, d)
	report()
	return { pending = false }, { desk = false }
end

function R.client.bid_banker(ctx, args)
	local p, body, update = seated(ctx)
	if not p then
		return body, update
	end
	return p.desk:bid(p, args.times)
end

function R.client.bet(ctx, args)
	local p, body, update = seated(ctx)
	if not p then
		return body, update
	end
	return p.desk:bet(p, args.times)
end

function R.client.open_cards(ctx)
	local p, body, update = seated(ctx)
	if not p then
		return body, update
	end
	local code, hand_type = p.desk:open(p)
	if code ~= errors.OK then
		return code
	end
	return { hand_type = hand_type }
end

function R.client.desk_info(ctx)
	local p, body, update = seated(ctx)
	if not p then
		return body, update
	end
	return p.desk:info(p)
end

function R.client.room_leave(ctx)
	local p, body, update = player_of(ctx)
	if not p then
		return body, update
	end
	if p.desk then
		local d = p.desk
		local s = d.seats[p.seat]
		if s.playing and d:playing() then
			return errors.AT_DESK
		end
		d:leave(p)
		left_desk(p, d)
	end
	remove(p)
	log(p.uid, "left the room")
	return {}, { room = false, desk = false }
end

-- ---- commands from the hall and login roles ----

function R.cmd.enter(ctx, player)
	local p = players[ctx.uid]
	if p then
		p.ctx = ctx
		return errors.OK
	end
	if stopped or count >= #desks * 5 then
		return errors.ROOM_FULL
	end
	p = {
		uid = ctx.uid, nickname = player.nickname, avatar = player.head_url, gold = player.gold,
		online = true, ctx = ctx,
	}
	players[ctx.uid] = p
	R.seen[ctx.uid] = ctx.inc
	count = count + 1
	m_players:set(count)
	local S = online.store()
	S:sadd(online.scope(2, room.game), p.uid)
	S:sadd(online.scope(3, sid), p.uid)
	S:sadd(online.scope(4, room_id), p.uid)
	online.set(p.uid, {
		state = online.ROOM, node = node.name(), room_addr = skynet.self(), room_id = room_id,
		server = sid, game = room.game,
	})
	report()
	return errors.OK
end

-- The player's session moved to a new connection (reconnect, second login).
function R.cmd.rebind(uid, ctx)
	local p = players[uid]
	if not p then
		return false
	end
	p.ctx = ctx
	R.seen[uid] = ctx.inc
	if p.desk then
		p.desk:set_online(p, true)
	end
	return { desk = p.desk and p.desk.id or false }
end

function R.cmd.offline(uid, inc, conn)
	local p = players[uid]
	if p and p.ctx.inc == inc and (conn == nil or p.ctx.conn == conn) and p.online then
		log(uid, "offline: the desk plays for this seat")
		if p.desk then
			p.desk:set_online(p, false)
		else
			p.online = false
		end
	end
end

-- Logged out: leave now, or at the end of the round being played.
function R.cmd.logout(uid)
	local p = players[uid]
	if not p then
		return true
	end
	p.logout = true
	if p.desk then
		local d = p.desk
		if d:leave(p) then
			return true -- freed at the end of the round (hooks.stood)
		end
		left_desk(p, d)
	end
	remove(p)
	return true
end

-- Stop this instance if it is empty (the locator stops idle standby servers).
function R.cmd.stop()
	if count > 0 then
		return false
	end
	stopped = true
	pcall(node.send, "locator", nil, "gone", sid, skynet.self())
	log(nil, "stopped")
	skynet.timeout(0, skynet.exit)
	return true
end

function R.cmd.info()
	local list = {}
	for _, d in ipairs(desks) do
		list[#list + 1] = { id = d.id, players = 5 - d:free_seats(), phase = d.phase, round = d.round }
	end
	return { sid = sid, room_id = room_id, players = count, desks = list }
end

role.start(R, function()
	assert(sid and room_id, "room: usage newservice(\"room\", server_id, room_id)")
	local r = conf.room(room_id)
	if not r then
		error(string.format("room: unknown room %s (rooms_file)", tostring(room_id)), 0)
	end
	room = { sid = sid }
	for k, v in pairs(r) do
		room[k] = v
	end
	math.randomseed(string.unpack("<i8", crypt.randombytes(8)))
	-- freeze (SIGHUP / console freeze, docs/OPS.md): players, desks mid-round and the time
	-- left in their countdowns; every open flow (settlements) has finished by then
	skynet.freeze(function()
		stopped = true -- no more reports from the frozen instance
		R.frozen = true -- nothing changes after the snapshot (lualib/game/role.lua)
		local ps = {}
		for _, p in pairs(players) do
			ps[#ps + 1] = {
				uid = p.uid, nickname = p.nickname, avatar = p.avatar, gold = p.gold, online = p.online,
				ctx = p.ctx, last_desk = p.last_desk, logout = p.logout,
			}
		end
		local ds = {}
		for i, d in ipairs(desks) do
			ds[i] = d:freeze()
			d:cancel()
		end
		log(nil, "frozen: %d players, %d desks", #ps, #ds)
		return { version = 1, players = ps, desks = ds, seen = R.seen }
	end)
	local restored = skynet.restore(function(st)
		assert(st.version == 1, "room snapshot version")
		for _, v in ipairs(st.players) do
			players[v.uid] = v
			count = count + 1
		end
		for uid, inc in pairs(st.seen) do
			R.seen[uid] = inc
		end
		for i, v in ipairs(st.desks) do
			desks[i] = desk.restore(v, room, hooks, players)
		end
		-- Players whose session lives on (held by a gate node) keep playing here: their
		-- record and session now name this instance. The others (the gate went down with the
		-- node) are offline: the desks play for them.
		local here = { node = node.name(), addr = skynet.self(), id = room_id, sid = sid, game = room.game }
		local offline = 0
		for uid, p in pairs(players) do
			local rec = online.get(uid)
			if rec and rec.inc == p.ctx.inc and rec.room_id == room_id then
				online.set(uid, { node = node.name(), room_addr = skynet.self() })
				push.update(p.ctx, { room = here })
			else
				p.online = false
				offline = offline + 1
			end
		end
		for _, d in ipairs(desks) do
			if d:playing() then
				-- the countdown goes on with the time it had left; seats away then act at its end
				log(nil, "desk %d resumes round %d in phase %d with %d cs left%s", d.id, d.round, d.phase,
					d.deadline and d.deadline - skynet.now() or 0, d.settle_pending and " (settling)" or "")
			end
		end
		m_players:set(count)
		log(nil, "restored: %d players (%d offline), %d desks", count, offline, #desks)
	end)
	for i = #desks + 1, room.desks do
		desks[i] = desk.new(i, room, hooks)
	end
	if restored then
		hooks.playing()
	end
	report_now()
	skynet.fork(function()
		while not stopped do
			skynet.sleep(500)
			if not stopped then
				report_now()
			end
		end
	end)
	log(nil, "room %s: %d desks", room.name, room.desks)
end)
