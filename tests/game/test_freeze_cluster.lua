-- Freeze of a game node behind a gate node (kernel/tests/game.rs): three players start a
-- round through the gate and bid (the third banks); the first bets. The game node gets SIGHUP
-- (pid in game_extra) and exits; then the second player's bet and a desk_info are sent: the
-- gate holds them. The harness restores the game node; the held requests are answered in
-- order, the round completes, and no connection is closed or kicked on the way.

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

local function exists(path)
	local f = io.open(path)
	if f then
		f:close()
		return true
	end
end

local function wait_file(path, seconds)
	local deadline = skynet.now() + seconds * 100
	while not exists(path) do
		if skynet.now() > deadline then
			return false
		end
		skynet.sleep(5)
	end
	return true
end

T.case("a frozen game node's players wait at the gate and play on after the restore", function()
	local pid = T.ok(math.tointeger(tonumber(extra.game_pid)), "game node pid in game_extra")
	local cs = {}
	for i = 1, 3 do
		local c = gc.connect(HOST, PORT)
		local r = c:visitor("freezec-" .. RUN .. "-" .. i)
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
	local seen = { players = {} }
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
	seen.bets = { [tostring(cs[1].uid)] = 4, [tostring(cs[2].uid)] = 2 }
	local f = assert(io.open(DIR .. "/freeze.json", "w"))
	f:write(json.encode(seen))
	f:close()
	T.ok(os.execute("kill -HUP " .. pid), "kill -HUP")
	-- the harness says when the game node has exited
	T.ok(wait_file(DIR .. "/frozen", 20), "the game node froze")
	local s_bet = cs[2]:send("bet", { times = 2 })
	local s_info = cs[2]:send("desk_info", {})
	f = assert(io.open(DIR .. "/sent", "w"))
	f:close()
	-- held at the gate until the restored node is back, then answered in order
	local bet = T.ok(cs[2]:answer(s_bet, 30), "the held bet is answered")
	T.eq(bet.code, 0, "bet after the restore")
	local info = T.ok(cs[2]:answer(s_info, 30), "the held desk_info is answered")
	T.eq(info.code, 0, "desk_info after the restore")
	T.eq(info.round, seen.round, "the same round")
	T.ok(info.phase >= 2, "still in the round")
	for i, c in ipairs(cs) do
		local e = T.ok(c:wait("game_end", nil, 30), "game_end for player " .. i)
		T.eq(e.round, seen.round, "the frozen round ends")
		T.eq(e.void, false, "settled")
	end
	for i, c in ipairs(cs) do
		T.ok(not c.closed, "player " .. i .. " was never disconnected")
		T.eq(c:wait("kick", nil, 0), nil, "no kick")
	end
end)

T.start()
