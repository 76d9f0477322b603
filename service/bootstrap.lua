-- First Lua service: starts the launcher, the unique-service manager, the optional debug
-- console (config `console_port`) and then the configured `start` service.

local skynet = require "skynet"
require "skynet.manager"

skynet.start(function()
	local launcher = assert(skynet.launch("snlua", "launcher"))
	skynet.name(".launcher", launcher)
	skynet.newservice "service_mgr"
	local port = tonumber(skynet.getenv "console_port")
	if port then
		skynet.newservice("debug_console", skynet.getenv "console_address" or "127.0.0.1", port)
	end
	local start = skynet.getenv "start" or "main"
	local ok, err = pcall(skynet.newservice, start)
	if not ok then
		skynet.error("start service " .. start .. " failed: " .. tostring(err))
	end
	skynet.exit()
end)
