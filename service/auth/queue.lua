-- The login queue (seed 004's 排队): a login is admitted while fewer than `max_online`
-- players are online and at most `login_rate` logins per second go through (a token bucket
-- with a one-second burst). Others wait in FIFO order; each gets `queue_wait` at once and
-- every `queue_push_interval` seconds, and its login answer once admitted.

local skynet = require "skynet"
local conf = require "game.conf"
local errors = require "game.errors"
local online = require "game.online"
local metrics = require "cirrus.metrics"
local push = require "game.push"

local queue = {}

local MAX_ONLINE = conf.number("max_online", 10000)
local RATE = conf.number("login_rate", 1000)
local MAX_WAITING = conf.number("queue_max", 50000)
local PUSH_EVERY = conf.number("queue_push_interval", 3) * 100

local waiting = {} -- FIFO of entries { ctx, token, result }
local head = 1
local by_conn = {} -- conn -> entry
local live = 0 -- entries still waiting
local queued = metrics.gauge("cirrus_game_queued_logins", "Logins waiting in the login queue.")
local tokens, refilled = RATE, skynet.now()
local pending = {} -- admitted logins not yet online: conn -> expiry (cs)
local admitted_log = {} -- recent admission times (cs), for the wait estimate
local online_count, counted_at = 0, -1

-- Admitted logins count against max_online until they are online (done) or expire; the
-- count is kept as a number (this runs on every login) and expiries are swept once a second.
local pending_n, swept = 0, 0

local function pending_count()
	local now = skynet.now()
	if now - swept >= 100 then
		swept = now
		for conn, expiry in pairs(pending) do
			if expiry < now then
				pending[conn] = nil
				pending_n = pending_n - 1
			end
		end
	end
	return pending_n
end

local function unpend(conn)
	if pending[conn] then
		pending[conn] = nil
		pending_n = pending_n - 1
	end
end

local function online_now()
	local now = skynet.now()
	if now - counted_at >= 10 then
		online_count, counted_at = online.count(), now
	end
	return online_count
end

local function take()
	if online_now() + pending_count() >= MAX_ONLINE then
		return false
	end
	local now = skynet.now()
	tokens = math.min(RATE, tokens + (now - refilled) * RATE / 100)
	refilled = now
	if tokens < 1 then
		return false
	end
	tokens = tokens - 1
	return true
end

local function admitted(ctx)
	local now = skynet.now()
	if not pending[ctx.conn] then
		pending_n = pending_n + 1
	end
	pending[ctx.conn] = now + 1000
	admitted_log[#admitted_log + 1] = now
	if #admitted_log > 1000 then
		table.remove(admitted_log, 1)
	end
end

local function length()
	return live
end

-- Seconds until the entry at `position` is admitted, from the admissions of the last 30 s.
local function estimate(position)
	local now, n = skynet.now(), 0
	for i = #admitted_log, 1, -1 do
		if now - admitted_log[i] > 3000 then
			break
		end
		n = n + 1
	end
	local per_second = math.min(n / 30, RATE)
	if per_second <= 0 then
		return position * 10 // math.max(RATE, 1) + 10
	end
	return math.ceil(position / per_second)
end

local function notify(entry, position)
	push.send(entry.ctx, "queue_wait", { position = position, wait_seconds = estimate(position) })
end

-- Admit from the head while there is room.
local function pump()
	while head <= #waiting do
		local e = waiting[head]
		if e.result then
			waiting[head] = nil
			head = head + 1
		elseif take() then
			waiting[head] = nil
			head = head + 1
			by_conn[e.ctx.conn] = nil
			live = live - 1
			queued:set(live)
			e.result = errors.OK
			admitted(e.ctx)
			skynet.wakeup(e)
		else
			break
		end
	end
	if head > #waiting then
		waiting, head = {}, 1
	end
end

-- Wait for admission; returns errors.OK, QUEUE_FULL, or UNAVAILABLE (the connection left).
function queue.admit(ctx)
	if length() == 0 and take() then
		admitted(ctx)
		return errors.OK
	end
	if length() >= MAX_WAITING then
		return errors.QUEUE_FULL
	end
	local e = { ctx = ctx }
	waiting[#waiting + 1] = e
	by_conn[ctx.conn] = e
	live = live + 1
	queued:set(live)
	notify(e, length())
	skynet.wait(e)
	return e.result
end

-- The connection of a waiting login closed.
function queue.cancel(conn)
	local e = by_conn[conn]
	unpend(conn)
	if e then
		by_conn[conn] = nil
		live = live - 1
		queued:set(live)
		e.result = errors.UNAVAILABLE
		skynet.wakeup(e)
	end
end

-- An admitted login is online now (it counts in online_players).
function queue.done(conn)
	if pending[conn] then
		unpend(conn)
		-- online now; the store's count catches up at the next refresh
		online_count = online_count + 1
	end
end

function queue.stats()
	return { waiting = length(), online = online_now(), pending = pending_count(), max_online = MAX_ONLINE, rate = RATE }
end

function queue.start()
	skynet.fork(function()
		while true do
			skynet.sleep(10)
			if length() > 0 then
				counted_at = -1
				pump()
			end
		end
	end)
	skynet.fork(function()
		while true do
			skynet.sleep(PUSH_EVERY)
			local pos = 0
			for i = head, #waiting do
				local e = waiting[i]
				if e and not e.result then
					pos = pos + 1
					notify(e, pos)
				end
			end
		end
	end)
end

return queue
