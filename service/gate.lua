-- gate: skynet's gate service, backed by the native Rust gate (kernel/src/gate) that holds the
-- connections, deframes and routes. This wrapper answers skynet's lua commands and fills in
-- the caller-dependent defaults, so watchdog/agent code written for skynet runs unchanged:
--
--   addr, port = skynet.call(gate, "lua", "open", { address = "0.0.0.0", port = 8888, maxclient = 1024,
--       nodelay = true, protocol = "tcp" | "ws", watchdog = addr,
--       maxpacket = 65535, idle = 60, maxpending = 1 << 20, warnpending = 64 << 10 })
--   skynet.call(gate, "lua", "accept", fd)                 -- frames go to the watchdog
--   skynet.call(gate, "lua", "forward", fd [, client [, agent]])  -- frames go to the agent
--   skynet.call(gate, "lua", "kick", fd) / "close" / "send", fd, msg
--
-- The watchdog receives skynet.send(watchdog, "lua", "socket", event, fd, ...) with event
-- open(fd, addr), close(fd), error(fd, msg), warning(fd, kbytes), data(fd, msg). An agent
-- receives PTYPE_CLIENT messages (session = fd, source = client) holding one frame each.
-- Performance-sensitive code may skynet.launch("gate") and talk to the native gate directly.

local skynet = require "skynet"
require "skynet.manager"

local native

local CMD = {}

-- returns the address and port it listens on, as skynet's gate does
function CMD.open(source, conf)
	conf.watchdog = conf.watchdog or source
	local port = skynet.call(native, "lua", "open", conf)
	return conf.address or "0.0.0.0", port
end

function CMD.forward(source, fd, client, address)
	return skynet.call(native, "lua", "forward", fd, client or 0, address or source)
end

local function pass(cmd)
	return function(_, ...)
		return skynet.call(native, "lua", cmd, ...)
	end
end

CMD.accept = pass "accept"
CMD.kick = pass "kick"
CMD.close = pass "close"
CMD.send = pass "send"
CMD.info = pass "info"

skynet.start(function()
	-- the native gate exits with this service
	native = assert(skynet.launch("gate", skynet.address(skynet.self())), "cannot launch the native gate")
	skynet.dispatch("lua", function(session, source, cmd, ...)
		local f = CMD[cmd]
		if not f then
			error("unknown gate command " .. tostring(cmd))
		end
		if session == 0 then
			f(source, ...)
		else
			skynet.ret(skynet.pack(f(source, ...)))
		end
	end)
end)
