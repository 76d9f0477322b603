-- After test_play.lua and a restart of the game node: the same devices get the same players,
-- with the gold the settlement left them (kernel/tests/game.rs runs the two in order).

local skynet = require "skynet"
local T = require "testing"
local gc = require "gameclient"

T.case("players and their gold survive a node restart", function()
	local f = assert(io.open(skynet.getenv "game_dir" .. "/golds.txt"))
	local n = 0
	for line in f:lines() do
		local device, uid, gold = line:match "^(%S+) (%d+) (%-?%d+)$"
		local c = gc.connect(skynet.getenv "game_host", tonumber(skynet.getenv "game_port"))
		local r = c:visitor(device)
		T.eq(r.code, 0)
		T.eq(r.uid, tonumber(uid), "same player for " .. device)
		T.eq(r.player.gold, tonumber(gold), "gold of " .. device)
		c:close()
		n = n + 1
	end
	f:close()
	T.eq(n, 2)
end)

T.start()
