-- Past reconnect_window (2 s here) offline, the player is logged out for good: the token no
-- longer works, a new login starts a fresh session (ud from 1), the seat was freed.

local skynet = require "skynet"
local T = require "testing"
local gc = require "gameclient"

local HOST = skynet.getenv "game_host"
local PORT = tonumber(skynet.getenv "game_port")
local RUN = skynet.getenv "game_run" or tostring(os.time())

T.case("offline past reconnect_window: logged out, token revoked, seat freed", function()
	local a = gc.connect(HOST, PORT)
	local r = a:visitor("gone-" .. RUN)
	T.eq(r.code, 0)
	T.eq(a:call("room_enter", { room_id = 1 }).code, 0)
	local j = a:call("desk_join", { desk_id = 0 })
	T.eq(j.code, 0)
	a:close()
	skynet.sleep(350)
	local b = gc.connect(HOST, PORT, a)
	local rc = b:call("reconnect", { uid = r.uid, token = r.token, last_seq = a.last_ud })
	T.eq(rc.code, 17, "the token was revoked with the session")
	b:close()
	local c = gc.connect(HOST, PORT)
	local again = c:visitor("gone-" .. RUN)
	T.eq(again.code, 0)
	T.eq(again.uid, r.uid, "same player")
	T.eq(c.last_ud, 1, "a fresh session: the login answer is packet 1")
	local info = c:call("desk_info", {})
	T.ok(info.code ~= 0, "no longer at a desk (code " .. tostring(info.code) .. ")")
	c:call("logout", {})
	c:close()
end)

T.start()
