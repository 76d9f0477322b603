-- Bull poker rules (lualib/game/bull.lua): hand types, multipliers, comparison, settlement.

local T = require "testing"
local bull = require "game.bull"

-- card(rank name, suit): "A", "2".."10", "J", "Q", "K"; suit 0 diamonds .. 3 spades
local RANK = { A = 0, J = 10, Q = 11, K = 12 }
local function card(r, suit)
	local rank = RANK[r] or (tonumber(r) - 1)
	return rank * 4 + (suit or 0)
end
local function hand(...)
	local h = {}
	for i, s in ipairs { ... } do
		local r, suit = s:match "^([^:]+):?(%d?)$"
		h[i] = card(r, tonumber(suit) or (i - 1) % 4)
	end
	return h
end

T.case("hand types", function()
	T.eq(bull.evaluate(hand("J", "Q", "K", "K", "J")), 12, "five-face")
	T.eq(bull.evaluate(hand("10", "J", "Q", "K", "K")), 11, "four-face")
	T.eq(bull.evaluate(hand("10", "K", "5", "3", "2")), 10, "bull-bull")
	T.eq(bull.evaluate(hand("A", "9", "K", "3", "4")), 7, "bull 7")
	T.eq(bull.evaluate(hand("A", "2", "4", "6", "K")), 3, "bull 3 (4+6+K)")
	T.eq(bull.evaluate(hand("A", "A", "A", "2", "4")), 0, "no bull")
	T.eq(bull.evaluate(hand("10", "10", "J", "Q", "K")), 10, "two tens: bull-bull, not four-face")
end)

T.case("multipliers", function()
	local want = { [0] = 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 3, 4, 5 }
	for t = 0, 12 do
		T.eq(bull.multiplier(t), want[t], "type " .. t)
	end
end)

T.case("comparison: type, then highest card by rank then suit", function()
	local a, b = hand("K:3", "5", "3", "2", "A"), hand("K:2", "5", "3", "2", "A")
	T.eq(bull.evaluate(a), bull.evaluate(b))
	T.ok(bull.beats(a, bull.evaluate(a), b, bull.evaluate(b)), "king of spades beats king of hearts")
	T.ok(not bull.beats(b, bull.evaluate(b), a, bull.evaluate(a)))
	local bb, b9 = hand("10", "K", "5", "3", "2"), hand("A", "9", "K", "4", "5")
	T.ok(bull.beats(bb, 10, b9, bull.evaluate(b9)), "bull-bull beats bull 9")
end)

T.case("deck: 52 distinct cards", function()
	local d, seen = bull.deck(), {}
	T.eq(#d, 52)
	for _, c in ipairs(d) do
		T.ok(c >= 0 and c < 52 and not seen[c])
		seen[c] = true
	end
end)

local function p(seat, gold, h, bet, banker)
	return { seat = seat, uid = 100 + seat, gold = gold, hand = h, hand_type = bull.evaluate(h), bet = bet, banker = banker }
end

T.case("settlement against the banker, with the fee", function()
	local banker = p(0, 1000, hand("A", "9", "K", "3", "4"), 0, true) -- bull 7 (x2)
	local winner = p(1, 1000, hand("10", "K", "5", "3", "2"), 2) -- bull-bull (x3)
	local loser = p(2, 1000, hand("A", "A", "A", "2", "4"), 3) -- no bull
	local r = bull.settle({ banker, winner, loser }, 10, 2, 5)
	-- winner: 10 x 2 x 2 x 3 = 120; loser pays 10 x 2 x 3 x 2 (banker's bull 7) = 120
	T.eq(r[2].score, 120)
	T.eq(r[2].fee, 6)
	T.eq(r[2].gold_delta, 114)
	T.eq(r[3].score, -120)
	T.eq(r[3].fee, 0)
	T.eq(r[1].score, 0, "banker: +120 - 120")
	T.eq(r[1].score + r[2].score + r[3].score, 0)
end)

T.case("a loser pays at most their gold; a poor banker pays in proportion", function()
	local banker = p(0, 50, hand("A", "A", "A", "2", "4"), 0, true) -- no bull
	local w1 = p(1, 1000, hand("10", "K", "5", "3", "2"), 5) -- x3: claims 1x1x5x3 = 15 ... scaled below
	local w2 = p(2, 1000, hand("J", "Q", "K", "K", "J"), 5) -- x5: claims 25
	local r = bull.settle({ banker, w1, w2 }, 2, 4, 5)
	-- claims: 2x4x5x3 = 120 and 2x4x5x5 = 200; the banker has 50: 120*50//320 = 18, 200*50//320 = 31
	T.eq(r[2].score, 18)
	T.eq(r[3].score, 31)
	T.eq(r[1].score, -49)
	T.eq(r[1].score + r[2].score + r[3].score, 0)
	local rich = p(0, 10000, hand("J", "Q", "K", "K", "J"), 0, true)
	local poor = p(1, 7, hand("A", "A", "A", "2", "4"), 5)
	local r2 = bull.settle({ rich, poor }, 10, 4, 5)
	T.eq(r2[2].score, -7, "capped at the loser's gold")
	T.eq(r2[1].score, 7)
	T.eq(r2[1].fee, 0, "5% of 7 rounds down to 0")
end)

T.start()
