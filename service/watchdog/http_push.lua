-- POST /push on the gate tier (seed 003): a back office or another service pushes a message
-- to players by uid, online or offline (an offline player's session keeps it for the replay
-- on reconnect). Loopback by default; every request must carry the shared secret.
--
--   curl -H "x-push-secret: $SECRET" -d '{"uids":[1,2],"proto":"chat_message",
--        "body":{"scope":1,"text":"maintenance at 10:00"}}' http://127.0.0.1:8090/push
--   -> 200 {"sent":2,"unknown":[]}     (unknown: uids not logged in; nothing kept for them)
--
-- 400 malformed JSON, uids not a non-empty list of integers, unknown proto, body that does
-- not fit the proto; 401 bad or missing secret; 404 / 405 other paths and methods. Nothing is
-- sent unless the whole request is valid.

local skynet = require "skynet"
local server = require "http.server"
local json = require "cirrus.json"
local encode = require "game.json"
local conf = require "game.conf"
local node = require "game.node"
local online = require "game.online"
local proto = require "game.proto"

local MAX_UIDS = 10000

local codec
local pushes = 0

local function reply(status, t)
	return status, encode.encode(t) .. "\n", { ["content-type"] = "application/json" }
end

local function bad(msg)
	return reply(400, { error = msg })
end

-- Lua tables from JSON: json.null inside becomes nil, so encoders see plain values.
local function clean(v)
	if v == json.null then
		return nil
	end
	if type(v) == "table" then
		local out = {}
		for k, x in pairs(v) do
			out[k] = clean(x)
		end
		return out
	end
	return v
end

local function handle(secret, req)
	if req.path ~= "/push" then
		return reply(404, { error = "not found" })
	end
	if req.method ~= "POST" then
		return reply(405, { error = "POST only" })
	end
	if req.headers["x-push-secret"] ~= secret then
		return reply(401, { error = "bad secret" })
	end
	local msg, err = json.decode(req.body or "")
	if type(msg) ~= "table" then
		return bad(err or "the body must be a JSON object")
	end
	local uids = msg.uids
	if type(uids) ~= "table" or #uids == 0 or #uids > MAX_UIDS then
		return bad("uids: a list of 1.." .. MAX_UIDS .. " player ids")
	end
	for i, uid in ipairs(uids) do
		if math.type(uid) ~= "integer" or uid <= 0 then
			return bad("uids[" .. i .. "] is not a player id")
		end
	end
	if type(msg.proto) ~= "string" or not codec:has_push(msg.proto) then
		return bad("unknown proto " .. tostring(msg.proto))
	end
	local body = clean(msg.body or {})
	if type(body) ~= "table" then
		return bad("body must be an object")
	end
	local ok, e = pcall(codec.push, codec, msg.proto, body, nil)
	if not ok then
		return bad("body does not fit " .. msg.proto .. ": " .. tostring(e))
	end
	-- group by the session's gate and worker, as the online records say
	local groups, unknown = {}, {}
	for _, uid in ipairs(uids) do
		local rec = online.get(uid)
		if rec and rec.gate and rec.watchdog then
			local k = rec.gate .. "/" .. rec.watchdog
			local g = groups[k] or { gate = rec.gate, watchdog = rec.watchdog, uids = {} }
			groups[k] = g
			g.uids[#g.uids + 1] = uid
		else
			unknown[#unknown + 1] = uid
		end
	end
	pushes = pushes + 1
	local did = string.format("http:%s:%x:%d", node.name(), skynet.self(), pushes)
	local sent = 0
	for _, g in pairs(groups) do
		local delivered, why = pcall(node.send_at, g.gate, g.watchdog, "deliver", g.uids, msg.proto, body, did)
		if delivered then
			sent = sent + #g.uids
		else
			skynet.error(string.format("http push to gate %s: %s", g.gate, why))
			for _, uid in ipairs(g.uids) do
				unknown[#unknown + 1] = uid
			end
		end
	end
	skynet.error(string.format("http push %s to %d players (%d not online)", msg.proto, sent, #unknown))
	return reply(200, { sent = sent, unknown = unknown })
end

return function()
	local port = conf.number("push_http_port", nil)
	if not port then
		return nil
	end
	local secret = conf.string("push_secret", "")
	if secret == "" then
		error("push_http_port is set but push_secret is empty: set a shared secret", 0)
	end
	codec = proto.codec()
	local srv = server.listen({
		host = conf.string("push_http_host", "127.0.0.1"),
		port = port,
		max_body = 1024 * 1024,
	}, function(req)
		return handle(secret, req)
	end)
	skynet.error(string.format("watchdog: HTTP push on %s:%d/push", conf.string("push_http_host", "127.0.0.1"), srv.port))
	return srv.port
end
