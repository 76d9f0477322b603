-- Accounts and sessions over TCP: register, the challenge/proof handshake, tokens, visitor
-- identity, duplicate login (kick reason 1), reconnect, logout.

local skynet = require "skynet"
local T = require "testing"
local gc = require "gameclient"
local crypt = require "cirrus.crypt"

local HOST = skynet.getenv "game_host"
local PORT = tonumber(skynet.getenv "game_port")
local RUN = skynet.getenv "game_run" or tostring(os.time())

local function connect()
	return gc.connect(HOST, PORT)
end

T.case("register, then log in with the handshake", function()
	local c = connect()
	local account = "ann" .. RUN
	local r = c:call("register", { account = account, password = "secret-1", nickname = "Ann" })
	T.eq(r.code, 0, "register")
	T.ok(r.uid > 0)
	T.eq(c:call("register", { account = account, password = "other-pw" }).code, 10, "taken")
	T.eq(c:call("register", { account = "x", password = "secret-1" }).code, 11, "short name")
	T.eq(c:call("register", { account = "bad name", password = "secret-1" }).code, 11, "space")
	T.eq(c:call("register", { account = "bob" .. RUN, password = "12345" }).code, 12, "short password")
	local l = c:password_login(account, "secret-1")
	T.eq(l.code, 0, "login")
	T.eq(l.uid, r.uid)
	T.eq(l.player.nickname, "Ann")
	T.eq(l.player.gold, 10000, "start gold")
	T.ok(#l.token >= 16, "reconnect token")
	T.eq(c:call("register", { account = "z" .. RUN, password = "secret-1" }).code, 5, "logged in already")
	c:close()
end)

T.case("wrong password, replayed challenge, reused token", function()
	local account = "cid" .. RUN
	local c = connect()
	T.eq(c:call("register", { account = account, password = "right-pw" }).code, 0)
	T.eq(c:password_login(account, "wrong-pw").code, 15, "bad proof")
	-- the challenge is gone after one proof
	local cn = crypt.randombytes(16)
	local ch = c:call("auth_challenge", { account = account, client_nonce = cn })
	T.eq(ch.code, 0)
	T.eq(#ch.server_nonce, 16)
	local key = crypt.pbkdf2_sha256("right-pw", ch.salt, ch.iterations)
	local proof = crypt.hmac_sha256(key, cn .. ch.server_nonce)
	local pr = c:call("auth_proof", { account = account, proof = proof })
	T.eq(pr.code, 0)
	T.eq(c:call("auth_proof", { account = account, proof = proof }).code, 14, "no second proof")
	T.eq(c:call("auth_challenge", { account = "nobody" .. RUN, client_nonce = cn }).code, 13, "unknown account")
	T.eq(c:call("auth_challenge", { account = account, client_nonce = "short" }).code, 2, "nonce too short")
	T.eq(c:call("login", { account = account, auth_token = "forged" }).code, 16, "forged token")
	local l = c:call("login", { account = account, auth_token = pr.auth_token })
	T.eq(l.code, 0, "the real token")
	c:close()
	local c2 = connect()
	T.eq(c2:call("login", { account = account, auth_token = pr.auth_token }).code, 16, "used token")
	c2:close()
end)

T.case("a device keeps its player; a second login kicks the first", function()
	local device = "dev-" .. RUN
	local a = connect()
	local ra = a:visitor(device)
	T.eq(ra.code, 0)
	T.eq(a:call("player_info", {}).player.uid, ra.uid)
	local b = connect()
	local rb = b:visitor(device)
	T.eq(rb.code, 0)
	T.eq(rb.uid, ra.uid, "same device, same player")
	local kick = T.ok(a:wait("kick"), "the old connection is told")
	T.eq(kick.reason, 1)
	T.ok(a:wait_closed(5), "and closed")
	T.eq(b:call("player_info", {}).code, 0, "the new one works")
	b:close()
end)

T.case("requests need a login; logout ends the session", function()
	local c = connect()
	T.eq(c:call("player_info", {}).code, 4)
	T.eq(c:call("room_list", {}).code, 4)
	T.eq(c:call("chat", { scope = 1, text = "hi" }).code, 4)
	T.eq(c:call("desk_ready", { ready = true }).code, 4)
	T.eq(c:call("heartbeat", { client_time = 1 }).code, 0, "heartbeat needs no login")
	T.eq(c:call("visitor_login", { device_id = "" }).code, 2, "empty device id")
	local r = c:visitor("out-" .. RUN)
	T.eq(r.code, 0)
	T.eq(c:call("logout", {}).code, 0)
	T.eq(c:wait("kick").reason, 5)
	T.ok(c:wait_closed(5))
end)

T.case("reconnect with the token on a new connection", function()
	local a = connect()
	local r = a:visitor("rc-" .. RUN)
	T.eq(a:call("room_enter", { room_id = 1 }).code, 0)
	local j = a:call("desk_join", { desk_id = 0 })
	T.eq(j.code, 0)
	a:close()
	skynet.sleep(20)
	local bad = connect()
	T.eq(bad:call("reconnect", { uid = r.uid, token = "wrong", last_seq = 0 }).code, 17, "wrong token")
	bad:close()
	local b = gc.connect(HOST, PORT, a)
	local rc = b:call("reconnect", { uid = r.uid, token = r.token, last_seq = a.last_ud })
	T.eq(rc.code, 0)
	T.eq(rc.resumed, true, "resumed")
	T.eq(b.ud_errors, 0, "the sequence goes on")
	T.eq(rc.room_id, 1, "still in the room")
	T.eq(rc.desk_id, j.desk_id, "still at the desk")
	local info = b:call("desk_info", {})
	T.eq(info.code, 0)
	T.eq(info.seat, j.seat)
	for _, s in ipairs(info.seats) do
		if s.uid == r.uid then
			T.eq(s.online, true, "seat online again")
		end
	end
	T.eq(b:call("room_leave", {}).code, 0)
	b:close()
end)

T.start()
