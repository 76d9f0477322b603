-- Bull poker (抢庄牛牛) rules: cards, hands, comparison and settlement. Pure functions, no
-- services: lualib/game/bull_test.lua-style unit tests run them directly.
--
-- A card is rank * 4 + suit: rank 0 = A, 1 = 2, ..., 9 = 10, 10 = J, 11 = Q, 12 = K; suit 0
-- diamonds, 1 clubs, 2 hearts, 3 spades. So a larger card number is a higher card (rank,
-- then suit), which is how equal hands are compared.

local bull = {}

bull.NO_BULL = 0
bull.BULL_BULL = 10
bull.FOUR_FACE = 11
bull.FIVE_FACE = 12

function bull.rank(card)
	return card // 4
end

function bull.suit(card)
	return card % 4
end

-- Points for making tens: A = 1, 2..10 face value, J Q K = 10.
function bull.points(card)
	local r = card // 4 + 1
	return r > 10 and 10 or r
end

-- A shuffled 52-card deck (Fisher-Yates with `random(m, n)`, default math.random).
function bull.deck(random)
	random = random or math.random
	local d = {}
	for i = 1, 52 do
		d[i] = i - 1
	end
	for i = 52, 2, -1 do
		local j = random(1, i)
		d[i], d[j] = d[j], d[i]
	end
	return d
end

-- The hand type of five cards: 0 no bull, 1..9 bull N, 10 bull-bull, 11 four-face,
-- 12 five-face.
function bull.evaluate(hand)
	assert(#hand == 5, "a bull poker hand has five cards")
	local faces, tens, total = 0, 0, 0
	local p = {}
	for i = 1, 5 do
		local r = hand[i] // 4
		if r >= 10 then
			faces = faces + 1
		elseif r == 9 then
			tens = tens + 1
		end
		p[i] = bull.points(hand[i])
		total = total + p[i]
	end
	if faces == 5 then
		return bull.FIVE_FACE
	end
	if faces == 4 and tens == 1 then
		return bull.FOUR_FACE
	end
	-- A bull needs three cards summing to a multiple of ten; then the other two make
	-- total mod 10 whichever three they were.
	for i = 1, 3 do
		for j = i + 1, 4 do
			for k = j + 1, 5 do
				if (p[i] + p[j] + p[k]) % 10 == 0 then
					local rest = total % 10
					return rest == 0 and bull.BULL_BULL or rest
				end
			end
		end
	end
	return bull.NO_BULL
end

function bull.multiplier(hand_type)
	if hand_type == bull.FIVE_FACE then
		return 5
	elseif hand_type == bull.FOUR_FACE then
		return 4
	elseif hand_type == bull.BULL_BULL then
		return 3
	elseif hand_type >= 7 then
		return 2
	end
	return 1
end

function bull.high_card(hand)
	local m = hand[1]
	for i = 2, #hand do
		if hand[i] > m then
			m = hand[i]
		end
	end
	return m
end

-- True when hand `a` (type ta) beats hand `b` (type tb).
function bull.beats(a, ta, b, tb)
	if ta ~= tb then
		return ta > tb
	end
	return bull.high_card(a) > bull.high_card(b)
end

--[[ Settle one round. players: array of
      { seat, uid, gold, hand, hand_type, bet, banker = true|nil }
   (exactly one banker). Each player is settled against the banker alone:
      amount = base x banker_times x bet x multiplier(winner's hand type)
   A loser pays at most their gold. When the banker's gold plus what the banker won cannot
   pay every winner, winners are paid in proportion (rounded down). Then each positive score
   pays fee_percent (rounded down). Returns results in the order of `players`:
      { seat, uid, score, fee, gold_delta, multiplier, win (boolean), banker } ]]
function bull.settle(players, base, banker_times, fee_percent)
	local banker
	for _, p in ipairs(players) do
		if p.banker then
			assert(not banker, "two bankers")
			banker = p
		end
	end
	assert(banker, "no banker")
	local res = {}
	local collected, owed = 0, 0
	for i, p in ipairs(players) do
		if p ~= banker then
			local r = { seat = p.seat, uid = p.uid }
			if bull.beats(p.hand, p.hand_type, banker.hand, banker.hand_type) then
				r.multiplier = bull.multiplier(p.hand_type)
				r.win = true
				r.claim = base * banker_times * p.bet * r.multiplier
				owed = owed + r.claim
			else
				r.multiplier = bull.multiplier(banker.hand_type)
				r.win = false
				r.score = -math.min(base * banker_times * p.bet * r.multiplier, math.max(p.gold, 0))
				collected = collected - r.score
			end
			res[i] = r
		else
			res[i] = { seat = p.seat, uid = p.uid, banker = true, multiplier = bull.multiplier(p.hand_type) }
		end
	end
	local available = math.max(banker.gold, 0) + collected
	local paid = 0
	for _, r in ipairs(res) do
		if r.claim then
			local pay = r.claim
			if owed > available then
				pay = r.claim * available // owed
			end
			r.score = pay
			r.claim = nil
			paid = paid + pay
		end
	end
	for _, r in ipairs(res) do
		if r.banker then
			r.score = collected - paid
			r.win = r.score > 0
		end
		r.fee = r.score > 0 and r.score * fee_percent // 100 or 0
		r.gold_delta = r.score - r.fee
	end
	return res
end

return bull
