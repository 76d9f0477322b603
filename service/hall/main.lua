-- hall: the player's profile, the room list with live counts, and entry to rooms (seed 004's
-- hallserver). room_enter asks the locator for the game node and room instance to use and
-- then enters it; the session is bound to that room from then on (routes.lua `bound`).

local role = require "game.role"
local errors = require "game.errors"
local conf = require "game.conf"
local node = require "game.node"
local online = require "game.online"
local dbhelper = require "dbhelper"

local H = role.new "hall"

local PLACE_TRIES = 3

local function load_player(uid)
	return dbhelper.call("player", "load", uid)
end

function H.client.player_info(ctx, args)
	local uid = args.uid
	if uid == nil or uid == 0 then
		uid = ctx.uid
	end
	if math.type(uid) ~= "integer" or uid < 0 then
		return errors.BAD_REQUEST
	end
	local p = load_player(uid)
	if not p then
		return errors.BAD_REQUEST
	end
	return {
		player = {
			uid = p.id,
			nickname = p.nickname,
			avatar = p.head_url,
			gold = p.gold,
			online = online.store():sismember("online_players", p.id),
		},
	}
end

function H.client.room_list(_, args)
	local game = args.game or 0
	local ok, rooms = pcall(node.call, "locator", nil, "rooms", game)
	if not ok then
		role.log(nil, "room_list: %s", rooms)
		return errors.UNAVAILABLE
	end
	return { rooms = rooms }
end

function H.client.room_enter(ctx, args)
	if ctx.room then
		return errors.IN_ROOM
	end
	local room_id = args.room_id
	local room = math.type(room_id) == "integer" and conf.room(room_id)
	if not room then
		return errors.UNKNOWN_ROOM
	end
	local p = load_player(ctx.uid)
	if not p then
		return errors.INTERNAL
	end
	if p.gold < room.min_gold then
		return errors.LOW_GOLD
	end
	local exclude = {}
	for _ = 1, PLACE_TRIES do
		local ok, place, code = pcall(node.call, "locator", nil, "place", room_id, exclude)
		if not ok then
			role.log(ctx, "room_enter: locator: %s", place)
			return errors.UNAVAILABLE
		end
		if not place then
			return code
		end
		local entered, result = pcall(node.call_at, place.node, place.addr, "enter", ctx, p)
		if entered and result == errors.OK then
			role.log(ctx, "entered room %d on server %d", room_id, place.sid)
			local bound = { node = place.node, addr = place.addr, id = room_id, sid = place.sid, game = room.game }
			return { room = place.info }, { room = bound, desk = false }
		end
		if entered and result ~= errors.ROOM_FULL then
			return result
		end
		-- full meanwhile, or its node just went away: try the next best
		exclude[#exclude + 1] = place.key
	end
	return errors.ROOM_FULL
end

role.start(H)
