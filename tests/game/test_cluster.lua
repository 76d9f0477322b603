-- Six role nodes on Redis and MariaDB (kernel/tests/game.rs): gate, login, hall, locator,
-- chat and game node 1 hosting one desk of room 1 (tests/game/rooms_small.lua). A round is
-- played across the nodes, chat crosses them, and the sixth player in room 1 makes the
-- locator launch standby game node 2.

local skynet = require "skynet"
local T = require "testing"
local gc = require "gameclient"
local bull = require "game.bull"

local HOST = skynet.getenv "game_host"
local PORT = tonumber(skynet.getenv "game_port")
local RUN = skynet.getenv "game_run" or tostring(os.time())

-- Log in, waiting for the cluster to find all its roles (discovery beats every second).
local function player(i)
	local deadline = skynet.now() + 2000
	while true do
		local c = gc.connect(HOST, PORT)
		local r = c:visitor("cl-" .. RUN .. "-" .. i)
		if r and r.code == 0 then
			c.uid, c.gold = r.uid, r.player.gold
			return c
		end
		c:close()
		if skynet.now() > deadline then
			error("cannot log in through the cluster: " .. tostring(r and r.code))
		end
		skynet.sleep(50)
	end
end

local function server_of(c, tag)
	T.eq(c:call("chat", { scope = 3, text = tag }).code, 0)
	local m = T.ok(c:wait("chat_message", function(b) return b.text == tag end, 5), "own message")
	return m.target
end

T.case("a round across six nodes, chat across them, a standby game node", function()
	local cs = {}
	for i = 1, 4 do
		cs[i] = player(i)
		local deadline = skynet.now() + 1000
		local code
		repeat
			code = cs[i]:call("room_enter", { room_id = 1 }).code
			if code ~= 0 then
				skynet.sleep(50) -- the game node may not have reported to the locator yet
			end
		until code == 0 or skynet.now() > deadline
		T.eq(code, 0, "room_enter " .. i)
	end
	local j = cs[1]:call("desk_join", { desk_id = 0 })
	T.eq(j.code, 0)
	cs[1].seat = j.seat
	for i = 2, 4 do
		local r = cs[i]:call("desk_join", { desk_id = j.desk_id })
		T.eq(r.code, 0)
		cs[i].seat = r.seat
	end
	for _, c in ipairs(cs) do
		T.eq(c:call("desk_ready", { ready = true }).code, 0)
	end
	for _, c in ipairs(cs) do
		T.ok(c:wait("desk_phase", function(b) return b.phase == 1 end), "bid phase")
		T.eq(c:call("bid_banker", { times = 2 }).code, 0)
	end
	local banker
	for _, c in ipairs(cs) do
		banker = T.ok(c:wait("desk_phase", function(b) return b.phase == 2 end), "bet phase").banker
	end
	for _, c in ipairs(cs) do
		if c.seat ~= banker then
			T.eq(c:call("bet", { times = 3 }).code, 0)
		end
	end
	for _, c in ipairs(cs) do
		local d = T.ok(c:wait("deal_card"), "deal_card")
		T.eq(d.hand_type, bull.evaluate(d.hand))
		T.eq(c:call("open_cards", {}).code, 0)
	end
	local e = T.ok(cs[1]:wait("game_end"), "game_end")
	T.ok(not e.void, "settled in SQL")
	local sum = 0
	for _, r in ipairs(e.results) do
		sum = sum + r.score
		T.eq(cs[2]:call("player_info", { uid = r.uid }).player.gold, r.gold, "gold in SQL")
	end
	T.eq(sum, 0)
	-- chat from the gate through the chat node back to every player
	T.eq(cs[3]:call("chat", { scope = 1, text = "across " .. RUN }).code, 0)
	for _, c in ipairs(cs) do
		T.ok(c:wait("chat_message", function(m) return m.text == "across " .. RUN end, 5), "hall chat")
	end
	T.eq(server_of(cs[1], "where-1"), 1)
	-- the fifth player fills game node 1; the sixth goes to standby node 2
	local p5, p6 = player(5), player(6)
	T.eq(p5:call("room_enter", { room_id = 1 }).code, 0)
	local r6 = p6:call("room_enter", { room_id = 1 }, 40)
	T.eq(r6 and r6.code, 0, "placed after the standby node started")
	T.eq(server_of(p6, "where-6"), 2, "on the standby game node")
	-- left empty past locator_idle (5 s here), the standby node is stopped
	T.eq(p6:call("room_leave", {}).code, 0)
	local function desks()
		for _, r in ipairs(p6:call("room_list", {}).rooms) do
			if r.id == 1 then
				return r.desks
			end
		end
	end
	T.eq(desks(), 2)
	local deadline = skynet.now() + 3000
	while desks() ~= 1 and skynet.now() < deadline do
		skynet.sleep(50)
	end
	T.eq(desks(), 1, "the idle standby node is gone")
	for _, c in ipairs(cs) do
		T.eq(c.ud_errors, 0)
		c:close()
	end
	p5:close()
	p6:close()
end)

T.start()
