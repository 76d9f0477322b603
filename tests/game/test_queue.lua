-- The login queue over TCP, on a node with max_online = 2 and queue_max = 3
-- (kernel/tests/game.rs): FIFO admission as players leave, queue_wait pushes with positions,
-- a full queue, and a waiting connection that goes away giving up its place.

local skynet = require "skynet"
local T = require "testing"
local gc = require "gameclient"

local HOST = skynet.getenv "game_host"
local PORT = tonumber(skynet.getenv "game_port")
local RUN = skynet.getenv "game_run" or tostring(os.time())

local function connect()
	return gc.connect(HOST, PORT)
end

T.case("past max_online logins wait in order and are admitted in order", function()
	local a, b = connect(), connect()
	T.eq(a:visitor("q-a-" .. RUN).code, 0)
	T.eq(b:visitor("q-b-" .. RUN).code, 0)
	-- three more wait, in this order
	local waiters = {}
	for i, name in ipairs { "c", "d", "e" } do
		local c = connect()
		c.session_id = c:send("visitor_login", { device_id = "q-" .. name .. "-" .. RUN })
		local w = T.ok(c:wait("queue_wait", nil, 5), "queue_wait for " .. name)
		T.eq(w.position, i, "position of " .. name)
		T.ok(w.wait_seconds >= 0)
		waiters[i] = c
	end
	-- the queue is full
	local f = connect()
	T.eq(f:visitor("q-f-" .. RUN).code, 18, "queue full")
	-- pushes repeat while waiting (queue_push_interval = 1)
	T.ok(waiters[2]:wait("queue_wait", nil, 3), "repeated queue_wait")
	-- e gives up: its place goes
	waiters[3]:close()
	skynet.sleep(20)
	-- a leaves: c is next
	T.eq(a:call("logout", {}).code, 0)
	local rc = T.ok(waiters[1]:answer(waiters[1].session_id, 5), "c admitted")
	T.eq(rc.code, 0)
	T.eq(waiters[2].answers[waiters[2].session_id], nil, "d still waits")
	local w = T.ok(waiters[2]:wait("queue_wait", function(p) return p.position == 1 end, 3), "d moved up")
	T.eq(w.position, 1)
	-- b leaves: d is admitted
	T.eq(b:call("logout", {}).code, 0)
	local rd = T.ok(waiters[2]:answer(waiters[2].session_id, 5), "d admitted")
	T.eq(rd.code, 0)
	-- a player already online (a second login) does not queue
	local c2 = connect()
	T.eq(c2:visitor("q-c-" .. RUN).code, 0, "re-login of an online player skips the queue")
	for _, c in ipairs { a, b, f, c2, waiters[1], waiters[2] } do
		c:close()
	end
end)

T.start()
