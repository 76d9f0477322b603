-- Bad input over TCP: each gets an error code and the connection stays, except bytes that
-- do not decode, which close that one connection and nobody else's.

local skynet = require "skynet"
local T = require "testing"
local gc = require "gameclient"
local core = require "sproto.core"

local HOST = skynet.getenv "game_host"
local PORT = tonumber(skynet.getenv "game_port")
local RUN = skynet.getenv "game_run" or tostring(os.time())

local function player(name)
	local c = gc.connect(HOST, PORT)
	local r = c:visitor("bad-" .. RUN .. "-" .. name)
	T.eq(r.code, 0)
	c.uid = r.uid
	return c
end

-- A request header for tag 99 (unknown to the server) with session 7, packed as sproto does:
-- header struct { type = 99, session = 7 }.
local function unknown_request()
	local sp = require("sproto").parse [[
.package { type 0 : integer  session 1 : integer  ud 2 : integer }
]]
	return core.pack(sp:encode("package", { type = 99, session = 7 }))
end

T.case("unknown message: code 3, connection stays", function()
	local c = player("unknown")
	-- as a client with a newer schema would: it knows tag 99's response type; every response
	-- type starts with `code`
	c:expect(7, "logout.response")
	c:send_raw(unknown_request())
	local body = T.ok(c:answer(7), "answered")
	T.eq(body.code, 3)
	T.eq(c:call("heartbeat", {}).code, 0, "still connected")
	c:close()
end)

T.case("moves out of phase, out of turn, out of range", function()
	local a, b = player("a"), player("b")
	T.eq(a:call("desk_ready", { ready = true }).code, 21, "no room yet")
	T.eq(a:call("room_enter", { room_id = 999 }).code, 20, "unknown room")
	T.eq(a:call("room_enter", { room_id = 2 }).code, 24, "below min_gold")
	T.eq(a:call("room_enter", { room_id = 1 }).code, 0)
	T.eq(a:call("room_enter", { room_id = 1 }).code, 22, "in a room already")
	T.eq(a:call("bid_banker", { times = 1 }).code, 32, "not at a desk")
	T.eq(b:call("room_enter", { room_id = 1 }).code, 0)
	local j = a:call("desk_join", { desk_id = 0 })
	T.eq(b:call("desk_join", { desk_id = j.desk_id, seat = j.seat }).code, 31, "seat taken")
	T.eq(b:call("desk_join", { desk_id = 9999 }).code, 30, "no such desk")
	T.eq(b:call("desk_join", { desk_id = j.desk_id }).code, 0)
	T.eq(a:call("bid_banker", { times = 1 }).code, 33, "no round yet")
	T.eq(a:call("open_cards", {}).code, 33)
	T.eq(a:call("desk_ready", { ready = true }).code, 0)
	T.eq(b:call("desk_ready", { ready = true }).code, 0)
	T.ok(a:wait("desk_phase", function(p) return p.phase == 1 end))
	T.eq(a:call("desk_ready", { ready = true }).code, 33, "ready mid-round")
	T.eq(a:call("bet", { times = 1 }).code, 33, "bet in the bid phase")
	T.eq(a:call("bid_banker", { times = 5 }).code, 36, "bid too high")
	T.eq(a:call("bid_banker", { times = 4 }).code, 0)
	T.eq(a:call("bid_banker", { times = 1 }).code, 35, "bid twice")
	T.eq(a:call("room_leave", {}).code, 25, "leave the room mid-round")
	T.eq(b:call("bid_banker", { times = 0 }).code, 0)
	local ph = T.ok(a:wait("desk_phase", function(p) return p.phase == 2 end))
	T.eq(ph.banker, j.seat, "a bid highest")
	T.eq(b:call("bet", { times = 0 }).code, 36, "bet too low")
	T.eq(b:call("bet", { times = 6 }).code, 36, "bet too high")
	T.eq(a:call("bet", { times = 1 }).code, 37, "banker")
	-- a third player who sits down mid-round is not in it
	local c = player("c")
	T.eq(c:call("room_enter", { room_id = 1 }).code, 0)
	T.eq(c:call("desk_join", { desk_id = j.desk_id }).code, 0)
	T.eq(c:call("bet", { times = 1 }).code, 34, "not dealt in")
	for _, p in ipairs { a, b, c } do
		T.eq(p:call("heartbeat", {}).code, 0, "connections stay")
		p:close()
	end
end)

T.case("undecodable bytes close that connection only", function()
	local a, b = player("garbage"), player("bystander")
	a:send_raw("\xff\xff\xff\xff\xff\xff\xff\xff\x01")
	T.ok(a:wait_closed(5), "closed")
	T.eq(b:call("heartbeat", {}).code, 0, "the other client is fine")
	b:close()
end)

T.start()
