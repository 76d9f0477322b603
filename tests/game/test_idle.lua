-- idle_timeout = 1 (kernel/tests/game.rs): a silent connection is kicked with reason 4 and
-- closed; one that sends heartbeats stays.

local skynet = require "skynet"
local T = require "testing"
local gc = require "gameclient"

local HOST = skynet.getenv "game_host"
local PORT = tonumber(skynet.getenv "game_port")

T.case("silent connections are closed, heartbeats keep one open", function()
	local quiet, alive = gc.connect(HOST, PORT), gc.connect(HOST, PORT)
	T.eq(quiet:visitor("idle-q-" .. os.time()).code, 0)
	T.eq(alive:visitor("idle-a-" .. os.time()).code, 0)
	for _ = 1, 6 do
		skynet.sleep(50)
		local hb = alive:call("heartbeat", { client_time = math.floor(skynet.time() * 1000) })
		T.eq(hb.code, 0)
		T.ok(hb.server_time > 0)
	end
	local kick = T.ok(quiet:wait("kick", nil, 1), "kicked")
	T.eq(kick.reason, 4)
	T.ok(quiet:wait_closed(3), "closed")
	T.ok(not alive.closed, "the heartbeating one stays")
	alive:close()
end)

T.start()
