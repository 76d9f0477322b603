-- Server -> client pushes from any role, on any node. A target is a session context as the
-- watchdog passes it ({gate, watchdog, fd, conn, uid, inc}); the watchdog that holds the
-- connection checks the target still is that session (same player and incarnation, or the
-- same connection before login) before it stamps and writes the packet.
--
--   push.send(ctx, "seat_state", body)
--   push.many({ctx1, ctx2, ...}, "desk_phase", body)   one message per watchdog
--   push.deliver(uids, "chat_message", body)           to every gate node; each delivers to
--                                                      the listed players it holds (online
--                                                      or offline: kept for the replay)
--   push.update(ctx, { desk = false })                 change the session's context

local node = require "game.node"

local push = {}

-- The body is encoded here once (sproto, as the client gets it) and crosses to the gates as
-- one string: no table to copy per gate worker and per receiver. Services of a node that has
-- no client protocol loaded send the table.
local codec

local function prepared(name, body)
	if codec == nil then
		local ok, c = pcall(function()
			return require("game.proto").codec()
		end)
		codec = ok and c or false
	end
	if codec then
		local ok, prep = pcall(codec.prepare, codec, name, body)
		if ok then
			prep.prepared = true
			return prep
		end
		require("skynet").error(string.format("push %s: cannot encode: %s", name, prep))
		return nil
	end
	return body
end

local function target(ctx)
	return { fd = ctx.fd, conn = ctx.conn, uid = ctx.uid, inc = ctx.inc }
end

function push.send(ctx, name, body)
	if not (ctx and ctx.gate) then
		return
	end
	body = prepared(name, body)
	if not body then
		return
	end
	local ok, err = pcall(node.send_at, ctx.gate, ctx.watchdog, "push", target(ctx), name, body)
	if not ok then
		-- the player's gate is gone: the player reconnects elsewhere (issue: sessions)
		require("skynet").error(string.format("push %s to uid=%s: %s", name, tostring(ctx.uid), err))
	end
end

function push.many(ctxs, name, body)
	body = prepared(name, body)
	if not body then
		return
	end
	local groups, order = {}, {}
	for _, ctx in ipairs(ctxs) do
		if ctx.gate then
			local k = ctx.gate .. "/" .. tostring(ctx.watchdog)
			local g = groups[k]
			if not g then
				g = { gate = ctx.gate, watchdog = ctx.watchdog, list = {} }
				groups[k] = g
				order[#order + 1] = g
			end
			g.list[#g.list + 1] = target(ctx)
		end
	end
	for _, g in ipairs(order) do
		local ok, err = pcall(node.send_at, g.gate, g.watchdog, "push_many", g.list, name, body)
		if not ok then
			require("skynet").error(string.format("push %s to gate %s: %s", name, g.gate, err))
		end
	end
end

-- Change the session context the player's watchdog keeps (e.g. { desk = false } when the
-- room stood the player up).
function push.update(ctx, fields)
	if ctx and ctx.gate then
		pcall(node.send_at, ctx.gate, ctx.watchdog, "update", target(ctx), fields)
	end
end

local deliveries = 0

-- Every gate node gets the list and delivers to the players it holds. The delivery id lets
-- a session moving between gates stamp each delivery once.
function push.deliver(uids, name, body)
	if #uids == 0 then
		return 0
	end
	body = prepared(name, body)
	if not body then
		return 0
	end
	deliveries = deliveries + 1
	local skynet = require "skynet"
	local did = string.format("%s:%x:%d", node.name(), skynet.self(), deliveries)
	local gates = node.nodes("watchdog")
	for _, gate in ipairs(gates) do
		local ok, err = pcall(node.send_at, gate, "watchdog", "deliver", uids, name, body, did)
		if not ok then
			require("skynet").error(string.format("deliver %s to gate %s: %s", name, gate, err))
		end
	end
	return #gates
end

return push
