-- A watchdog worker: holds the sessions of the connections the watchdog hands it. Each
-- client packet is decoded here, answered here (heartbeat) or routed by name to the role that
-- owns it (lualib/game/routes.lua) with the session context; answers and pushes go back
-- through one path (`out`), which stamps the player's packet sequence in `ud` and keeps each
-- sequenced packet in the replay window (lualib/game/window.lua) before it is written.
-- Requests of one connection run one at a time, in order; connections run concurrently.
--
-- A player's session outlives its connection: when the connection drops, the session goes
-- offline here (pushes are still stamped and kept) until the player reconnects (on any gate:
-- `retire` hands the sequence over), logs in again elsewhere (`kick`) or is logged out
-- (`ended`). See docs/PROTOCOL.md, "Sessions".

local skynet = require "skynet"
local driver = require "skynet.socketdriver"
local errors = require "game.errors"
local routes = require "game.routes"
local node = require "game.node"
local proto = require "game.proto"
local conf = require "game.conf"
local window = require "game.window"

local codec
local NODE = node.name()
local SELF
-- no packet for idle_timeout: the connection is closed and the player is offline (kick 4)
local IDLE = conf.number("idle_timeout", 15) * 100
local MAX_PENDING = conf.number("session_max_pending", 16)
local KEEP = (conf.number("reconnect_window", 300) + 30) * 100
local DELIVERED = 64 -- delivery ids remembered per session (handed over on reconnect)

local sessions = {} -- fd -> session (connected)
local by_uid = {} -- uid -> the player's session on this worker (connected or offline)
local expect = {} -- uid -> a connection whose reconnect for uid is in flight
local moved = {} -- uid -> { inc, target, expiry }: retired here, pushes follow the player
local fenced = {} -- uid -> { inc, expiry }: kicked before its login answer got here
local conn_seq = 0

local CMD = {}

local function log(s, fmt, ...)
	skynet.error(string.format("[watchdog fd=%s uid=%s] " .. fmt, tostring(s.fd), tostring(s.ctx.uid), ...))
end

-- ---- the output path ----

-- The next sequence number of a logged-in player; nil before login.
local function stamp(s)
	if s.ctx.uid then
		s.seq = s.seq + 1
		return s.seq
	end
end

-- Packets queued by one message (a push to a desk of five, a chat to a hall) are written
-- together after it: one store pipeline for every window append, then the sockets.
local dirty = {} -- sessions with queued packets, in order
local flush_scheduled = false

local function flush_all()
	while dirty[1] do
		local list = dirty
		dirty = {}
		local keep = {}
		for i, s in ipairs(list) do
			local batch = s.out
			s.out = {}
			-- packets queued while this batch is written go in the next one
			s.queued = false
			s.writing = (s.writing or 0) + 1
			list[i] = { s, batch }
			local uid = s.ctx.uid
			if uid then
				local entries
				for _, e in ipairs(batch) do
					if e.seq and not e.kept then
						entries = entries or {}
						entries[#entries + 1] = { s.ctx.inc, e.seq, e.session, e.packet }
					end
				end
				if entries then
					keep[#keep + 1] = { uid = uid, entries = entries }
				end
			end
		end
		if keep[1] then
			local ok, err = pcall(window.append_many, keep)
			if not ok then
				skynet.error(string.format("[watchdog] replay window not written (%d players): %s", #keep, err))
			end
		end
		for _, sb in ipairs(list) do
			local s = sb[1]
			for _, e in ipairs(sb[2]) do
				if e.answers then
					s.inflight[e.answers] = nil
				end
				if e.close then
					if s.fd and not s.closing then
						s.closing = true
						skynet.send(s.gate, "lua", "kick", s.fd)
					end
				elseif s.fd and not s.closing then
					driver.sendframe(s.fd, e.packet)
				end
			end
			s.writing = s.writing - 1
			if s.idle_waiter then
				skynet.wakeup(s.idle_waiter)
			end
		end
	end
	flush_scheduled = false
end

-- Queue one packet (or a close) for the session, in order.
local function out(s, e)
	local q = s.out
	q[#q + 1] = e
	if not s.queued then
		s.queued = true
		dirty[#dirty + 1] = s
	end
	if not flush_scheduled then
		flush_scheduled = true
		skynet.fork(flush_all)
	end
end

-- Answers are kept in the replay window; the session only remembers the highest request
-- session answered (clients count sessions up): a request at or below it is a resend,
-- looked up in the window (the rare path), so a session costs no memory per answer.
local function remember(s, session)
	if session > s.max_answered then
		s.max_answered = session
	end
end

-- The kept answer to `session` in this login, from the window; nil when not kept.
local function kept_answer(s, session)
	local ok, kept = pcall(window.load, s.ctx.uid, s.ctx.inc)
	if ok then
		for i = #kept, 1, -1 do
			if kept[i].session == session then
				return kept[i].packet
			end
		end
	end
end

local function send_response(s, session, packet_of)
	local ud = stamp(s)
	local ok, packet = pcall(packet_of, ud)
	if not ok then
		log(s, "cannot encode a response: %s", packet)
		packet = codec:error(session, errors.INTERNAL, ud)
	end
	if ud then
		remember(s, session)
	end
	-- the request stays "in flight" until its answer is in the window (see flush_all)
	out(s, { seq = ud, session = session, packet = packet, answers = session })
end

-- `prep`: the body encoded once for many receivers (codec:prepare), or nil. A body that
-- came prepared (lualib/game/push.lua) is its own prep.
local function send_push(s, name, body, prep)
	if body.prepared then
		prep = body
	end
	local ud = s.ctx.uid and s.seq + 1
	local ok, packet
	if prep then
		ok, packet = true, codec:push_prepared(prep, ud)
	else
		ok, packet = pcall(codec.push, codec, name, body, ud)
	end
	if not ok then
		log(s, "cannot encode push %s: %s", name, packet)
		return
	end
	stamp(s)
	out(s, { seq = ud, packet = packet })
end

local function close(s, why)
	if why then
		log(s, "closing: %s", why)
	end
	out(s, { close = true })
end

local function kick(s, reason, message)
	send_push(s, "kick", { reason = reason, message = message })
	close(s)
end

-- Forget the player's session here (logged out, logged in elsewhere, handed over).
local function drop(s)
	local uid = s.ctx.uid
	if uid and by_uid[uid] == s then
		by_uid[uid] = nil
	end
	s.dropped = true
end

-- Delivery ids (chat and other by-uid pushes) already stamped, so that none is sent twice
-- when the player moves between workers or gates.
local function delivered(s, did)
	if not did then
		return false
	end
	if s.dids[did] then
		return true
	end
	s.dids[did] = true
	local ring = s.did_ring
	ring[#ring + 1] = did
	if #ring > DELIVERED then
		s.dids[table.remove(ring, 1)] = nil
	end
	return false
end

-- The connection is gone but the login lives on: keep stamping and keeping pushes until the
-- player reconnects, logs in elsewhere or is logged out (and at most reconnect_window).
local function go_offline(s)
	local ctx = s.ctx
	s.offline = true
	pcall(node.send, "login", ctx.uid, "disconnect", ctx.uid, ctx.inc, ctx.conn)
	skynet.timeout(KEEP, function()
		if s.offline and by_uid[ctx.uid] == s then
			drop(s)
		end
	end)
end

-- ---- binding a player to the session ----

local function apply(s, update)
	local ctx = s.ctx
	if update.uid == false and ctx.uid and by_uid[ctx.uid] == s then
		by_uid[ctx.uid] = nil
	end
	for k, v in pairs(update) do
		if k == "kick" or k == "seq" or k == "replay" or k == "delivered" then
			-- session controls, not context
		elseif v == false then
			ctx[k] = nil
		else
			ctx[k] = v
		end
	end
	if update.uid then
		local old = by_uid[update.uid]
		if old and old ~= s then
			old.superseded = true
			drop(old)
		end
		by_uid[update.uid] = s
		if expect[update.uid] == s then
			expect[update.uid] = nil
		end
		s.seq = update.seq or 0
		for _, did in ipairs(update.delivered or {}) do
			delivered(s, did)
		end
	end
	if update.kick then
		s.kick_after = update.kick
	end
end

-- Pushes that reached this connection while its login or reconnect was in flight.
local function flush_early(s)
	local early = s.early
	s.early = {}
	for _, p in ipairs(early) do
		if p.update then
			apply(s, p.update)
		elseif not delivered(s, p.did) then
			send_push(s, p.name, p.body)
		end
	end
end

-- A reconnect: replay what the client missed (from the window), then the answer, then what
-- came meanwhile. `resumed` is false when the window no longer holds the gap.
local function resume(s, session, body, update)
	local last_seq, seq = update.replay, update.seq
	local ok, kept = pcall(window.load, s.ctx.uid, s.ctx.inc)
	if not ok then
		log(s, "replay window not read: %s", kept)
		kept = {}
	end
	for _, e in ipairs(kept) do
		if e.session ~= 0 then
			remember(s, e.session)
		end
	end
	local first = kept[1] and kept[1].seq or seq + 1
	local resumed = ok and last_seq <= seq and (last_seq >= seq or first <= last_seq + 1)
	body.resumed, body.seq = resumed, seq
	if resumed then
		for _, e in ipairs(kept) do
			if e.seq > last_seq then
				out(s, { seq = e.seq, session = e.session, packet = e.packet, kept = true })
			end
		end
		send_response(s, session, function(ud)
			return codec:response("reconnect", session, body, ud)
		end)
	else
		-- the client reloads; the sequence goes on from seq
		out(s, { packet = codec:response("reconnect", session, body, nil), answers = session })
	end
	log(s, "resumed=%s last_seq=%d seq=%d (%d kept)", tostring(resumed), last_seq, seq, #kept)
end

-- ---- requests ----

-- A role call; transport failures become UNAVAILABLE (or GAME_DOWN for the player's room).
-- Game nodes being frozen (SIGHUP on the node, docs/OPS.md): node name -> { waiters, n,
-- limit }. Requests bound to its rooms wait here, in order, until the restored node releases
-- them (CMD.release) or freeze_timeout passes (then GAME_DOWN: back to the hall).
local held = {}

-- Wait while `nodename` is held. true: go on (released); false: the hold timed out.
local function wait_hold(nodename)
	local h = held[nodename]
	if not h then
		return true
	end
	if h.n >= h.limit then
		return nil -- the buffer is full
	end
	h.n = h.n + 1
	local token = {}
	h.waiters[#h.waiters + 1] = token
	skynet.wait(token)
	return not h.timed_out
end

local function call_role(s, route, name, args)
	local ctx = s.ctx
	local nodename, addr
	if route.bound then
		local room = ctx.room
		if not room then
			return errors.reply(errors.NOT_IN_ROOM)
		end
		if held[room.node] then
			local go = wait_hold(room.node)
			if go == nil then
				log(s, "%s: freeze buffer of %s full", name, room.node)
				return errors.reply(errors.BUSY)
			elseif not go then
				return errors.reply(errors.GAME_DOWN), { room = false, desk = false }
			end
			room = ctx.room -- the restored room may have told its new address meanwhile
			if not room then
				return errors.reply(errors.NOT_IN_ROOM)
			end
		end
		nodename, addr = room.node, room.addr
	else
		local key = route.key and (args[route.key] or ctx[route.key]) or ctx.uid
		local ok, picked = pcall(node.pick, route.role, key)
		if not ok then
			log(s, "%s: %s", name, picked)
			return errors.reply(errors.UNAVAILABLE)
		end
		nodename, addr = picked, route.role
	end
	local ok, body, update = pcall(node.call_at, nodename, addr, "client", name, ctx, args)
	if ok then
		return body, update
	end
	log(s, "%s on %s: %s", name, tostring(nodename), body)
	if route.bound then
		-- the room's node is gone: the player is back in the hall
		return errors.reply(errors.GAME_DOWN), { room = false, desk = false }
	end
	return errors.reply(errors.UNAVAILABLE)
end

local function handle(s, name, session, args)
	local route = routes[name]
	local body, update
	if not route then
		body = errors.reply(errors.UNKNOWN_MESSAGE)
	elseif route.login ~= false and not s.ctx.uid then
		body = errors.reply(errors.NOT_LOGGED_IN)
	elseif route.guest and s.ctx.uid then
		body = errors.reply(errors.ALREADY_LOGGED_IN)
	elseif name == "heartbeat" then
		body = { code = 0, server_time = math.floor(skynet.time() * 1000) }
	else
		s.ctx.req = session
		s.in_role = name
		body, update = call_role(s, route, name, args)
		s.in_role = nil
		if s.idle_waiter then
			skynet.wakeup(s.idle_waiter)
		end
	end
	if s.dropped then
		return -- handed over or superseded meanwhile: the answer belongs to the new session
	end
	-- a logout's answer still carries the player's sequence: the session ends after it
	local ending = update and update.uid == false
	if update and not ending then
		apply(s, update)
		if s.closed and update.uid then
			-- logged in while the connection went away: that session is offline at once
			go_offline(s)
		end
	end
	if session then
		if update and update.replay then
			resume(s, session, body, update)
		else
			send_response(s, session, function(ud)
				return codec:response(name, session, body, ud)
			end)
		end
	end
	if update and update.uid then
		flush_early(s)
		local f = fenced[update.uid]
		if f and update.inc and update.inc <= f.inc then
			log(s, "login %d superseded before it was answered", update.inc)
			s.superseded = true
			kick(s, 1, "logged in elsewhere")
			drop(s)
		end
	end
	if ending then
		apply(s, update)
		drop(s)
	end
	if s.kick_after then
		local reason = s.kick_after
		s.kick_after = nil
		kick(s, reason, "logged out")
	end
end

-- Drain one session's requests in order. Requests not yet started when the connection
-- closes are dropped: unanswered, the client sends them again after reconnecting.
local function drain(s)
	while not (s.closed or s.dropped) do
		local r = table.remove(s.queue, 1)
		if not r then
			break
		end
		local ok, err = pcall(handle, s, r[1], r[2], r[3])
		if not ok then
			log(s, "request %s failed: %s", tostring(r[1]), err)
			if r[2] then
				send_response(s, r[2], function(ud)
					return codec:error(r[2], errors.INTERNAL, ud)
				end)
			end
		end
	end
	for _, r in ipairs(s.queue) do
		if r[2] then
			s.inflight[r[2]] = nil
		end
	end
	s.queue = {}
	s.running = false
end

local function on_packet(s, msg, sz)
	s.last = skynet.now()
	local ok, name, session, args, unknown_session = pcall(codec.request, codec, msg, sz)
	if not ok then
		close(s, "undecodable packet: " .. tostring(name))
		return
	end
	if name == nil then
		-- an unknown request type: say so, keep the connection
		if unknown_session then
			send_response(s, unknown_session, function(ud)
				return codec:error(unknown_session, errors.UNKNOWN_MESSAGE, ud)
			end)
		end
		return
	end
	if s.closing or s.superseded or s.dropped then
		return
	end
	if session and s.ctx.uid then
		-- a resend (after a reconnect): the kept answer again, or nothing while it runs
		if s.inflight[session] then
			return
		elseif session <= s.max_answered then
			local kept = kept_answer(s, session)
			if kept then
				out(s, { packet = kept })
				return
			end
		end
	end
	if name == "heartbeat" then
		-- answered at once, even behind a slow request
		handle(s, name, session, args)
		return
	end
	if #s.queue >= MAX_PENDING then
		if session then
			send_response(s, session, function(ud)
				return codec:error(session, errors.BUSY, ud)
			end)
		end
		return
	end
	if name == "reconnect" and math.tointeger(args.uid) and not s.ctx.uid then
		expect[math.tointeger(args.uid)] = s
	end
	if session then
		s.inflight[session] = true
	end
	s.queue[#s.queue + 1] = { name, session, args }
	if not s.running then
		s.running = true
		skynet.fork(drain, s)
	end
end

skynet.register_protocol {
	name = "client",
	id = skynet.PTYPE_CLIENT,
	unpack = function(msg, sz)
		return msg, sz
	end,
	dispatch = function(fd, _, msg, sz)
		skynet.ignoreret()
		local s = sessions[fd]
		if s then
			on_packet(s, msg, sz)
		end
	end,
}

-- ---- connections ----

local shutting = false -- the node is shutting down (CMD.shutdown)

function CMD.open(fd, addr, gate)
	conn_seq = conn_seq + 1
	local ip = addr and addr:match "^(.*):%d+$" or addr
	sessions[fd] = {
		fd = fd,
		gate = gate,
		queue = {},
		out = {},
		seq = 0,
		last = skynet.now(),
		max_answered = 0,
		inflight = {},
		early = {},
		dids = {},
		did_ring = {},
		ctx = {
			gate = NODE,
			watchdog = SELF,
			fd = fd,
			ip = ip,
			conn = string.format("%s/%d/%d/%d", NODE, SELF, fd, conn_seq),
		},
	}
	if shutting then
		kick(sessions[fd], 3, "maintenance")
	end
end

function CMD.close(fd)
	local s = sessions[fd]
	if not s then
		return
	end
	sessions[fd] = nil
	s.closed = true
	s.fd = nil
	for uid, e in pairs(expect) do
		if e == s then
			expect[uid] = nil
		end
	end
	local ctx = s.ctx
	if ctx.uid then
		if by_uid[ctx.uid] == s and not (s.superseded or s.dropped or s.retiring) then
			go_offline(s)
		end
	elseif s.in_role == "login" or s.in_role == "visitor_login" then
		-- waiting in the login queue: give the place up
		pcall(node.send, "auth", "queue", "cancel", ctx.conn)
	end
end

-- The session a push target ({fd, conn, uid, inc}) names: the player's session here (even
-- offline), or a connection whose login or reconnect is in flight (the push waits in
-- `early` until the answer). Returns s, true for the latter.
local function current(t)
	if t.uid then
		local s = by_uid[t.uid]
		if s and s.ctx.inc == t.inc and not s.dropped then
			return s
		end
		local c = t.fd and sessions[t.fd]
		if c and not c.ctx.uid and c.ctx.conn == t.conn then
			return c, true
		end
		return nil
	end
	local s = t.fd and sessions[t.fd]
	if s and not s.closing and s.ctx.conn == t.conn then
		return s
	end
end

-- Pushes for a player retired here go to the session that took over.
local function follow(t, name, body)
	local m = moved[t.uid]
	if not m then
		return
	end
	if m.expiry < skynet.now() then
		moved[t.uid] = nil
	elseif m.inc == t.inc then
		pcall(node.send_at, m.target.gate, m.target.watchdog, "push", m.target, name, body)
	end
end

local function push_one(t, name, body, prep)
	local s, early = current(t)
	if early then
		s.early[#s.early + 1] = { name = name, body = body }
	elseif s then
		send_push(s, name, body, prep)
	elseif t.uid then
		follow(t, name, body)
	end
end

-- The body encoded once when several sessions get it; nil (and logged) if it cannot be.
local function prepare(name, body)
	local ok, prep = pcall(codec.prepare, codec, name, body)
	if ok then
		return prep
	end
	skynet.error(string.format("[watchdog] cannot encode push %s: %s", name, prep))
end

function CMD.push(t, name, body)
	push_one(t, name, body)
end

function CMD.push_many(list, name, body)
	local prep = body.prepared and body or (#list > 1 and prepare(name, body))
	if prep == nil then
		return
	end
	for _, t in ipairs(list) do
		push_one(t, name, body, prep or nil)
	end
end

-- By uid (chat, HTTP push); `did` identifies the delivery so that no session stamps it twice.
function CMD.deliver(uids, name, body, did)
	local prep
	for _, uid in ipairs(uids) do
		uid = math.tointeger(tonumber(uid)) or uid
		local s = by_uid[uid]
		if s and not s.dropped then
			if not delivered(s, did) then
				prep = prep or (body.prepared and body) or prepare(name, body)
				if not prep then
					return
				end
				send_push(s, name, body, prep)
			end
		else
			local c = expect[uid]
			if c then
				c.early[#c.early + 1] = { name = name, body = body, did = did }
			end
		end
	end
end

-- Kick the player's session on this worker (duplicate login, maintenance, ...).
function CMD.kick(t, reason, message)
	local s, early = current(t)
	if not s or early or s.dropped then
		if reason == 1 and t.uid and t.inc then
			-- a newer login won before this one's answer came back: refuse it on arrival
			local f = fenced[t.uid]
			if not f or f.inc < t.inc then
				fenced[t.uid] = { inc = t.inc, expiry = skynet.now() + 3000 }
			end
		end
		return false
	end
	log(s, "kicked: reason %d", reason)
	if reason == 1 then
		s.superseded = true
	end
	kick(s, reason, message)
	if reason == 1 then
		drop(s)
	end
	return true
end

-- The player was logged out (no reconnect in time): forget the offline session.
function CMD.ended(uid, inc)
	local s = by_uid[uid]
	if s and s.ctx.inc == inc then
		drop(s)
	end
end

-- The player reconnected elsewhere (another connection, worker or gate): stop, let the
-- request being handled finish (its answer is kept in the window), and hand the sequence
-- over. Returns { seq, delivered } or nil when this worker has no such session.
function CMD.retire(uid, inc, target)
	local s = by_uid[uid]
	if not s or s.ctx.inc ~= inc or s.dropped then
		return nil
	end
	s.retiring = true
	if s.fd then
		-- the old connection is still open (the client gave up on it): close it quietly
		s.superseded = true
		close(s)
	end
	-- woken when the request in progress is answered and its packets are written
	local token = {}
	s.idle_waiter = token
	skynet.timeout(500, function()
		if s.idle_waiter == token then
			s.idle_waiter = nil
			skynet.wakeup(token)
		end
	end)
	while s.idle_waiter == token and (s.in_role or s.queued or (s.writing or 0) > 0) do
		skynet.wait(token)
	end
	s.idle_waiter = nil
	drop(s)
	s.offline = false
	moved[uid] = { inc = inc, target = target, expiry = skynet.now() + 1000 }
	log(s, "handed over at seq %d", s.seq)
	return { seq = s.seq, delivered = s.did_ring }
end

-- A role changes a session's context (a player stood up at the end of a round, ...).
function CMD.update(t, fields)
	local s, early = current(t)
	if early then
		s.early[#s.early + 1] = { update = fields }
	elseif s then
		apply(s, fields)
	end
	return s ~= nil
end

-- Rolling restart: send every connection to another gate (`to` = {host, port, ws_port}).
-- Players get `redirect` with their reconnect token and resume there (the old connection is
-- closed by the retire); connections not logged in are told where to go and closed.
function CMD.drain(to)
	local n = 0
	for _, s in pairs(sessions) do
		if not s.closing then
			local token = ""
			if s.ctx.uid then
				local ok, rec = pcall(require("game.online").get, s.ctx.uid)
				token = ok and rec and rec.token or ""
			end
			send_push(s, "redirect", { host = to.host, port = to.port, ws_port = to.ws_port or 0, token = token })
			if not s.ctx.uid then
				close(s)
			end
			n = n + 1
		end
	end
	return n
end

-- Hold the requests bound to the rooms of `nodename` (it is freezing) for up to `seconds`,
-- at most `limit` of them on this worker.
function CMD.hold(nodename, seconds, limit)
	if held[nodename] then
		return true
	end
	local h = { waiters = {}, n = 0, limit = limit }
	held[nodename] = h
	skynet.timeout(math.floor(seconds * 100), function()
		if held[nodename] == h then
			held[nodename] = nil
			h.timed_out = true
			skynet.error(string.format("watchdog worker: %s not back after %s s: %d held requests fail (GAME_DOWN)",
				nodename, tostring(seconds), #h.waiters))
			for _, token in ipairs(h.waiters) do
				skynet.wakeup(token)
			end
		end
	end)
	return true
end

-- The node is back (restored): the held requests go on, in the order they came.
function CMD.release(nodename)
	local h = held[nodename]
	if not h then
		return 0
	end
	held[nodename] = nil
	for _, token in ipairs(h.waiters) do
		skynet.wakeup(token)
	end
	return #h.waiters
end

-- Graceful shutdown of the node (SIGTERM): every client is told (kick 3 "maintenance") and
-- a connection still accepted afterwards is kicked as it opens.
function CMD.shutdown()
	shutting = true
	local n = 0
	for _, s in pairs(sessions) do
		if not s.closing then
			kick(s, 3, "maintenance")
			n = n + 1
		end
	end
	return n
end

-- Past the drain timeout: whoever is still here is told the node goes down (kick 3).
function CMD.kick_all(reason, message)
	for _, s in pairs(sessions) do
		if not s.closing then
			kick(s, reason, message)
		end
	end
end

function CMD.count()
	local n, players, offline = 0, 0, 0
	for _, s in pairs(sessions) do
		n = n + 1
		if s.ctx.uid then
			players = players + 1
		end
	end
	for _, s in pairs(by_uid) do
		if s.offline then
			offline = offline + 1
		end
	end
	return n, players, offline
end

-- Close connections silent for offline_timeout (kick reason 4); the player goes offline.
local function sweep()
	while true do
		skynet.sleep(100)
		local now = skynet.now()
		for _, s in pairs(sessions) do
			if not s.closing and now - s.last > IDLE then
				log(s, "no packet for %d s", (now - s.last) // 100)
				kick(s, 4, "idle")
			end
		end
		for uid, m in pairs(moved) do
			if m.expiry < now then
				moved[uid] = nil
			end
		end
		for uid, f in pairs(fenced) do
			if f.expiry < now then
				fenced[uid] = nil
			end
		end
	end
end

return function()
	-- many short-lived tables per packet: the generational collector keeps up at less cost
	collectgarbage("generational")
	skynet.start(function()
		SELF = skynet.self()
		codec = proto.codec()
		skynet.dispatch("lua", function(session, _, cmd, ...)
			local f = CMD[cmd]
			if not f then
				error("watchdog worker: unknown command " .. tostring(cmd))
			end
			if session == 0 then
				f(...)
			else
				skynet.retpack(f(...))
			end
		end)
		if IDLE > 0 then
			skynet.fork(sweep)
		end
	end)
end
