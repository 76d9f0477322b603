-- Graceful shutdown seen by players mid-game (kernel/tests/game.rs): two players start a
-- round at one desk, then the game node gets SIGTERM (its pid comes in game_extra). Each
-- client must get `kick { reason = 3, message = "maintenance" }` before the connection closes
-- (not a reset), and a new connection is refused.

local skynet = require "skynet"
local socket = require "skynet.socket"
local T = require "testing"
local gc = require "gameclient"

local HOST = skynet.getenv "game_host"
local PORT = tonumber(skynet.getenv "game_port")
local RUN = skynet.getenv "game_run" or tostring(os.time())
local extra = {}
for k, v in (skynet.getenv "game_extra" or ""):gmatch "([%w_]+)=([^,]*)" do
	extra[k] = v
end

T.case("SIGTERM mid-round: every player is kicked with reason 3 maintenance, then closed", function()
	local pid = T.ok(math.tointeger(tonumber(extra.pid)), "game node pid in game_extra")
	local cs = {}
	for i = 1, 2 do
		local c = gc.connect(HOST, PORT)
		T.eq(c:visitor("shutdown-" .. RUN .. "-" .. i).code, 0, "visitor_login")
		T.eq(c:call("room_enter", { room_id = 1 }).code, 0, "room_enter")
		cs[i] = c
	end
	local j = cs[1]:call("desk_join", { desk_id = 0 })
	T.eq(j.code, 0, "desk_join")
	T.eq(cs[2]:call("desk_join", { desk_id = j.desk_id }).code, 0, "desk_join 2")
	for _, c in ipairs(cs) do
		T.eq(c:call("desk_ready", { ready = true }).code, 0, "ready")
	end
	for _, c in ipairs(cs) do
		T.ok(c:wait("game_start"), "game_start: the round is on")
	end
	T.ok(os.execute("kill -TERM " .. pid), "kill -TERM")
	for i, c in ipairs(cs) do
		local k = T.ok(c:wait("kick", nil, 10), "kick push to player " .. i)
		T.eq(k.reason, 3, "kick reason")
		T.eq(k.message, "maintenance", "kick message")
		T.ok(c:wait_closed(10), "the server closes the connection after the kick")
	end
	-- the listener is closed: nobody new gets in
	local fd = socket.open(HOST, PORT)
	if fd then
		socket.close(fd)
	end
	T.eq(fd, nil, "new connections refused")
end)
T.start()
