-- The all-in-one node's start service: brings up the sample service and greets it.

local skynet = require "skynet"

skynet.start(function()
	skynet.error("Cirrus all-in-one node starting")
	skynet.newservice("db") -- records (SQL) and online state: `.db`, see service/db
	local hello = skynet.newservice("hello")
	local reply = skynet.call(hello, "lua", "greet", "designer")
	skynet.error("hello service says: " .. reply)
	skynet.error("debug console: nc 127.0.0.1 " .. tostring(skynet.getenv "console_port"))
end)
