-- One desk of five seats playing bull poker (rules in lualib/game/bull.lua, the flow in
-- docs/PROTOCOL.md). A desk is a Lua object inside its room service, driven by the room's
-- handlers and its own countdowns; it talks to players through `hooks`:
--   hooks.push(p, name, body)          one player
--   hooks.broadcast(ctxs, name, body)  several
--   hooks.settle(desk, record)         the SQL transaction; returns { [uid] = gold } or raises
--   hooks.stood(p, why)                the desk freed p's seat on its own (end of round)
--   hooks.playing(desk)                a round began or ended (desk:playing() changed)
--   hooks.finished(desk, void)         a round ended with game_end (void: not settled)
-- A player `p` is the room's record: { uid, nickname, avatar, gold, online, ctx, desk, seat }.

local skynet = require "skynet"
local flow = require "skynet.flow"
local bull = require "game.bull"
local errors = require "game.errors"
local json = require "game.json"

local desk = {}

local Desk = {}
Desk.__index = Desk

local SEATS = 5
local WAIT, BID, BET, OPEN, SETTLE = 0, 1, 2, 3, 4
desk.WAIT, desk.BID, desk.BET, desk.OPEN, desk.SETTLE = WAIT, BID, BET, OPEN, SETTLE

local MAX_BID, MAX_BET = 4, 5
local SETTLE_TRIES = 3

function desk.new(id, room, hooks)
	return setmetatable({
		id = id,
		room = room, -- room settings: base_score, min_gold, fee_percent, seconds, id, sid
		hooks = hooks,
		seats = {}, -- index 0..4 -> seat
		n = 0,
		phase = WAIT,
		round = 0,
		banker = -1,
		banker_times = 0,
		gen = 0,
		countdown = false,
	}, Desk)
end

-- ---- views ----

local function seat_view(d, i)
	local s = d.seats[i]
	if not s then
		return { index = i, uid = 0 }
	end
	local p = s.p
	return {
		index = i,
		uid = p.uid,
		nickname = p.nickname,
		avatar = p.avatar,
		ready = s.ready,
		online = p.online and not s.leaving,
		score = s.score,
		gold = p.gold,
		playing = s.playing,
		banker = s.playing and d.banker == i,
		bid = s.bid,
		bet = s.bet,
		opened = s.opened,
	}
end

function Desk:seats_view()
	local out = {}
	for i = 0, SEATS - 1 do
		out[#out + 1] = seat_view(self, i)
	end
	return out
end

local function ctxs(d)
	local out = {}
	for i = 0, SEATS - 1 do
		local s = d.seats[i]
		if s then
			out[#out + 1] = s.p.ctx
		end
	end
	return out
end

function Desk:broadcast(name, body)
	self.hooks.broadcast(ctxs(self), name, body)
end

function Desk:seat_state()
	self:broadcast("seat_state", { desk_id = self.id, seats = self:seats_view() })
end

function Desk:free_seats()
	return SEATS - self.n
end

function Desk:playing()
	return self.phase ~= WAIT
end

-- Left in the current countdown, in seconds.
function Desk:seconds_left()
	if not self.deadline then
		return 0
	end
	return math.max(0, (self.deadline - skynet.now() + 99) // 100)
end

-- ---- countdowns ----

function Desk:after(seconds, fn)
	self.gen = self.gen + 1
	local g = self.gen
	self.deadline = skynet.now() + seconds * 100
	skynet.timeout(math.max(seconds * 100, 0), function()
		if self.gen == g then
			self.deadline = nil
			fn(self)
		end
	end)
end

function Desk:cancel()
	self.gen = self.gen + 1
	self.deadline = nil
end

local function phase_push(d, seconds)
	d:broadcast("desk_phase", {
		desk_id = d.id,
		round = d.round,
		phase = d.phase,
		seconds = seconds,
		banker = d.banker,
		banker_times = d.banker_times,
	})
end

local function enter(d, phase, seconds, on_timeout)
	d.phase = phase
	d:after(seconds, on_timeout)
	phase_push(d, seconds)
end

-- Players who are away (disconnected or leaving) act at once with the timeout defaults.
local function away(s)
	return not s.p.online or s.leaving
end

local function players(d)
	local out = {}
	for i = 0, SEATS - 1 do
		local s = d.seats[i]
		if s and s.playing then
			out[#out + 1] = s
		end
	end
	return out
end

-- ---- seats ----

-- Sit `p` down (at `pref` when given). Returns the seat index or nil, code.
function Desk:sit(p, pref)
	local idx
	if pref ~= nil then
		if math.type(pref) ~= "integer" or pref < 0 or pref >= SEATS then
			return nil, errors.BAD_REQUEST
		end
		if self.seats[pref] then
			return nil, errors.DESK_FULL
		end
		idx = pref
	else
		for i = 0, SEATS - 1 do
			if not self.seats[i] then
				idx = i
				break
			end
		end
		if not idx then
			return nil, errors.DESK_FULL
		end
	end
	self.seats[idx] = { index = idx, p = p, ready = false, score = 0, playing = false, bid = -1, bet = 0, opened = false }
	self.n = self.n + 1
	p.desk, p.seat = self, idx
	self:seat_state()
	return idx
end

local function stand(d, s)
	d.seats[s.index] = nil
	d.n = d.n - 1
	s.p.desk, s.p.seat = nil, nil
end

-- Stand up. During a round the seat plays on automatically and is freed at its end:
-- returns true (pending) then.
function Desk:leave(p)
	local s = self.seats[p.seat]
	if s.playing and self.phase ~= WAIT then
		if not s.leaving then
			s.leaving = true
			self:seat_state()
			self:act_for_away(s)
		end
		return true
	end
	stand(self, s)
	self:seat_state()
	self:check_start()
	return false
end

-- The player's connection dropped or came back.
function Desk:set_online(p, is_online)
	p.online = is_online
	self:seat_state()
	local s = self.seats[p.seat]
	if not is_online and s.playing then
		self:act_for_away(s)
	end
end

-- ---- the waiting phase ----

-- Ready is taken while waiting and during the settle countdown (for the next round).
function Desk:ready(p, flag)
	if self.phase ~= WAIT and self.phase ~= SETTLE then
		return errors.WRONG_PHASE
	end
	if flag and p.gold < self.room.min_gold then
		return errors.LOW_GOLD
	end
	local s = self.seats[p.seat]
	if s.ready ~= flag then
		s.ready = flag
		self:seat_state()
		self:check_start()
	end
	return errors.OK
end

local function ready_count(d)
	local n = 0
	for i = 0, SEATS - 1 do
		local s = d.seats[i]
		if s and s.ready then
			n = n + 1
		end
	end
	return n
end

local function ready_timeout(d)
	d.countdown = false
	if ready_count(d) >= 2 then
		d:start_round()
	end
end

function Desk:check_start()
	if self.phase ~= WAIT then
		return
	end
	local ready = ready_count(self)
	if ready >= 2 and ready == self.n then
		self:start_round()
	elseif ready >= 2 then
		if not self.countdown then
			self.countdown = true
			self:after(self.room.seconds.ready, ready_timeout)
			phase_push(self, self.room.seconds.ready)
		end
	elseif self.countdown then
		self.countdown = false
		self:cancel()
		phase_push(self, 0)
	end
end

-- ---- a round ----

function Desk:start_round()
	self:cancel()
	self.countdown = false
	local deck = bull.deck()
	local k = 0
	self.round = self.round + 1
	self.banker, self.banker_times = -1, 0
	for i = 0, SEATS - 1 do
		local s = self.seats[i]
		if s then
			s.bid, s.bet, s.opened, s.hand, s.hand_type = -1, 0, false, nil, nil
			s.playing = s.ready
			s.ready = false
			if s.playing then
				s.hand = { deck[k + 1], deck[k + 2], deck[k + 3], deck[k + 4], deck[k + 5] }
				s.hand_type = bull.evaluate(s.hand)
				k = k + 5
			end
		end
	end
	local seats = self:seats_view()
	for i = 0, SEATS - 1 do
		local s = self.seats[i]
		if s then
			local hand = s.playing and { s.hand[1], s.hand[2], s.hand[3], s.hand[4] } or {}
			self.hooks.push(s.p, "game_start", { desk_id = self.id, round = self.round, seats = seats, hand = hand })
		end
	end
	enter(self, BID, self.room.seconds.bid, Desk.finish_bid)
	self.hooks.playing(self)
	self:act_for_all_away()
end

local function all_acted(d, field, skip_banker)
	for _, s in ipairs(players(d)) do
		if not (skip_banker and s.index == d.banker) then
			if (field == "bid" and s.bid < 0) or (field == "bet" and s.bet == 0) or (field == "opened" and not s.opened) then
				return false
			end
		end
	end
	return true
end

local function action(d, s, kind, times, auto)
	d:broadcast("desk_action", { desk_id = d.id, round = d.round, seat = s.index, action = kind, times = times, auto = auto })
end

-- The timeout default for `s` in the current phase (nothing when it has acted).
local function default_move(d, s)
	if d.phase == BID and s.bid < 0 then
		s.bid = 0
		action(d, s, 1, 0, true)
	elseif d.phase == BET and s.index ~= d.banker and s.bet == 0 then
		s.bet = 1
		action(d, s, 2, 1, true)
	elseif d.phase == OPEN and not s.opened then
		d:show(s)
	end
end

function Desk:act_for_away(s)
	if s.playing and self.phase >= BID and self.phase <= OPEN then
		default_move(self, s)
		self:advance()
	end
end

function Desk:act_for_all_away()
	local phase = self.phase
	for _, s in ipairs(players(self)) do
		if self.phase ~= phase then
			return
		end
		if away(s) then
			default_move(self, s)
		end
	end
	self:advance()
end

-- Move to the next phase once everyone has acted in this one.
function Desk:advance()
	if self.phase == BID and all_acted(self, "bid") then
		self:finish_bid()
	elseif self.phase == BET and all_acted(self, "bet", true) then
		self:finish_bet()
	elseif self.phase == OPEN and all_acted(self, "opened") then
		self:finish_open()
	end
end

local function check_move(d, p, phase)
	if d.phase ~= phase then
		return nil, errors.WRONG_PHASE
	end
	local s = d.seats[p.seat]
	if not s.playing then
		return nil, errors.NOT_PLAYING
	end
	return s
end

function Desk:bid(p, times)
	local s, code = check_move(self, p, BID)
	if not s then
		return code
	end
	if s.bid >= 0 then
		return errors.ALREADY_ACTED
	end
	if math.type(times) ~= "integer" or times < 0 or times > MAX_BID then
		return errors.BAD_TIMES
	end
	s.bid = times
	action(self, s, 1, times, false)
	self:advance()
	return errors.OK
end

function Desk:finish_bid()
	if self.phase ~= BID then
		return
	end
	local list = players(self)
	for _, s in ipairs(list) do
		default_move(self, s)
	end
	local top, best = -1, {}
	for _, s in ipairs(list) do
		if s.bid > top then
			top, best = s.bid, { s }
		elseif s.bid == top then
			best[#best + 1] = s
		end
	end
	local banker = best[math.random(#best)]
	self.banker = banker.index
	self.banker_times = math.max(top, 1)
	enter(self, BET, self.room.seconds.bet, Desk.finish_bet)
	self:act_for_all_away()
end

function Desk:bet(p, times)
	local s, code = check_move(self, p, BET)
	if not s then
		return code
	end
	if s.index == self.banker then
		return errors.BANKER_NO_BET
	end
	if s.bet > 0 then
		return errors.ALREADY_ACTED
	end
	if math.type(times) ~= "integer" or times < 1 or times > MAX_BET then
		return errors.BAD_TIMES
	end
	s.bet = times
	action(self, s, 2, times, false)
	self:advance()
	return errors.OK
end

function Desk:finish_bet()
	if self.phase ~= BET then
		return
	end
	for _, s in ipairs(players(self)) do
		default_move(self, s)
	end
	self.phase = OPEN
	for _, s in ipairs(players(self)) do
		self.hooks.push(s.p, "deal_card", {
			desk_id = self.id, round = self.round, card = s.hand[5], hand = s.hand, hand_type = s.hand_type,
		})
	end
	enter(self, OPEN, self.room.seconds.open, Desk.finish_open)
	self:act_for_all_away()
end

-- Show a seat's cards to the desk.
function Desk:show(s)
	s.opened = true
	self:broadcast("cards_open", {
		desk_id = self.id,
		round = self.round,
		seat = s.index,
		cards = s.hand,
		hand_type = s.hand_type,
		multiplier = bull.multiplier(s.hand_type),
	})
end

function Desk:open(p)
	local s, code = check_move(self, p, OPEN)
	if not s then
		return code
	end
	if s.opened then
		return errors.ALREADY_ACTED
	end
	self:show(s)
	local hand_type = s.hand_type
	self:advance()
	return errors.OK, hand_type
end

function Desk:finish_open()
	if self.phase ~= OPEN then
		return
	end
	for _, s in ipairs(players(self)) do
		default_move(self, s)
	end
	self:cancel()
	self.phase = SETTLE
	phase_push(self, self.room.seconds.settle)
	-- the settlement waits for SQL; the move that ended the round is answered meanwhile
	skynet.fork(self.settle, self)
end

-- ---- settlement ----

-- The SQL transaction (hooks.settle), tried SETTLE_TRIES times: golds, or nil and the error.
local function settle_tries(self, rec)
	local err
	for try = 1, SETTLE_TRIES do
		local ok, r = pcall(self.hooks.settle, self, rec)
		if ok then
			return r
		end
		err = r
		if try < SETTLE_TRIES then
			skynet.sleep(20 * try)
		end
	end
	return nil, err
end

function Desk:settle()
	local list = players(self)
	local input = {}
	for i, s in ipairs(list) do
		input[i] = {
			seat = s.index, uid = s.p.uid, gold = s.p.gold, hand = s.hand, hand_type = s.hand_type,
			bet = s.bet, banker = s.index == self.banker,
		}
	end
	local room = self.room
	local res = bull.settle(input, room.base_score, self.banker_times, room.fee_percent)
	local moves, detail = {}, {}
	for i, r in ipairs(res) do
		moves[i] = { uid = r.uid, delta = r.gold_delta }
		detail[i] = { seat = r.seat, uid = r.uid, hand = input[i].hand, type = input[i].hand_type, bet = input[i].bet,
			score = r.score, fee = r.fee, banker = r.banker or false }
	end
	local rec = {
		server_id = room.sid, room_id = room.id, desk_id = self.id, round = self.round,
		banker_uid = self.seats[self.banker].p.uid, detail = json.encode(detail), moves = moves,
	}
	-- one tracked flow (skynet.flow), retries included: a graceful shutdown waits for it, and
	-- once shutdown has begun a round is not settled at all (void, no gold moved)
	local ok, golds, err = pcall(flow.run, "settle", settle_tries, self, rec)
	if not ok then
		if golds == flow.SHUTTING_DOWN and flow.freezing() then
			-- the node is freezing: the restored node settles this round (Desk:freeze)
			self.settle_pending = true
			return
		end
		golds, err = nil, golds
	end
	self.settle_pending = nil
	local void = golds == nil
	if void then
		skynet.error(string.format("[room %d desk %d] round %d not settled (no gold moved): %s",
			room.id, self.id, self.round, tostring(err)))
	end
	local results = {}
	for i, r in ipairs(res) do
		local s = list[i]
		local p = s.p
		if not void then
			p.gold = golds[p.uid] or p.gold
			s.score = s.score + r.gold_delta
		end
		results[i] = {
			seat = r.seat, uid = r.uid, score = r.score, fee = r.fee,
			gold_delta = void and 0 or r.gold_delta, gold = p.gold,
			hand = s.hand, hand_type = s.hand_type, multiplier = r.multiplier, banker = r.banker or false,
		}
	end
	self:broadcast("game_end", { desk_id = self.id, round = self.round, banker = self.banker, results = results, void = void })
	self.hooks.finished(self, void)
	self:after(room.seconds.settle, Desk.end_round)
end

function Desk:end_round()
	self.phase = WAIT
	self.hooks.playing(self)
	self.banker, self.banker_times = -1, 0
	for i = 0, SEATS - 1 do
		local s = self.seats[i]
		if s then
			s.playing = false
			local why = (s.leaving and "left") or (s.p.gold < self.room.min_gold and "low gold")
			if why then
				stand(self, s)
				-- stood-up players are no longer in the broadcast: tell them the seat is gone
				self.hooks.push(s.p, "seat_state", { desk_id = self.id, seats = self:seats_view(), stood = true })
				self.hooks.stood(s.p, why)
			end
		end
	end
	self:seat_state()
	self:check_start()
	if self.phase == WAIT and not self.countdown then
		phase_push(self, 0) -- waiting for ready players again
	end
end

-- ---- freeze and restore (skynet.freeze / skynet.restore in main.lua) ----

-- What the desk holds, as plain values: seats name their player by uid.
function Desk:freeze()
	local seats = {}
	for i = 0, SEATS - 1 do
		local s = self.seats[i]
		if s then
			seats[#seats + 1] = {
				index = i, uid = s.p.uid, ready = s.ready, score = s.score, playing = s.playing, bid = s.bid,
				bet = s.bet, opened = s.opened, hand = s.hand, hand_type = s.hand_type, leaving = s.leaving,
			}
		end
	end
	return {
		id = self.id, n = self.n, phase = self.phase, round = self.round, banker = self.banker,
		banker_times = self.banker_times, countdown = self.countdown, seats = seats,
		settle_pending = self.settle_pending,
		-- centiseconds left in the running countdown
		left = self.deadline and math.max(0, self.deadline - skynet.now()) or nil,
	}
end

-- The timeout of the countdown running in each phase.
local function timeout_of(d)
	if d.phase == WAIT then
		return d.countdown and ready_timeout or nil
	end
	return ({ [BID] = Desk.finish_bid, [BET] = Desk.finish_bet, [OPEN] = Desk.finish_open,
		[SETTLE] = Desk.end_round })[d.phase]
end

-- A desk from Desk:freeze's state; `players` maps uid -> the room's player record. The
-- countdown resumes with the time it had left.
function desk.restore(st, room, hooks, players)
	local d = desk.new(st.id, room, hooks)
	d.n, d.phase, d.round, d.banker, d.banker_times, d.countdown =
		st.n, st.phase, st.round, st.banker, st.banker_times, st.countdown
	for _, v in ipairs(st.seats) do
		local p = assert(players[v.uid], "restored seat without its player")
		d.seats[v.index] = {
			index = v.index, p = p, ready = v.ready, score = v.score, playing = v.playing, bid = v.bid,
			bet = v.bet, opened = v.opened, hand = v.hand, hand_type = v.hand_type, leaving = v.leaving,
		}
		p.desk, p.seat = d, v.index
	end
	local fn = timeout_of(d)
	if st.settle_pending then
		-- refused while the node was freezing: settle now
		skynet.fork(d.settle, d)
	elseif st.left and fn then
		d.gen = d.gen + 1
		local g = d.gen
		d.deadline = skynet.now() + st.left
		skynet.timeout(st.left, function()
			if d.gen == g then
				d.deadline = nil
				fn(d)
			end
		end)
	end
	return d
end

-- ---- what a player sees ----

function Desk:info(p)
	local s = self.seats[p.seat]
	local hand = {}
	if s.playing and s.hand then
		local n = self.phase >= OPEN and 5 or 4
		for i = 1, n do
			hand[i] = s.hand[i]
		end
	end
	return {
		desk_id = self.id,
		round = self.round,
		phase = self.phase,
		seconds = self:seconds_left(),
		banker = self.banker,
		seats = self:seats_view(),
		hand = hand,
		room_id = self.room.id,
		seat = p.seat,
	}
end

return desk
