-- Rolling restart and a crashed gate, in a cluster of three gate nodes (kernel/tests/game.rs
-- starts them; game_extra names their ports, gate1's console and gate2's pid):
--   1. mid-round, `drain` on gate1: its player gets `redirect` to another gate, resumes there
--      with every packet, the round finishes; gate1 exits once empty (checked by the harness)
--   2. gate2 is killed with SIGKILL: its players resume on gate3 from the replay window in
--      Redis and play the next round.

local skynet = require "skynet"
local socket = require "skynet.socket"
local T = require "testing"
local gc = require "gameclient"

local HOST = skynet.getenv "game_host"
local GATE1 = tonumber(skynet.getenv "game_port")
local RUN = skynet.getenv "game_run" or tostring(os.time())

local extra = {}
for k, v in (skynet.getenv "game_extra" or ""):gmatch "([%w_]+)=([^,]*)" do
	extra[k] = v
end

local function console(port, line)
	local fd = assert(socket.open("127.0.0.1", tonumber(port)))
	socket.readline(fd) -- welcome
	socket.write(fd, line .. "\n")
	local out = {}
	while true do
		local l = socket.readline(fd)
		if not l or l:find "^<CMD" then
			break
		end
		out[#out + 1] = l
	end
	socket.close(fd)
	return table.concat(out, "\n")
end

local function resume(c, host, port)
	local n = gc.connect(host, port, c)
	n.uid, n.token = c.uid, c.token
	local rc = n:call("reconnect", { uid = c.uid, token = c.token, last_seq = c.last_ud })
	T.eq(rc and rc.code, 0, "reconnect")
	T.eq(rc.resumed, true, "resumed")
	T.eq(n.ud_errors, 0, "no gap, no duplicate")
	return n, rc
end

local function player(port, name)
	local c = gc.connect(HOST, port)
	local r = c:visitor(name .. "-" .. RUN)
	T.eq(r.code, 0, "login " .. name)
	c.uid, c.token = r.uid, r.token
	T.eq(c:call("room_enter", { room_id = 1 }).code, 0)
	return c
end

T.case("drain a gate mid-round, then kill another: no session lost", function()
	local gate2, gate3 = tonumber(extra.gate2), tonumber(extra.gate3)
	local a = player(GATE1, "gates-a")
	local b = player(gate2, "gates-b")
	local j = a:call("desk_join", { desk_id = 0 })
	T.eq(j.code, 0)
	T.eq(b:call("desk_join", { desk_id = j.desk_id }).code, 0)
	T.eq(a:call("desk_ready", { ready = true }).code, 0)
	T.eq(b:call("desk_ready", { ready = true }).code, 0)
	local gs = T.ok(a:wait("game_start", nil, 10), "round 1")

	-- 1. drain gate1 mid-round
	local reply = console(extra.gate1_console, "drain")
	T.ok(reply:find("draining", 1, true), "drain: " .. reply)
	local r = T.ok(a:wait("redirect", nil, 5), "redirect")
	T.eq(r.token, a.token, "the reconnect token")
	T.ok(r.port == gate2 or r.port == gate3, "to a live gate")
	local a2 = resume(a, r.host, r.port)
	T.ok(a:wait_closed(5), "gate1 closed the old connection")
	T.ok(a2:wait("game_end", function(e) return e.round == gs.round end, 20), "round 1 finishes after the move")
	T.ok(b:wait("game_end", function(e) return e.round == gs.round end, 20), "for b too")
	T.eq(a2.ud_errors, 0)

	-- 2. kill gate2 while the desk waits; everyone there resumes on gate3
	skynet.sleep(150) -- past the settle countdown
	os.execute("kill -9 " .. extra.gate2_pid)
	T.ok(b:wait_closed(5), "gate2 is gone")
	local b3 = resume(b, HOST, gate3)
	local a3 = a2
	if r.port == gate2 then
		T.ok(a2:wait_closed(5))
		a3 = resume(a2, HOST, gate3)
	end
	T.eq(a3:call("desk_info", {}).desk_id, j.desk_id, "a kept the seat")
	T.eq(b3:call("desk_info", {}).desk_id, j.desk_id, "b kept the seat")
	T.eq(a3:call("desk_ready", { ready = true }).code, 0)
	T.eq(b3:call("desk_ready", { ready = true }).code, 0)
	local e = T.ok(b3:wait("game_end", function(x) return x.round == gs.round + 1 end, 25), "round 2 finishes")
	T.eq(#e.results, 2)
	T.ok(a3:wait("game_end", function(x) return x.round == gs.round + 1 end, 5), "for a too")
	T.eq(a3.ud_errors, 0)
	T.eq(b3.ud_errors, 0)
	for _, c in ipairs { a3, b3 } do
		c:call("logout", {})
		c:close()
	end
end)

T.start()
