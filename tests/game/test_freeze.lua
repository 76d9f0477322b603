-- Freeze of the all-in-one game node mid-bet (kernel/tests/game.rs): three players start a
-- round and bid (the third banks), the first bets, the second has not yet; then the node gets SIGHUP (its pid in game_extra). The gate is
-- in the frozen process, so the clients are kicked with reason 3; what they saw (hands,
-- banker, bet) goes to $game_dir/freeze.json for the harness, which restores the node and
-- checks that the round completes with these hands and settles correctly.

local skynet = require "skynet"
local T = require "testing"
local gc = require "gameclient"
local json = require "game.json"

local HOST = skynet.getenv "game_host"
local PORT = tonumber(skynet.getenv "game_port")
local RUN = skynet.getenv "game_run" or tostring(os.time())
local DIR = skynet.getenv "game_dir"
local extra = {}
for k, v in (skynet.getenv "game_extra" or ""):gmatch "([%w_]+)=([^,]*)" do
	extra[k] = v
end

T.case("SIGHUP mid-bet: the node freezes (players kicked with reason 3)", function()
	local pid = T.ok(math.tointeger(tonumber(extra.pid)), "game node pid in game_extra")
	local cs = {}
	for i = 1, 3 do
		local c = gc.connect(HOST, PORT)
		local r = c:visitor("freeze-" .. RUN .. "-" .. i)
		T.eq(r.code, 0, "visitor_login")
		c.uid = r.uid
		T.eq(c:call("room_enter", { room_id = 1 }).code, 0, "room_enter")
		cs[i] = c
	end
	local j = cs[1]:call("desk_join", { desk_id = 0 })
	T.eq(j.code, 0, "desk_join")
	cs[1].seat = j.seat
	for i = 2, 3 do
		local ji = cs[i]:call("desk_join", { desk_id = j.desk_id })
		T.eq(ji.code, 0, "desk_join " .. i)
		cs[i].seat = ji.seat
	end
	for _, c in ipairs(cs) do
		T.eq(c:call("desk_ready", { ready = true }).code, 0, "ready")
	end
	local seen = { desk = j.desk_id, players = {} }
	for _, c in ipairs(cs) do
		local gs = T.ok(c:wait("game_start"), "game_start")
		seen.round = gs.round
		seen.players[#seen.players + 1] = { uid = c.uid, seat = c.seat, hand = gs.hand }
	end
	for i, c in ipairs(cs) do
		T.ok(c:wait("desk_phase", function(b) return b.phase == 1 end), "bid phase")
		T.eq(c:call("bid_banker", { times = i == 3 and 3 or 1 }).code, 0, "bid")
	end
	local ph = T.ok(cs[1]:wait("desk_phase", function(b) return b.phase == 2 end), "bet phase")
	seen.banker = ph.banker
	T.eq(ph.banker, cs[3].seat, "the highest bid banks")
	T.eq(cs[1]:call("bet", { times = 4 }).code, 0, "bet")
	-- player 2 has not bet: the desk is mid-bet
	seen.bettor, seen.bet, seen.late = cs[1].uid, 4, cs[2].uid
	local f = assert(io.open(DIR .. "/freeze.json", "w"))
	f:write(json.encode(seen))
	f:close()
	T.ok(os.execute("kill -HUP " .. pid), "kill -HUP")
	for i, c in ipairs(cs) do
		local k = T.ok(c:wait("kick", nil, 10), "kick push to player " .. i)
		T.eq(k.reason, 3, "kick reason")
		T.ok(c:wait_closed(10), "closed after the kick")
	end
end)

T.start()
