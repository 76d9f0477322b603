-- Sessions that survive the network (all-in-one node, replay_window = 16 here): a drop
-- mid-round and a reconnect replays every missed packet in order, the round goes on; a
-- resent request is answered once; pushes sent while offline arrive at the reconnect; a gap
-- longer than the window gives resumed = false and a sequence that goes on.

local skynet = require "skynet"
local T = require "testing"
local gc = require "gameclient"

local HOST = skynet.getenv "game_host"
local PORT = tonumber(skynet.getenv "game_port")
local RUN = skynet.getenv "game_run" or tostring(os.time())

local function player(name)
	local c = gc.connect(HOST, PORT)
	local r = c:visitor(name .. "-" .. RUN)
	T.eq(r.code, 0, "visitor_login " .. name)
	c.uid, c.token = r.uid, r.token
	return c
end

local function at_desk(a, b)
	T.eq(a:call("room_enter", { room_id = 1 }).code, 0)
	T.eq(b:call("room_enter", { room_id = 1 }).code, 0)
	local j = a:call("desk_join", { desk_id = 0 })
	T.eq(j.code, 0)
	T.eq(b:call("desk_join", { desk_id = j.desk_id }).code, 0)
	return j.desk_id
end

-- Reconnect `c` on a new connection; returns the new client and the answer.
local function reconnect(c, last_seq)
	local n = gc.connect(HOST, PORT, c)
	n.uid, n.token = c.uid, c.token
	local rc = n:call("reconnect", { uid = c.uid, token = c.token, last_seq = last_seq or c.last_ud })
	return n, rc
end

-- Log out (frees the seat for the next case) and close.
local function bye(...)
	for _, c in ipairs({ ... }) do
		c:call("logout", {})
		c:close()
	end
end

local function names(c, from_ud)
	local out = {}
	for _, p in ipairs(c.pushes) do
		if p.ud and p.ud > from_ud then
			out[#out + 1] = p.name
		end
	end
	return out
end

T.case("a drop mid-round: replay in order, no gap, the round finishes", function()
	local a, b = player("rc-a"), player("rc-b")
	local desk = at_desk(a, b)
	T.eq(a:call("desk_ready", { ready = true }).code, 0)
	T.eq(b:call("desk_ready", { ready = true }).code, 0)
	T.ok(a:wait("game_start"), "game_start")
	T.ok(a:wait("desk_phase", function(p) return p.phase == 1 end), "bid phase")
	-- a drops; the desk plays for a (bid 0 at once) while b bids
	local last = a.last_ud
	a:close()
	T.ok(a:wait_closed(5))
	skynet.sleep(20)
	T.eq(b:call("bid_banker", { times = 2 }).code, 0)
	T.ok(b:wait("desk_phase", function(p) return p.phase == 2 end), "b sees the bet phase")
	local n, rc = reconnect(a)
	T.eq(rc.code, 0, "reconnect")
	T.eq(rc.resumed, true, "resumed")
	T.eq(rc.desk_id, desk, "still at the desk")
	T.ok(rc.seq > last, "pushes came while a was away")
	T.eq(n.ud_errors, 0, "replay continues the sequence")
	local seen = names(n, last)
	T.ok(#seen >= 3, "missed pushes replayed: " .. table.concat(seen, ","))
	-- in order: a's automatic bid (a was away), b's bid, the bet phase
	local auto, bid, phase = nil, nil, nil
	for i, p in ipairs(n.pushes) do
		if p.ud > last then
			if p.name == "desk_action" and p.body.action == 1 and p.body.auto then
				auto = auto or i
			elseif p.name == "desk_action" and p.body.action == 1 and p.body.times == 2 then
				bid = bid or i
			elseif p.name == "desk_phase" and p.body.phase == 2 then
				phase = phase or i
			end
		end
	end
	T.ok(auto and bid and phase and auto < phase and bid < phase, "bids before the bet phase")
	-- the desk went on for a (bet 1, cards opened) while b still has to open
	T.ok(b:wait("deal_card", nil, 10), "fifth card for b")
	T.eq(b:call("open_cards", {}).code, 0)
	local e = T.ok(n:wait("game_end", nil, 10), "the round finishes for the reconnected player")
	T.eq(#e.results, 2)
	T.eq(n.ud_errors, 0)
	T.eq(b.ud_errors, 0)
	bye(n, b)
end)

T.case("a resent request is answered once, also after a reconnect", function()
	local a, b = player("rs-a"), player("rs-b")
	at_desk(a, b)
	-- the same chat request (same session) twice: one message, the kept answer again
	local s = a:send("chat", { scope = 5, target = 0, text = "once" })
	local ans, ud = a:answer(s)
	T.eq(ans.code, 0)
	a.session = a.session - 1
	a:send("chat", { scope = 5, target = 0, text = "once" })
	local again, ud2 = a:answer(s)
	T.eq(again and again.code, 0, "the kept answer")
	T.eq(ud2, ud, "the same packet again")
	skynet.sleep(30)
	local got = 0
	for _, p in ipairs(b.pushes) do
		if p.name == "chat_message" and p.body.text == "once" then
			got = got + 1
		end
	end
	T.eq(got, 1, "the chat ran once")
	-- an answer lost with the connection (the client says it never got it): replayed, and a
	-- resend on the new connection gets it again without running the chat twice
	local lost = a:send("chat", { scope = 5, target = 0, text = "lost" })
	local expecting = a.host.__session[lost]
	local _, lost_ud = a:answer(lost)
	a.host.__session[lost] = expecting -- as if the answer never came
	a:close()
	skynet.sleep(30)
	local n, rc = reconnect(a, lost_ud - 1)
	T.eq(rc.code, 0)
	T.eq(rc.resumed, true)
	-- the answer came with the replay; a resend gets it once more and runs nothing
	local first, first_ud = n:answer(lost, 5)
	T.ok(first and first.code == 0, "answer replayed")
	T.eq(first_ud, lost_ud, "with its own ud")
	local next_session = n.session
	n.session = lost - 1
	n:send("chat", { scope = 5, target = 0, text = "lost" })
	n.session = next_session
	T.eq(n:answer(lost, 5).code, 0, "resend answered from the window")
	skynet.sleep(30)
	got = 0
	for _, p in ipairs(b.pushes) do
		if p.name == "chat_message" and p.body.text == "lost" then
			got = got + 1
		end
	end
	T.eq(got, 1, "the lost chat ran once")
	bye(n, b)
end)

T.case("pushes while offline arrive at the reconnect", function()
	local a, b = player("off-a"), player("off-b")
	at_desk(a, b)
	a:close()
	T.ok(a:wait_closed(5))
	local last = a.last_ud
	skynet.sleep(30)
	for i = 1, 3 do
		T.eq(b:call("chat", { scope = 5, target = 0, text = "while away " .. i }).code, 0)
	end
	local n, rc = reconnect(a, last)
	T.eq(rc.resumed, true)
	local texts = {}
	for _, p in ipairs(n.pushes) do
		if p.name == "chat_message" then
			texts[#texts + 1] = p.body.text
		end
	end
	T.same(texts, { "while away 1", "while away 2", "while away 3" }, "in order")
	local trace = {}
	for _, p in ipairs(n.pushes) do
		trace[#trace + 1] = p.name .. "=" .. tostring(p.ud)
	end
	T.eq(n.ud_errors, 0, "last " .. last .. " seq " .. rc.seq .. ": " .. table.concat(trace, " "))
	bye(n, b)
end)

T.case("a gap longer than the window: resumed = false, the sequence goes on", function()
	local a, b = player("win-a"), player("win-b")
	local desk = at_desk(a, b)
	a:close()
	T.ok(a:wait_closed(5))
	local last = a.last_ud
	skynet.sleep(30)
	-- every leave and join of b pushes seat_state to a's offline seat: more than 16
	for _ = 1, 10 do
		T.eq(b:call("desk_leave", {}).code, 0)
		T.eq(b:call("desk_join", { desk_id = desk }).code, 0)
	end
	local n, rc = reconnect(a, last)
	T.eq(rc.code, 0)
	T.eq(rc.resumed, false, "the window no longer has the gap")
	T.ok(rc.seq >= last + 20, "seq says where the server is")
	-- the client reloads; the next packet is seq + 1 (the client took seq from the answer)
	local info = n:call("desk_info", {})
	T.eq(info.code, 0)
	T.eq(info.desk_id, desk, "the seat was kept")
	T.eq(n.ud_errors, 0, "sequence continues after the reload")
	bye(n, b)
end)

T.start()
