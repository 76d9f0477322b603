-- HTTP push (POST /push on the gate tier): to an online player at once, to an offline one
-- kept for the replay at reconnect; bad secret, malformed JSON, unknown proto, a body that
-- does not fit and bad uids are refused with a 4xx and send nothing.

local skynet = require "skynet"
local T = require "testing"
local gc = require "gameclient"
local httpc = require "http.httpc"

local HOST = skynet.getenv "game_host"
local PORT = tonumber(skynet.getenv "game_port")
local PUSH = "127.0.0.1:" .. skynet.getenv "game_push_port"
local RUN = skynet.getenv "game_run" or tostring(os.time())
local SECRET = "dev-push-secret" -- config/node.lua

local function post(body, secret, method)
	local headers = { ["content-type"] = "application/json", ["x-push-secret"] = secret or SECRET }
	return httpc.request(method or "POST", PUSH, "/push", nil, headers, body)
end

local function chats(c, text)
	local n = 0
	for _, p in ipairs(c.pushes) do
		if p.name == "chat_message" and p.body.text == text then
			n = n + 1
		end
	end
	return n
end

T.case("POST /push reaches online and offline players; bad requests change nothing", function()
	local a = gc.connect(HOST, PORT)
	local ra = a:visitor("push-a-" .. RUN)
	local b = gc.connect(HOST, PORT)
	local rb = b:visitor("push-b-" .. RUN)
	T.eq(ra.code, 0)
	T.eq(rb.code, 0)
	b:close()
	T.ok(b:wait_closed(5))
	skynet.sleep(20)
	local last_b = b.last_ud

	local bad = {
		{ 401, '{"uids":[1],"proto":"chat_message","body":{}}', "wrong" },
		{ 400, '{"uids":[1], "proto": "chat_message", "body": {' },
		{ 400, '{"uids":[' .. ra.uid .. '],"proto":"no_such_push","body":{}}' },
		{ 400, '{"uids":[' .. ra.uid .. '],"proto":"chat_message","body":{"scope":"hall"}}' },
		{ 400, '{"uids":[],"proto":"chat_message","body":{}}' },
		{ 400, '{"uids":["x"],"proto":"chat_message","body":{}}' },
		{ 400, '[1,2,3]' },
	}
	for i, case in ipairs(bad) do
		local status, body = post(case[2], case[3])
		T.eq(status, case[1], "bad request " .. i .. ": " .. tostring(body))
	end
	local status = post('{"uids":[1]}', nil, "GET")
	T.eq(status, 405, "GET")

	local text = "maintenance at 10:00 " .. RUN
	local body = string.format(
		'{"uids":[%d,%d,987654321],"proto":"chat_message","body":{"scope":1,"from_uid":0,"from_name":"ops","text":"%s","time":%d}}',
		ra.uid, rb.uid, text, os.time())
	local st, reply = post(body)
	T.eq(st, 200, reply)
	T.ok(reply:find('"sent":2', 1, true), "sent to both: " .. reply)
	T.ok(reply:find("987654321", 1, true), "the unknown uid is named: " .. reply)
	T.ok(a:wait("chat_message", function(p) return p.text == text end, 5), "online player got it")
	T.eq(a.ud_errors, 0)
	-- the offline player gets it with the replay
	local n = gc.connect(HOST, PORT, b)
	local rc = n:call("reconnect", { uid = rb.uid, token = rb.token, last_seq = last_b })
	T.eq(rc.code, 0)
	T.eq(rc.resumed, true)
	T.eq(chats(n, text), 1, "kept while offline, replayed once")
	T.eq(n.ud_errors, 0)
	skynet.sleep(20)
	T.eq(chats(a, text), 0, "no second copy, and the bad requests sent nothing")
	for _, c in ipairs { a, n } do
		c:call("logout", {})
		c:close()
	end
end)

T.start()
