-- sproto RPC in Lua: host/attach/dispatch with sessions, ud, `response nil`, and the
-- sprotoloader slots, against the game's client schemas in sproto/.

local sproto = require "sproto"
local parser = require "sprotoparser"
local loader = require "sprotoloader"

local function read(name)
	local f = assert(io.open(REPO_ROOT .. "/sproto/" .. name))
	local text = f:read "a"
	f:close()
	return text
end

-- Server side uses slots, as a gate/agent pair would.
loader.register(REPO_ROOT .. "/sproto/proto.c2s.sproto", 1)
loader.save(parser.parse(read "proto.s2c.sproto"), 2)

local c2s_server = loader.load(1)
local s2c_server = loader.load(2)
local server = c2s_server:host "package"
local push = server:attach(s2c_server)

local client_c2s = sproto.parse(read "proto.c2s.sproto")
local client_s2c = sproto.parse(read "proto.s2c.sproto")
local client = client_s2c:host "package"
local request = client:attach(client_c2s)

-- Client asks, server answers.
local pkt = request("visitor_login", { device_id = "dev-1", platform = "ios", version = "1.0" }, 1)
local kind, name, args, respond, ud = server:dispatch(pkt)
assert(kind == "REQUEST" and name == "visitor_login" and ud == nil)
assert(args.device_id == "dev-1" and args.platform == "ios")
local reply = respond({ code = 0, uid = 42, token = "tok", player = { uid = 42, nickname = "guest", gold = 100 } })
local kind2, session, result, ud2 = client:dispatch(reply)
assert(kind2 == "RESPONSE" and session == 1 and ud2 == nil)
assert(result.uid == 42 and result.player.nickname == "guest" and result.player.gold == 100)
assert(not pcall(client.dispatch, client, reply), "a session is answered once")

-- A request without request fields and a response type (room_leave).
local kind3, name3, args3, respond3 = server:dispatch(request("room_leave", nil, 2))
assert(kind3 == "REQUEST" and name3 == "room_leave" and args3 == nil and respond3)
local _, s3, r3 = client:dispatch(respond3 { code = 7 })
assert(s3 == 2 and r3.code == 7)

-- A push carries no session, and `ud` (the push sequence) survives the trip.
local kind4, name4, args4, respond4, ud4 = client:dispatch(push("queue_wait", { position = 3, wait_seconds = 20 }, nil, 1001))
assert(kind4 == "REQUEST" and name4 == "queue_wait" and respond4 == nil and ud4 == 1001)
assert(args4.position == 3 and args4.wait_seconds == 20)

-- Nested arrays of structs and integer arrays in a push.
local seats = {}
for i = 0, 3 do
	seats[i + 1] = { index = i, uid = 100 + i, nickname = "p" .. i, ready = i % 2 == 0, score = -i }
end
local _, _, start = client:dispatch(push("game_start", { desk_id = 9, round = 1, dealer = 2, hand = { 1, 5, 52, 53 }, seats = seats }))
assert(#start.seats == 4 and start.seats[4].score == -3 and start.seats[3].ready == true)
assert(start.hand[3] == 52)

-- Responses to a `response nil` protocol carry no body.
local sp = sproto.parse [[
.package { type 0 : integer  session 1 : integer  ud 2 : integer }
ping 1 { response nil }
]]
local h1, h2 = sp:host(), sp:host()
local send = h1:attach(sp)
local _, pname, pargs, presp = h2:dispatch(send("ping", nil, 5))
assert(pname == "ping" and pargs == nil)
local rk, rs, rr, rud = h1:dispatch(presp(nil, 77))
assert(rk == "RESPONSE" and rs == 5 and rr == nil and rud == 77)

-- The raw packet matches the Rust host's framing: header {type = 1, session = 5}.
assert(send("ping", nil, 5) == sproto.pack("\2\0\4\0\12\0"))
