-- Cross-tier routing for a node's services (see service/router.lua).
--   local router = require "router"
--   router.start("game", 1, { linkup = f(tier, id), message = f(tier, id, ...), request = f(tier, id, ...) })
--   router.send("cross", 1, ...)   router.send("game", "*", ...)   router.call("cross", 1, ...)
-- The calling service becomes the node's router endpoint; its "lua" dispatch must pass
-- commands starting with "router_" to router.dispatch (router.start installs one if the
-- service has none).

local skynet = require "skynet"

local router = {}
local client
local handlers = {}

function router.dispatch(cmd, ...)
	if cmd == "router_linkup" then
		if handlers.linkup then handlers.linkup(...) end
		return true
	elseif cmd == "router_message" then
		if handlers.message then handlers.message(...) end
		return true
	elseif cmd == "router_request" then
		assert(handlers.request, "no request handler")
		return true, handlers.request(...)
	end
	return false
end

function router.start(tier, id, h, router_node)
	handlers = h or {}
	client = skynet.newservice("routerclient", tier, id, router_node or "router")
	if not skynet.dispatch("lua") then
		skynet.dispatch("lua", function(session, source, cmd, ...)
			local r = table.pack(router.dispatch(cmd, ...))
			assert(r[1], "unknown command " .. tostring(cmd))
			if session ~= 0 then skynet.ret(skynet.pack(table.unpack(r, 2, r.n))) end
		end)
	end
	skynet.call(client, "lua", "subscribe", skynet.self())
	return client
end

function router.send(dst_tier, dst_id, ...)
	skynet.send(client, "lua", "send", dst_tier, dst_id, ...)
end

function router.call(dst_tier, dst_id, ...)
	return skynet.call(client, "lua", "call", dst_tier, dst_id, ...)
end

return router
