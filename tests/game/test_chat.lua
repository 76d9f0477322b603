-- Chat in every scope over TCP: who receives what, targets, history, limits.

local skynet = require "skynet"
local T = require "testing"
local gc = require "gameclient"

local HOST = skynet.getenv "game_host"
local PORT = tonumber(skynet.getenv "game_port")
local RUN = skynet.getenv "game_run" or tostring(os.time())

local function player(name)
	local c = gc.connect(HOST, PORT)
	local r = c:visitor("chat-" .. RUN .. "-" .. name, name)
	T.eq(r.code, 0, "login " .. name)
	c.uid = r.uid
	return c
end

local function got(c, text)
	return c:wait("chat_message", function(m)
		return m.text == text
	end, 3)
end

local function nothing(c, text)
	-- a message for others arrives within a few ms; give it a moment, then check
	skynet.sleep(20)
	for _, p in ipairs(c.pushes) do
		if p.name == "chat_message" and p.body.text == text then
			return false
		end
	end
	return true
end

T.case("five scopes reach exactly their members", function()
	-- a, b at desk X of room 1; c at another desk of room 1; d in room 2... no: d in the hall
	local a, b, c, d = player("a"), player("b"), player("c"), player("d")
	for _, p in ipairs { a, b, c } do
		T.eq(p:call("room_enter", { room_id = 1 }).code, 0)
	end
	local ja = a:call("desk_join", { desk_id = 0 })
	T.eq(b:call("desk_join", { desk_id = ja.desk_id }).code, 0)
	-- c at a different desk
	local other = ja.desk_id == 1 and 2 or 1
	T.eq(c:call("desk_join", { desk_id = other }).code, 0)

	-- 1 hall: everyone online
	T.eq(a:call("chat", { scope = 1, text = "hall " .. RUN }).code, 0)
	for _, p in ipairs { a, b, c, d } do
		local m = T.ok(got(p, "hall " .. RUN), "hall message")
		T.eq(m.from_uid, a.uid)
		T.eq(m.from_name, "a")
		T.eq(m.scope, 1)
		T.ok(m.time > 0)
	end
	-- 2 game kind, 3 game node, 4 room: the three in room 1, not d in the hall
	for scope = 2, 4 do
		local text = "scope" .. scope .. " " .. RUN
		T.eq(b:call("chat", { scope = scope, text = text }).code, 0, "scope " .. scope)
		for _, p in ipairs { a, b, c } do
			T.ok(got(p, text), "scope " .. scope .. " to a member")
		end
		T.ok(nothing(d, text), "scope " .. scope .. " not to the hall player")
	end
	-- 5 desk: a and b only
	T.eq(a:call("chat", { scope = 5, text = "desk " .. RUN }).code, 0)
	T.ok(got(a, "desk " .. RUN))
	local m = T.ok(got(b, "desk " .. RUN))
	T.eq(m.target, ja.desk_id)
	T.ok(nothing(c, "desk " .. RUN), "other desk")
	T.ok(nothing(d, "desk " .. RUN), "hall")

	-- targets: own room/desk only
	T.eq(a:call("chat", { scope = 5, target = other, text = "x" }).code, 43, "another desk")
	T.eq(a:call("chat", { scope = 4, target = 2, text = "x" }).code, 43, "another room")
	T.eq(d:call("chat", { scope = 3, text = "x" }).code, 43, "no game node in the hall")
	T.eq(d:call("chat", { scope = 5, text = "x" }).code, 43, "no desk")
	T.eq(d:call("chat", { scope = 9, text = "x" }).code, 42, "bad scope")

	-- history: oldest first, per scope
	local h = a:call("chat_history", { scope = 5 })
	T.eq(h.code, 0)
	T.eq(h.messages[#h.messages].text, "desk " .. RUN)
	local hh = d:call("chat_history", { scope = 1 })
	T.eq(hh.messages[#hh.messages].text, "hall " .. RUN)
	for _, p in ipairs { a, b, c, d } do
		T.eq(p.ud_errors, 0)
		p:close()
	end
end)

T.case("length, emptiness and rate limits", function()
	local p = player("limits")
	T.eq(p:call("chat", { scope = 1, text = "" }).code, 44, "empty")
	T.eq(p:call("chat", { scope = 1, text = string.rep("x", 257) }).code, 40, "257 characters")
	-- 256 multi-byte characters are fine (characters, not bytes)
	T.eq(p:call("chat", { scope = 1, text = string.rep("牛", 256) }).code, 0, "256 characters")
	local codes = {}
	for i = 1, 8 do
		codes[i] = p:call("chat", { scope = 1, text = "burst " .. i }).code
	end
	-- the burst allowance (5) was partly used by the message above
	T.eq(codes[1], 0)
	T.eq(codes[8], 41, "too fast")
	T.eq(p:call("heartbeat", {}).code, 0, "the connection stays")
	skynet.sleep(110)
	T.eq(p:call("chat", { scope = 1, text = "after a second" }).code, 0, "allowed again")
	-- history keeps the last 50
	local h = p:call("chat_history", { scope = 1 })
	T.ok(#h.messages <= 50)
	p:close()
end)

T.start()
