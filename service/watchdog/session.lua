-- A watchdog worker: holds the sessions of the connections the watchdog hands it. Each
-- client packet is decoded here, answered here (heartbeat) or routed by name to the role that
-- owns it (lualib/game/routes.lua) with the session context; answers and pushes go back
-- through one path, which stamps the player's packet sequence in `ud`.
-- Requests of one connection run one at a time, in order; connections run concurrently.

local skynet = require "skynet"
local driver = require "skynet.socketdriver"
local errors = require "game.errors"
local routes = require "game.routes"
local node = require "game.node"
local proto = require "game.proto"
local conf = require "game.conf"

local codec
local NODE = node.name()
local SELF
local IDLE = conf.number("idle_timeout", 60) * 100 -- centiseconds
local MAX_PENDING = conf.number("session_max_pending", 16)

local sessions = {} -- fd -> session
local by_uid = {} -- uid -> session
local conn_seq = 0

local CMD = {}

local function log(s, fmt, ...)
	skynet.error(string.format("[watchdog fd=%d uid=%s] " .. fmt, s.fd, tostring(s.ctx.uid), ...))
end

-- Every packet to a logged-in player carries the next sequence number.
local function next_ud(s)
	if s.ctx.uid then
		s.seq = s.seq + 1
		return s.seq
	end
end

local function write(s, packet)
	if not s.closed then
		driver.sendframe(s.fd, packet)
	end
end

local function send_push(s, name, body)
	local ok, packet = pcall(codec.push, codec, name, body, next_ud(s))
	if not ok then
		log(s, "cannot encode push %s: %s", name, packet)
		return
	end
	write(s, packet)
end

local function close(s, why)
	if s.closing then
		return
	end
	s.closing = true
	if why then
		log(s, "closing: %s", why)
	end
	skynet.send(s.gate, "lua", "kick", s.fd)
end

local function kick(s, reason, message)
	send_push(s, "kick", { reason = reason, message = message })
	close(s)
end

local function apply(s, update)
	local ctx = s.ctx
	if update.uid == false and ctx.uid and by_uid[ctx.uid] == s then
		by_uid[ctx.uid] = nil
	end
	for k, v in pairs(update) do
		if k == "kick" then
			s.kick_after = v
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
		end
		by_uid[update.uid] = s
		s.seq = update.seq or s.seq
	end
end

-- A role call; transport failures become UNAVAILABLE (or GAME_DOWN for the player's room).
local function call_role(s, route, name, args)
	local ctx = s.ctx
	local nodename, addr
	if route.bound then
		local room = ctx.room
		if not room then
			return errors.reply(errors.NOT_IN_ROOM)
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
	end
	-- a logout's answer still carries the player's sequence: the session ends after it
	local ending = update and update.uid == false
	if update and not ending then
		apply(s, update)
		if s.closed and update.uid then
			-- logged in while the connection went away: that session is offline at once
			node.send("login", update.uid, "disconnect", update.uid, update.inc, s.ctx.conn)
		end
	end
	if session then
		local ok, packet = pcall(codec.response, codec, name, session, body, next_ud(s))
		if not ok then
			log(s, "cannot encode %s response: %s", name, packet)
			packet = codec:error(session, errors.INTERNAL, s.ctx.uid and s.seq or nil)
		end
		write(s, packet)
	end
	if ending then
		apply(s, update)
	end
	if s.kick_after then
		kick(s, s.kick_after, "logged out")
	end
end

-- Drain one session's requests in order.
local function drain(s)
	while true do
		local r = table.remove(s.queue, 1)
		if not r then
			break
		end
		local ok, err = pcall(handle, s, r[1], r[2], r[3])
		if not ok then
			log(s, "request %s failed: %s", tostring(r[1]), err)
			if r[2] then
				write(s, codec:error(r[2], errors.INTERNAL, next_ud(s)))
			end
		end
	end
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
			write(s, codec:error(unknown_session, errors.UNKNOWN_MESSAGE, next_ud(s)))
		end
		return
	end
	if s.closing or s.superseded then
		return
	end
	if name == "heartbeat" then
		-- answered at once, even behind a slow request
		handle(s, name, session, args)
		return
	end
	if #s.queue >= MAX_PENDING then
		if session then
			write(s, codec:error(session, errors.BUSY, next_ud(s)))
		end
		return
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

function CMD.open(fd, addr, gate)
	conn_seq = conn_seq + 1
	local ip = addr and addr:match "^(.*):%d+$" or addr
	sessions[fd] = {
		fd = fd,
		gate = gate,
		queue = {},
		seq = 0,
		last = skynet.now(),
		ctx = {
			gate = NODE,
			watchdog = SELF,
			fd = fd,
			ip = ip,
			conn = string.format("%s/%d/%d/%d", NODE, SELF, fd, conn_seq),
		},
	}
end

function CMD.close(fd)
	local s = sessions[fd]
	if not s then
		return
	end
	sessions[fd] = nil
	s.closed = true
	local ctx = s.ctx
	if ctx.uid then
		if by_uid[ctx.uid] == s then
			by_uid[ctx.uid] = nil
		end
		if not s.superseded then
			pcall(node.send, "login", ctx.uid, "disconnect", ctx.uid, ctx.inc, ctx.conn)
		end
	elseif s.in_role == "login" or s.in_role == "visitor_login" then
		-- waiting in the login queue: give the place up
		pcall(node.send, "auth", "queue", "cancel", ctx.conn)
	end
end

-- Is `t` ({fd, conn, uid, inc}) still the session at its fd?
local function current(t)
	local s = sessions[t.fd]
	if not s or s.closing then
		return nil
	end
	local ctx = s.ctx
	if t.uid then
		if ctx.uid ~= t.uid or ctx.inc ~= t.inc then
			return nil
		end
	elseif ctx.conn ~= t.conn then
		return nil
	end
	return s
end

function CMD.push(t, name, body)
	local s = current(t)
	if s then
		send_push(s, name, body)
	end
end

function CMD.push_many(list, name, body)
	for _, t in ipairs(list) do
		local s = current(t)
		if s then
			send_push(s, name, body)
		end
	end
end

function CMD.deliver(uids, name, body)
	for _, uid in ipairs(uids) do
		local s = by_uid[math.tointeger(tonumber(uid)) or uid]
		if s and not s.closing then
			send_push(s, name, body)
		end
	end
end

-- Kick the player's session on this worker (duplicate login, maintenance, ...).
function CMD.kick(t, reason, message)
	local s = current(t)
	if s then
		s.superseded = reason == 1 or nil
		log(s, "kicked: reason %d", reason)
		kick(s, reason, message)
		return true
	end
	return false
end

-- A role changes a session's context (a player stood up at the end of a round, ...).
function CMD.update(t, fields)
	local s = current(t)
	if s then
		apply(s, fields)
		return true
	end
	return false
end

function CMD.count()
	local n, players = 0, 0
	for _, s in pairs(sessions) do
		n = n + 1
		if s.ctx.uid then
			players = players + 1
		end
	end
	return n, players
end

-- Close connections silent for idle_timeout (kick reason 4).
local function sweep()
	while true do
		skynet.sleep(100)
		local now = skynet.now()
		for _, s in pairs(sessions) do
			if not s.closing and now - s.last > IDLE then
				log(s, "idle for %d s", (now - s.last) // 100)
				kick(s, 4, "idle")
			end
		end
	end
end

return function()
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
