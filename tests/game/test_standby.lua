-- The locator on a node whose room 1 holds five players (tests/game/rooms_small.lua) and
-- with one standby server (kernel/tests/game.rs): the sixth player gets a standby server,
-- which is stopped again once it has been empty for locator_idle seconds.

local skynet = require "skynet"
local T = require "testing"
local gc = require "gameclient"

local HOST = skynet.getenv "game_host"
local PORT = tonumber(skynet.getenv "game_port")
local RUN = skynet.getenv "game_run" or tostring(os.time())

local function room1(c)
	for _, r in ipairs(c:call("room_list", {}).rooms) do
		if r.id == 1 then
			return r
		end
	end
end

-- The game server a player is on: scope 3 messages carry the server id as target.
local function server_of(c, tag)
	T.eq(c:call("chat", { scope = 3, text = tag }).code, 0)
	local m = T.ok(c:wait("chat_message", function(b) return b.text == tag end, 3), "own message")
	return m.target
end

T.case("a full room starts a standby server; an idle one is stopped", function()
	local cs = {}
	for i = 1, 6 do
		local c = gc.connect(HOST, PORT)
		T.eq(c:visitor("sb-" .. RUN .. "-" .. i).code, 0)
		cs[i] = c
	end
	local r = room1(cs[1])
	T.eq(r.desks, 1, "one server, one desk")
	for i = 1, 5 do
		T.eq(cs[i]:call("room_enter", { room_id = 1 }).code, 0, "enter " .. i)
	end
	T.eq(room1(cs[1]).free_desks, 1, "entered, not seated yet")
	T.eq(cs[6]:call("room_enter", { room_id = 1 }).code, 0, "the sixth gets a place")
	T.eq(server_of(cs[1], "where-1"), 1)
	T.eq(server_of(cs[6], "where-6"), 2, "on the standby server")
	local list = room1(cs[1])
	T.eq(list.desks, 2, "two servers now")
	T.eq(list.players, 6)
	-- the standby server empties: after locator_idle it goes
	T.eq(cs[6]:call("room_leave", {}).code, 0)
	local deadline = skynet.now() + 1500
	while room1(cs[1]).desks ~= 1 and skynet.now() < deadline do
		skynet.sleep(20)
	end
	T.eq(room1(cs[1]).desks, 1, "the idle standby server stopped")
	-- and starts again when needed
	T.eq(cs[6]:call("room_enter", { room_id = 1 }).code, 0, "placed again")
	T.eq(server_of(cs[6], "where-6b"), 2)
	for _, c in ipairs(cs) do
		c:close()
	end
end)

T.start()
