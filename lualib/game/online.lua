-- Online state of players in the online store (in-process or Redis), under the design notes'
-- key names:
--   player_online:<uid>   hash: session, gate, watchdog, fd, ip, inc, token, state, offline,
--                         node, room_addr, room_id, server, desk, nickname, login_time
--   player_inc:<uid>      the player's incarnation counter (never deleted: it fences sessions)
--   online_players        set of online uids (the login queue counts it)
--   chat scopes (members are uids): fd_hall, fd_game:<game>, fd_server:<server id>,
--   fd_roomtype:<room id>, fd_roomaddr:<server id>@<room id>.<desk id>
-- States: 1 in the hall, 2 in a room, 3 at a desk.

local store = require "store"

local online = {}

online.HALL, online.ROOM, online.DESK = 1, 2, 3

local S

function online.store()
	if not S then
		S = store.open()
	end
	return S
end

local INTEGER = {
	watchdog = true, fd = true, inc = true, state = true, offline = true, room_addr = true,
	room_id = true, server = true, desk = true, login_time = true, game = true, seq = true,
}

function online.key(uid)
	return "player_online:" .. uid
end

-- The record of an online player, numbers as numbers; nil when not online.
function online.get(uid)
	local t = online.store():hgetall(online.key(uid))
	if next(t) == nil then
		return nil
	end
	for k, v in pairs(t) do
		if INTEGER[k] then
			t[k] = math.tointeger(tonumber(v)) or tonumber(v)
		end
	end
	return t
end

function online.set(uid, fields)
	return online.store():hset(online.key(uid), fields)
end

function online.unset(uid, ...)
	return online.store():hdel(online.key(uid), ...)
end

function online.scope(scope, a, b, c)
	if scope == 1 then
		return "fd_hall"
	elseif scope == 2 then
		return "fd_game:" .. a
	elseif scope == 3 then
		return "fd_server:" .. a
	elseif scope == 4 then
		return "fd_roomtype:" .. a
	elseif scope == 5 then
		return string.format("fd_roomaddr:%s@%s.%s", a, b, c)
	end
	error("bad chat scope " .. tostring(scope))
end

function online.count()
	return online.store():scard("online_players")
end

return online
