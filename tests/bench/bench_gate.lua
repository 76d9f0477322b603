-- Gate echo: a watchdog on skynet's gate service that writes every frame back with
-- socket.write. The load comes from outside (cirrus-bench echo, tests/bench/sidebyside.sh).
local skynet = require "skynet"
local socket = require "skynet.socket"
local PORT = tonumber(skynet.getenv "bench_port") or 8899

local gate
local SOCKET = {}

function SOCKET.open(fd)
	skynet.call(gate, "lua", "accept", fd)
end

function SOCKET.data(fd, msg)
	socket.write(fd, string.pack(">s2", msg))
end

function SOCKET.close() end
function SOCKET.error() end
function SOCKET.warning() end

skynet.start(function()
	skynet.dispatch("lua", function(_, _, cmd, subcmd, ...)
		if cmd == "socket" then
			SOCKET[subcmd](...)
		end
	end)
	gate = skynet.newservice("gate")
	skynet.call(gate, "lua", "open", {
		address = "127.0.0.1", port = PORT, maxclient = 4096, nodelay = true, watchdog = skynet.self(),
	})
	print("BENCH gate listening on " .. PORT)
end)
