-- Game settings from the node config, with defaults, and the room table (config `rooms_file`,
-- default config/rooms.lua: a Lua file returning { [room_id] = { name, base_score, ... } }).

local skynet = require "skynet"

local conf = {}

function conf.number(key, default)
	local v = skynet.getenv(key)
	if v == nil or v == "" then
		return default
	end
	local n = tonumber(v)
	if not n then
		error(string.format("config key `%s`: expected a number, got %q", key, v), 0)
	end
	return n
end

function conf.string(key, default)
	local v = skynet.getenv(key)
	if v == nil or v == "" then
		return default
	end
	return v
end

-- A comma list as an array of strings.
function conf.list(key, default)
	local out = {}
	for item in string.gmatch(conf.string(key, default or ""), "[^,%s]+") do
		out[#out + 1] = item
	end
	return out
end

local ROOM_DEFAULTS = {
	game = 1,
	base_score = 1,
	min_gold = 0,
	desks = 20,
	fee_percent = 5,
	seconds = { ready = 3, bid = 5, bet = 5, open = 5, settle = 2 },
}

local rooms

-- room_id -> room settings, defaults filled in (checked once per service).
function conf.rooms()
	if rooms then
		return rooms
	end
	local path = conf.string("rooms_file", (skynet.getenv "root" or "./") .. "config/rooms.lua")
	local chunk, err = loadfile(path, "t", {})
	if not chunk then
		error("rooms_file: " .. tostring(err), 0)
	end
	local t = chunk()
	if type(t) ~= "table" then
		error("rooms_file " .. path .. ": must return a table of rooms", 0)
	end
	rooms = {}
	for id, r in pairs(t) do
		if math.type(id) ~= "integer" or type(r) ~= "table" or type(r.name) ~= "string" then
			error(string.format("rooms_file %s: room %s needs an integer id and a name", path, tostring(id)), 0)
		end
		local room = { id = id }
		for k, v in pairs(ROOM_DEFAULTS) do
			room[k] = v
		end
		for k, v in pairs(r) do
			room[k] = v
		end
		local s = {}
		for k, v in pairs(ROOM_DEFAULTS.seconds) do
			s[k] = (r.seconds or {})[k] or v
		end
		room.seconds = s
		if room.desks < 1 or room.base_score < 1 or room.min_gold < 0 then
			error(string.format("rooms_file %s: room %d: desks and base_score must be >= 1", path, id), 0)
		end
		rooms[id] = room
	end
	return rooms
end

function conf.room(id)
	return conf.rooms()[id]
end

return conf
