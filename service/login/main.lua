-- login: players come online here (seed 004's loginserver). `login` (account + one-time
-- auth token from auth) and `visitor_login` (device id) load or create the player in SQL,
-- pass the login queue, then bind the session: a new incarnation in the online store, a
-- reconnect token, and a kick for an older live session of the same player.
--
-- Everything that changes one player's online record runs on the login node picked by the
-- player's uid (routes.lua and node.pick), one at a time per player (game.lock): bind,
-- reconnect, disconnect, logout. The incarnation (player_inc:<uid>) fences older sessions:
-- their disconnects and late requests are ignored everywhere.

local skynet = require "skynet"
local role = require "game.role"
local errors = require "game.errors"
local check = require "game.check"
local conf = require "game.conf"
local node = require "game.node"
local online = require "game.online"
local lock = require "game.lock"
local window = require "game.window"
local crypt = require "cirrus.crypt"
local dbhelper = require "dbhelper"
local flow = require "skynet.flow"
local metrics = require "cirrus.metrics"

local L = role.new "login"

-- /metrics (docs/OPS.md): the game-wide online set, counted once a second (the login queue
-- admits against the same count)
local m_online = metrics.gauge("cirrus_game_online_players",
	"Players online in the whole game (the online_players set, reconnect window included); every login node reports it: take max().")

local START_GOLD = conf.number("start_gold", 10000)
local RECONNECT_WINDOW = conf.number("reconnect_window", 300)

local ROOM_FIELDS = { "node", "room_addr", "room_id", "server", "game", "desk" }

local function now_ms()
	return math.floor(skynet.time() * 1000)
end

local function player_body(p)
	return { uid = p.id, nickname = p.nickname, avatar = p.head_url, gold = p.gold, online = true }
end

-- The session context of this connection once it is `uid`'s incarnation `inc`.
local function session_ctx(ctx, uid, inc, nickname)
	local c = {}
	for k, v in pairs(ctx) do
		c[k] = v
	end
	c.uid, c.inc, c.nickname = uid, inc, nickname
	return c
end

-- Where the player sits, from the online record, if the room still has them.
local function rejoin_room(uid, rec, ctx)
	if not rec or not rec.room_addr then
		return nil
	end
	local ok, res = pcall(node.call_at, rec.node, rec.room_addr, "rebind", uid, ctx)
	if ok and res then
		return {
			room = { node = rec.node, addr = rec.room_addr, id = rec.room_id, sid = rec.server, game = rec.game },
			desk = res.desk or false,
		}
	end
	online.unset(uid, table.unpack(ROOM_FIELDS))
	online.set(uid, { state = online.HALL })
	return nil
end

-- Make this connection the player's session: a new login (incarnation) with a fresh packet
-- sequence (runs under the player's lock).
local function bind(ctx, uid, nickname, token)
	local S = online.store()
	local old = online.get(uid)
	local inc = S:incr("player_inc:" .. uid)
	token = token or crypt.token(16)
	window.clear(uid)
	online.set(uid, {
		uid = uid,
		session = ctx.conn,
		gate = ctx.gate,
		watchdog = ctx.watchdog,
		fd = ctx.fd,
		ip = ctx.ip or "",
		inc = inc,
		token = token,
		state = old and old.state or online.HALL,
		offline = 0,
		nickname = nickname,
		login_time = os.time(),
	})
	S:sadd("online_players", uid)
	S:sadd("fd_hall", uid)
	if old and old.gate and old.session ~= ctx.conn then
		role.log(uid, "replacing the session on %s fd %s", old.gate, tostring(old.fd))
		pcall(node.send_at, old.gate, old.watchdog, "kick", { fd = old.fd, uid = uid, inc = old.inc }, 1,
			"logged in elsewhere")
	end
	local sctx = session_ctx(ctx, uid, inc, nickname)
	local place = rejoin_room(uid, old, sctx)
	local update = { uid = uid, inc = inc, nickname = nickname, seq = 0, room = false, desk = false }
	if place then
		update.room, update.desk = place.room, place.desk
	end
	return update, token, old
end

function L.cmd.bind(ctx, uid, nickname)
	return lock.run(uid, bind, ctx, uid, nickname)
end

-- Admission (the queue) and binding for a player that logged in on this node.
local function come_online(ctx, p)
	if not online.get(p.id) then
		-- players already online (a second device, a retry) do not queue again
		local ok, code = pcall(node.call, "auth", "queue", "admit", ctx)
		if not ok then
			role.log(p.id, "login queue: %s", code)
			return errors.UNAVAILABLE
		end
		if code ~= errors.OK then
			return code
		end
	end
	-- the player's records change on the login node their uid picks: here, most of the time
	local ok, update, token
	if node.pick("login", p.id) == node.name() then
		ok, update, token = pcall(L.cmd.bind, ctx, p.id, p.nickname)
	else
		ok, update, token = pcall(node.call, "login", p.id, "bind", ctx, p.id, p.nickname)
	end
	pcall(node.send, "auth", "queue", "done", ctx.conn)
	if not ok then
		role.log(p.id, "bind failed: %s", update)
		return errors.UNAVAILABLE
	end
	role.log(p.id, "online on %s fd %d (inc %d)", ctx.gate, ctx.fd, update.inc)
	return { uid = p.id, token = token, player = player_body(p), server_time = now_ms() }, update
end

function L.client.visitor_login(ctx, args)
	if not check.device(args.device_id) then
		return errors.BAD_REQUEST
	end
	if args.nickname and not check.nickname(args.nickname) then
		return errors.BAD_NICKNAME
	end
	if flow.shutting() then
		return errors.UNAVAILABLE -- the node is shutting down: no new login
	end
	-- account, player and last login are several writes: one tracked flow
	local p = flow.run("visitor_login", dbhelper.call, "game", "visitor", args.device_id, args.nickname, START_GOLD)
	return come_online(ctx, p)
end

function L.client.login(ctx, args)
	local account, token = args.account, args.auth_token
	if not check.account(account) or type(token) ~= "string" then
		return errors.BAD_REQUEST
	end
	-- the token is single-use: only the caller whose DEL removed it goes on
	local S = online.store()
	local key = "auth_token:" .. account
	if S:get(key) ~= token or S:del(key) ~= 1 then
		return errors.BAD_TOKEN
	end
	if flow.shutting() then
		return errors.UNAVAILABLE
	end
	local p = flow.run("login", dbhelper.call, "game", "account_player", account, START_GOLD)
	if not p then
		return errors.UNKNOWN_ACCOUNT
	end
	return come_online(ctx, p)
end

-- Reconnect: the same login (incarnation) on a new connection, on any gate. The room pushes
-- to the new connection from now on (the watchdog holds them until this answer), the old
-- session stops and hands its packet sequence over (or, its gate gone, the replay window
-- tells where it stopped), and the watchdog replays what the client missed.
function L.client.reconnect(ctx, args)
	local uid, token = math.tointeger(args.uid), args.token
	local last_seq = math.tointeger(args.last_seq) or 0
	if not uid or type(token) ~= "string" or last_seq < 0 then
		return errors.BAD_REQUEST
	end
	return lock.run(uid, function()
		local rec = online.get(uid)
		if not rec or rec.token ~= token or not rec.inc then
			return errors.BAD_RECONNECT
		end
		local inc = rec.inc
		local sctx = session_ctx(ctx, uid, inc, rec.nickname)
		local place = rejoin_room(uid, rec, sctx)
		local seq, delivered
		if rec.gate and rec.watchdog then
			local ok, r = pcall(node.call_at, rec.gate, rec.watchdog, "retire", uid, inc, sctx)
			if ok and r then
				seq, delivered = r.seq, r.delivered
			elseif not ok then
				role.log(uid, "the old session on %s is gone: %s", rec.gate, r)
			end
		end
		if not seq then
			seq = window.last(uid, inc)
		end
		online.set(uid, {
			session = ctx.conn, gate = ctx.gate, watchdog = ctx.watchdog, fd = ctx.fd, ip = ctx.ip or "",
			offline = 0,
		})
		role.log(uid, "reconnected on %s fd %d (inc %d, seq %d, client at %d)", ctx.gate, ctx.fd, inc, seq, last_seq)
		local update = {
			uid = uid, inc = inc, nickname = rec.nickname, seq = seq, replay = last_seq, delivered = delivered,
			room = false, desk = false,
		}
		if place then
			update.room, update.desk = place.room, place.desk
		end
		local room = update.room
		return {
			seq = seq,
			resumed = false, -- the watchdog decides, from the replay window
			room_id = room and room.id or 0,
			desk_id = update.desk or 0,
		}, update
	end)
end

-- Log the player out everywhere (runs under the player's lock). `gate`: also forget the
-- session kept on its gate (a logout by the client ends that session itself).
local function logout(uid, rec, why, gate)
	if rec.room_addr then
		local ok, err = pcall(node.call_at, rec.node, rec.room_addr, "logout", uid)
		if not ok then
			role.log(uid, "room logout: %s", err)
		end
	end
	local S = online.store()
	S:del(online.key(uid))
	S:srem("online_players", uid)
	S:srem("fd_hall", uid)
	window.clear(uid)
	if gate and rec.gate and rec.watchdog then
		-- an offline session still kept on its gate goes too
		pcall(node.send_at, rec.gate, rec.watchdog, "ended", uid, rec.inc)
	end
	role.log(uid, "logged out (%s)", why)
end

function L.client.logout(ctx)
	lock.run(ctx.uid, function()
		local rec = online.get(ctx.uid)
		if rec and rec.inc == ctx.inc then
			logout(ctx.uid, rec, "logout")
		end
	end)
	return {}, { kick = 5, uid = false, inc = false, room = false, desk = false }
end

-- A session's connection closed. The seat stays (played automatically) and the player may
-- reconnect within reconnect_window seconds; after that they are logged out. Fenced by the
-- connection: a reconnect keeps the incarnation, and the old connection's late close must
-- not mark the new one offline.
function L.cmd.disconnect(uid, inc, conn)
	local gone = lock.run(uid, function()
		local rec = online.get(uid)
		if not rec or rec.inc ~= inc or rec.session ~= conn then
			return false -- a newer connection or login owns the player
		end
		online.set(uid, { offline = 1, offline_time = os.time() })
		if rec.room_addr then
			pcall(node.send_at, rec.node, rec.room_addr, "offline", uid, inc, conn)
		end
		role.log(uid, "offline (inc %d)", inc)
		return true
	end)
	if not gone then
		return
	end
	skynet.timeout(RECONNECT_WINDOW * 100, function()
		lock.run(uid, function()
			local rec = online.get(uid)
			if rec and rec.inc == inc and rec.session == conn and rec.offline == 1 then
				logout(uid, rec, "no reconnect within " .. RECONNECT_WINDOW .. " s", true)
			end
		end)
	end)
end

role.start(L, function()
	skynet.fork(function()
		while true do
			local ok, n = pcall(online.count)
			if ok then
				m_online:set(n)
			end
			skynet.sleep(100)
		end
	end)
end)
