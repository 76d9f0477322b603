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
	-- as skynet's bootstrap: a failing start service has logged why itself
	pcall(skynet.newservice, start)
	skynet.exit()
end)
