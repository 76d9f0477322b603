-- skynet.newservice("debug_console", [address,] port): starts the native console.

local skynet = require "skynet"
require "skynet.manager"

local ip, port = ...
if port == nil then
	ip, port = "127.0.0.1", ip
end

skynet.start(function()
	local console = skynet.launch("console", ip, port)
	if not console then
		error("debug console failed to listen on " .. tostring(ip) .. ":" .. tostring(port))
	end
	skynet.error("Start debug console at " .. ip .. ":" .. port)
end)
