-- All-in-one node, end to end over TCP: four players at one desk play a round to the end;
-- the settlement is recomputed here from what the desk showed and must match game_end; the
-- gold is what player_info (SQL) says afterwards. Device ids come from $CIRRUS_RUN so the
-- Rust harness can check persistence after a restart (test_persist.lua).

local skynet = require "skynet"
local T = require "testing"
local gc = require "gameclient"
local bull = require "game.bull"

local HOST = skynet.getenv "game_host"
local PORT = tonumber(skynet.getenv "game_port")
local RUN = skynet.getenv "game_run" or tostring(os.time())

local function join(n, prefix, room)
	local cs = {}
	for i = 1, n do
		local c = gc.connect(HOST, PORT)
		local r = c:visitor(prefix .. i)
		T.eq(r.code, 0, "visitor_login")
		c.uid = r.uid
		c.gold = r.player.gold
		T.eq(c:call("room_enter", { room_id = room or 1 }).code, 0, "room_enter")
		cs[i] = c
	end
	-- everyone at the first player's desk
	local first = cs[1]:call("desk_join", { desk_id = 0 })
	T.eq(first.code, 0, "desk_join")
	cs[1].seat, cs[1].desk = first.seat, first.desk_id
	for i = 2, n do
		local j = cs[i]:call("desk_join", { desk_id = first.desk_id })
		T.eq(j.code, 0, "desk_join " .. i)
		cs[i].seat, cs[i].desk = j.seat, j.desk_id
	end
	return cs
end

T.case("four players play a round; settlement matches the rules and is stored", function()
	local cs = join(4, "play-" .. RUN .. "-")
	local before = {}
	for _, c in ipairs(cs) do
		before[c.uid] = cs[1]:call("player_info", { uid = c.uid }).player.gold
	end
	for _, c in ipairs(cs) do
		T.eq(c:call("desk_ready", { ready = true }).code, 0, "ready")
	end
	local round
	for _, c in ipairs(cs) do
		local gs = T.ok(c:wait("game_start"), "game_start")
		T.eq(#gs.hand, 4, "four cards shown")
		round = gs.round
	end
	-- phase 1: everyone bids (some different bids)
	for i, c in ipairs(cs) do
		T.ok(c:wait("desk_phase", function(b) return b.phase == 1 end), "bid phase")
		T.eq(c:call("bid_banker", { times = (i == 2) and 3 or 1 }).code, 0, "bid")
	end
	-- phase 2: the highest bid is the banker
	local banker
	for _, c in ipairs(cs) do
		local ph = T.ok(c:wait("desk_phase", function(b) return b.phase == 2 end), "bet phase")
		banker = ph.banker
		T.eq(ph.banker_times, 3)
	end
	T.eq(banker, cs[2].seat, "the highest bidder banks")
	for i, c in ipairs(cs) do
		local code = c:call("bet", { times = i }).code
		c.bet = c.seat == banker and 0 or i
		if c.seat == banker then
			T.eq(code, 37, "the banker does not bet")
		else
			T.eq(code, 0, "bet")
		end
	end
	-- phase 3: fifth card, open
	local hands = {}
	for _, c in ipairs(cs) do
		local d = T.ok(c:wait("deal_card"), "deal_card")
		T.eq(#d.hand, 5)
		T.eq(d.hand_type, bull.evaluate(d.hand), "hand type")
		T.eq(d.card, d.hand[5])
		hands[c.seat] = d.hand
		local o = c:call("open_cards", {})
		T.eq(o.code, 0, "open")
		T.eq(o.hand_type, d.hand_type)
	end
	local e = T.ok(cs[1]:wait("game_end"), "game_end")
	T.eq(e.round, round)
	T.eq(e.banker, banker)
	T.ok(not e.void, "settled")
	-- recompute
	local input = {}
	for _, c in ipairs(cs) do
		input[#input + 1] = {
			seat = c.seat, uid = c.uid, gold = before[c.uid], hand = hands[c.seat],
			hand_type = bull.evaluate(hands[c.seat]),
			bet = c.bet,
			banker = c.seat == banker or nil,
		}
	end
	local expect = {}
	for _, r in ipairs(bull.settle(input, 1, 3, 5)) do
		expect[r.uid] = r
	end
	local sum = 0
	for _, r in ipairs(e.results) do
		local x = expect[r.uid]
		T.eq(r.score, x.score, "score of " .. r.uid)
		T.eq(r.fee, x.fee, "fee of " .. r.uid)
		T.eq(r.gold_delta, x.gold_delta, "delta of " .. r.uid)
		T.eq(r.gold, before[r.uid] + x.gold_delta, "gold of " .. r.uid)
		T.same(r.hand, hands[r.seat])
		sum = sum + r.score
	end
	T.eq(sum, 0, "scores sum to zero")
	-- stored
	for _, r in ipairs(e.results) do
		T.eq(cs[1]:call("player_info", { uid = r.uid }).player.gold, r.gold, "stored gold of " .. r.uid)
	end
	-- for test_persist.lua, after the harness restarts the node (players 3 and 4 do not play
	-- the next round below)
	local f = assert(io.open(skynet.getenv "game_dir" .. "/golds.txt", "w"))
	for i = 3, 4 do
		local c = cs[i]
		for _, r in ipairs(e.results) do
			if r.uid == c.uid then
				f:write(string.format("play-%s-%d %d %d\n", RUN, i, r.uid, r.gold))
			end
		end
	end
	f:close()
	-- everyone saw the same end, with unbroken sequence numbers
	for i = 2, 4 do
		T.ok(cs[i]:wait("game_end"), "game_end " .. i)
	end
	for _, c in ipairs(cs) do
		T.eq(c.ud_errors, 0, "ud continuity")
	end
	-- ready for the next round is taken during the settle countdown; the fourth player leaves
	-- (pending until the round is over) and is told when the desk freed the seat
	for i = 1, 2 do
		T.eq(cs[i]:call("desk_ready", { ready = true }).code, 0, "ready during settle " .. i)
	end
	local lv = cs[4]:call("desk_leave", {})
	T.eq(lv.code, 0, "desk_leave")
	T.eq(lv.pending, true, "leaving after game_end waits for the round's end")
	local st = T.ok(cs[4]:wait("seat_state", function(b) return b.stood end), "stood seat_state")
	for _, s in ipairs(st.seats) do
		T.ok(s.uid ~= cs[4].uid, "the seat is free")
	end
	-- the two ready players start the next round (after the ready countdown: the third is not
	-- ready); the third sits it out
	for i = 1, 3 do
		local gs = T.ok(cs[i]:wait("game_start", function(b) return b.round == round + 1 end), "round 2 " .. i)
		T.eq(#gs.hand, i < 3 and 4 or 0)
	end
	T.eq(cs[4]:call("room_leave", {}).code, 0, "room_leave once stood")
	for _, c in ipairs(cs) do
		T.eq(c.ud_errors, 0, "ud continuity")
		c:call("logout", {})
		c:close()
	end
end)

T.case("timeouts play for absent players: bid 0, bet 1, cards opened", function()
	local cs = join(2, "idle-" .. RUN .. "-")
	for _, c in ipairs(cs) do
		T.eq(c:call("desk_ready", { ready = true }).code, 0)
	end
	-- nobody acts: the countdowns decide everything
	local e = T.ok(cs[1]:wait("game_end", nil, 30), "the round ends on its own")
	local actions = {}
	for _, p in ipairs(cs[1].pushes) do
		if p.name == "desk_action" then
			actions[#actions + 1] = p.body
		end
	end
	local bids, bets = 0, 0
	for _, a in ipairs(actions) do
		T.ok(a.auto, "automatic move")
		if a.action == 1 then
			T.eq(a.times, 0)
			bids = bids + 1
		else
			T.eq(a.times, 1)
			bets = bets + 1
		end
	end
	T.eq(bids, 2)
	T.eq(bets, 1)
	T.eq(#e.results, 2)
	-- nobody is ready at the round's end: the desk says it waits
	T.ok(cs[1]:wait("desk_phase", function(b) return b.phase == 0 and b.round == e.round end, 10), "phase 0")
	for _, c in ipairs(cs) do
		c:close()
	end
end)

T.start()
