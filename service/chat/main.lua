-- chat: five scopes (seed 004's chatserver): 1 hall, 2 game kind, 3 game node, 4 room kind,
-- 5 desk. Members of each scope are the online store's sets (lualib/game/online.lua), kept by
-- login and room; a message goes to every gate node, which delivers it to the members it
-- holds. Per-player rate limit (a token bucket), 256 characters, last 50 per scope kept.

local skynet = require "skynet"
local role = require "game.role"
local errors = require "game.errors"
local conf = require "game.conf"
local online = require "game.online"
local push = require "game.push"
local metrics = require "cirrus.metrics"

local C = role.new "chat"

local MAX_CHARS = conf.number("chat_max_chars", 256)
local BURST = conf.number("chat_burst", 5)
local INTERVAL = conf.number("chat_interval", 1) * 100 -- centiseconds per token
local HISTORY = 50

local buckets = {} -- uid -> { tokens, at }

-- /metrics: messages sent, per scope (docs/OPS.md)
local SCOPES = { "hall", "game", "node", "room", "desk" }
local m_messages = {}
for i, name in ipairs(SCOPES) do
	m_messages[i] = metrics.counter("cirrus_game_chat_messages_total", "Chat messages delivered, per scope.",
		{ scope = name })
end

local function allow(uid)
	local now = skynet.now()
	local b = buckets[uid]
	if not b then
		b = { tokens = BURST, at = now }
		buckets[uid] = b
	end
	b.tokens = math.min(BURST, b.tokens + (now - b.at) / INTERVAL)
	b.at = now
	if b.tokens < 1 then
		return false
	end
	b.tokens = b.tokens - 1
	return true
end

-- The store key and the target number of a scope for this player, or nil, code.
local function scope_of(ctx, scope, target)
	target = target or 0
	if math.type(scope) ~= "integer" or scope < 1 or scope > 5 then
		return nil, errors.BAD_SCOPE
	end
	if scope == 1 then
		return online.scope(1), 0
	end
	local room = ctx.room
	if not room then
		return nil, errors.NOT_IN_SCOPE
	end
	if scope == 2 then
		return online.scope(2, room.game), room.game
	elseif scope == 3 then
		return online.scope(3, room.sid), room.sid
	elseif scope == 4 then
		if target ~= 0 and target ~= room.id then
			return nil, errors.NOT_IN_SCOPE
		end
		return online.scope(4, room.id), room.id
	end
	local desk = ctx.desk
	if not desk or (target ~= 0 and target ~= desk) then
		return nil, errors.NOT_IN_SCOPE
	end
	return online.scope(5, room.sid, room.id, desk), desk
end

function C.client.chat(ctx, args)
	local text = args.text
	if type(text) ~= "string" or text == "" then
		return errors.CHAT_EMPTY
	end
	local chars = utf8.len(text)
	if not chars then
		return errors.BAD_REQUEST
	end
	if chars > MAX_CHARS then
		return errors.CHAT_TOO_LONG
	end
	local key, target = scope_of(ctx, args.scope, args.target)
	if not key then
		return target
	end
	if not allow(ctx.uid) then
		return errors.CHAT_TOO_FAST
	end
	local msg = {
		scope = args.scope,
		target = target,
		from_uid = ctx.uid,
		from_name = ctx.nickname or "",
		text = text,
		time = math.floor(skynet.time() * 1000),
	}
	local S = online.store()
	local members = S:smembers(key)
	push.deliver(members, "chat_message", msg)
	m_messages[args.scope]:inc()
	local hkey = "chat_history:" .. key
	S:rpush(hkey, skynet.packstring(msg))
	S:ltrim(hkey, -HISTORY, -1)
	return {}
end

function C.client.chat_history(ctx, args)
	local key, code = scope_of(ctx, args.scope, args.target)
	if not key then
		return code
	end
	local out = {}
	for i, packed in ipairs(online.store():lrange("chat_history:" .. key, 0, -1)) do
		out[i] = skynet.unpack(packed)
	end
	return { messages = out }
end

role.start(C, function()
	-- forget rate buckets of players who went quiet
	skynet.fork(function()
		while true do
			skynet.sleep(6000)
			local now = skynet.now()
			for uid, b in pairs(buckets) do
				if now - b.at > BURST * INTERVAL then
					buckets[uid] = nil
				end
			end
		end
	end)
end)
