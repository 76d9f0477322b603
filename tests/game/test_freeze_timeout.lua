-- A frozen game node that never comes back (kernel/tests/game.rs): the gate holds the room
-- requests for its freeze_timeout (2 s here), then answers GAME_DOWN and the player is back in
-- the hall; past freeze_buffer (2 here, one worker) a request is answered BUSY at once.

local skynet = require "skynet"
local T = require "testing"
local gc = require "gameclient"

local HOST = skynet.getenv "game_host"
local PORT = tonumber(skynet.getenv "game_port")
local RUN = skynet.getenv "game_run" or tostring(os.time())
local DIR = skynet.getenv "game_dir"
local extra = {}
for k, v in (skynet.getenv "game_extra" or ""):gmatch "([%w_]+)=([^,]*)" do
	extra[k] = v
end

local function wait_file(path, seconds)
	local deadline = skynet.now() + seconds * 100
	while true do
		local f = io.open(path)
		if f then
			f:close()
			return true
		end
		if skynet.now() > deadline then
			return false
		end
		skynet.sleep(5)
	end
end

T.case("held past freeze_timeout: GAME_DOWN, back to the hall; past freeze_buffer: BUSY", function()
	local pid = T.ok(math.tointeger(tonumber(extra.game_pid)), "game node pid in game_extra")
	local cs = {}
	for i = 1, 3 do
		local c = gc.connect(HOST, PORT)
		T.eq(c:visitor("freezeto-" .. RUN .. "-" .. i).code, 0, "visitor_login")
		T.eq(c:call("room_enter", { room_id = 1 }).code, 0, "room_enter")
		T.eq(c:call("desk_join", { desk_id = 0 }).code, 0, "desk_join")
		cs[i] = c
	end
	T.ok(os.execute("kill -HUP " .. pid), "kill -HUP")
	T.ok(wait_file(DIR .. "/frozen", 20), "the game node froze")
	local t0 = skynet.now()
	local s1 = cs[1]:send("desk_info", {})
	local s2 = cs[2]:send("desk_info", {})
	skynet.sleep(20) -- both are held now: the buffer (2) is full
	local busy = T.ok(cs[3]:call("desk_info", {}, 5), "answered at once")
	T.eq(busy.code, 7, "BUSY past freeze_buffer")
	T.ok(skynet.now() - t0 < 150, "the overflow is not held")
	for i, s in ipairs { s1, s2 } do
		local r = T.ok(cs[i]:answer(s, 10), "held request answered")
		T.eq(r.code, 8, "GAME_DOWN after freeze_timeout")
	end
	T.ok(skynet.now() - t0 >= 150, "held for freeze_timeout")
	-- back in the hall: room requests say so, hall requests work
	T.eq(cs[1]:call("desk_info", {}).code, 21, "NOT_IN_ROOM")
	T.eq(cs[1]:call("player_info", {}).code, 0, "the hall answers")
	for i, c in ipairs(cs) do
		T.ok(not c.closed, "player " .. i .. " still connected")
	end
end)

T.start()
