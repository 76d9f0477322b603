-- Code changes on a live game node through the console (kernel/tests/game.rs): `inject` runs a
-- file inside the room; `hotfix` replaces the desk logic of a room whose desks are in use —
-- players stay seated, a round in progress finishes on the new code, and a broken patch is
-- refused with the error while the previous code keeps running.

local skynet = require "skynet"
local T = require "testing"
local gc = require "gameclient"
local console = require "console"

local HOST = skynet.getenv "game_host"
local PORT = tonumber(skynet.getenv "game_port")
local CONSOLE = skynet.getenv "game_console"
local DIR = skynet.getenv "game_dir"
local RUN = skynet.getenv "game_run" or tostring(os.time())

local function read(path)
	local f = assert(io.open(path, "rb"))
	local s = f:read "a"
	f:close()
	return s
end

local function write(name, text)
	local path = DIR .. "/" .. name
	local f = assert(io.open(path, "wb"))
	f:write(text)
	f:close()
	return path
end

-- desk.lua with Desk:info reporting room_id + `plus`: a change players can see.
local DESK = read "service/room/desk.lua"
local function desk_version(plus)
	local src, n = DESK:gsub("room_id = self%.room%.id,", "room_id = self.room.id + " .. plus .. ",")
	assert(n == 1, "desk.lua changed: the test's patch no longer applies")
	return src
end

local players
local room

local function seat_two()
	local cs = {}
	for i = 1, 2 do
		local c = gc.connect(HOST, PORT)
		local r = c:visitor("hotfix-" .. RUN .. "-" .. i)
		T.eq(r.code, 0, "visitor_login")
		T.eq(c:call("room_enter", { room_id = 1 }).code, 0, "room_enter")
		cs[i] = c
	end
	local first = cs[1]:call("desk_join", { desk_id = 0 })
	T.eq(first.code, 0, "desk_join")
	local second = cs[2]:call("desk_join", { desk_id = first.desk_id })
	T.eq(second.code, 0, "desk_join 2")
	cs[1].seat, cs[2].seat = first.seat, second.seat
	cs[1].desk, cs[2].desk = first.desk_id, first.desk_id
	return cs
end

T.case("inject runs a file inside the room with _P, print and arguments", function()
	players = seat_two()
	room = console.find(CONSOLE, "snlua room 1 1")
	local path = write("probe.lua", [[
local a, b = ...
print("args", a, b)
print("role", _P.lua.R.name)
local desk = require "desk"
print("desk module", type(desk.new))
]])
	local ok, text = console.run(CONSOLE, "inject " .. room .. " " .. path .. " x 42")
	T.ok(ok, text)
	T.ok(text:find("args\tx\t42", 1, true), text)
	T.ok(text:find("role\troom", 1, true), text)
	T.ok(text:find("desk module\tfunction", 1, true), text)
	-- an error inside the injected code comes back to the console
	path = write("boom.lua", "error('inject boom')\n")
	ok, text = console.run(CONSOLE, "inject " .. room .. " " .. path)
	T.ok(not ok, "inject of a raising file succeeded")
	T.ok(text:find("inject boom", 1, true), text)
end)

T.case("hotfix replaces the desk logic of seated players' desk", function()
	local c = players[1]
	local before = c:call("desk_info", {})
	T.eq(before.code, 0, "desk_info")
	T.eq(before.room_id, 1)
	local path = write("desk_v2.lua", desk_version(1000))
	local ok, text = console.run(CONSOLE, "hotfix " .. room .. " " .. path .. " desk")
	T.ok(ok, text)
	T.ok(text:find("hotfix desk from", 1, true), text)
	for _, p in ipairs(players) do
		local after = p:call("desk_info", {})
		T.eq(after.code, 0, "desk_info after")
		T.eq(after.room_id, 1001, "the live desk runs the new Desk:info")
		T.eq(after.desk_id, p.desk, "same desk")
		T.eq(after.seat, p.seat, "same seat")
		T.eq(after.round, before.round, "same round")
		local seated = 0
		for _, s in ipairs(after.seats) do
			if s.uid ~= 0 then
				seated = seated + 1
			end
		end
		T.eq(seated, 2, "both players still seated")
	end
end)

T.case("broken patches are refused and the previous code keeps running", function()
	local bad = {
		{ "desk_syntax.lua", "function Desk:info(p)\n\treturn {\n", "desk_syntax.lua:" },
		{ "desk_raise.lua", "error('desk patch raises at load')\n", "desk patch raises at load" },
		{ "desk_nomod.lua", "return 1\n", "not a module table" },
	}
	for _, b in ipairs(bad) do
		local path = write(b[1], b[2])
		local ok, text = console.run(CONSOLE, "hotfix " .. room .. " " .. path .. " desk")
		T.ok(not ok, "hotfix " .. b[1] .. " succeeded")
		T.ok(text:find(b[3], 1, true), b[1] .. ": " .. text)
		T.eq(players[1]:call("desk_info", {}).room_id, 1001, "v2 still runs after " .. b[1])
	end
	local ok, text = console.run(CONSOLE, "hotfix " .. room .. " " .. write("x.lua", "return {}") .. " no.such")
	T.ok(not ok and text:find("not loaded", 1, true), text)
	-- a file that is none of the service's files needs the module named
	ok, text = console.run(CONSOLE, "hotfix " .. room .. " " .. write("y.lua", "return {}"))
	T.ok(not ok and text:find("name the module", 1, true), text)
	-- the module found by its own path: an unchanged lualib module is a harmless hotfix
	ok, text = console.run(CONSOLE, "hotfix " .. room .. " lualib/game/errors.lua")
	T.ok(ok and text:find("hotfix game.errors", 1, true), text)
end)

T.case("a round in progress finishes on code hotfixed mid-round", function()
	for _, p in ipairs(players) do
		T.eq(p:call("desk_ready", { ready = true }).code, 0, "ready")
	end
	local gs
	for _, p in ipairs(players) do
		gs = T.ok(p:wait("game_start", nil, 10), "game_start")
	end
	local path = write("desk_v3.lua", desk_version(2000))
	local ok, text = console.run(CONSOLE, "hotfix " .. room .. " " .. path .. " desk")
	T.ok(ok, text)
	local info = players[1]:call("desk_info", {})
	T.eq(info.room_id, 2001, "v3 runs")
	T.eq(info.round, gs.round, "the round in progress is kept")
	T.ok(info.phase >= 1, "still mid-round")
	-- nobody acts: the desk's countdowns (set by the old code) play the defaults to the end
	local e = T.ok(players[1]:wait("game_end", nil, 20), "game_end")
	T.eq(e.round, gs.round)
	T.eq(#e.results, 2, "both players settled")
	-- and the desk goes on with the new code
	T.eq(players[2]:call("desk_info", {}).room_id, 2001)
end)

T.case("hotfix of the room's main file replaces a handler and keeps the room's players", function()
	local src = read("service/room/main.lua")
	local patched, n = src:gsub("return { sid = sid, room_id = room_id, players = count, desks = list }",
		"return { sid = sid, room_id = room_id, players = count, desks = list, patched = true }")
	assert(n == 1, "room/main.lua changed: the test's patch no longer applies")
	local path = write("room_main_v2.lua", patched)
	local ok, text = console.run(CONSOLE, "hotfix " .. room .. " " .. path .. " main")
	T.ok(ok, text)
	local probe = write("info.lua", [[
local skynet = require "skynet"
local info = skynet.call(skynet.self(), "lua", "info")
print("patched", info.patched, "players", info.players)
]])
	ok, text = console.run(CONSOLE, "inject " .. room .. " " .. probe)
	T.ok(ok, text)
	T.ok(text:find("patched\ttrue\tplayers\t2", 1, true), text)
	-- the room still serves its players
	T.eq(players[1]:call("desk_info", {}).code, 0)
	for _, p in ipairs(players) do
		p:close()
	end
end)
T.start()
