-- Helper: its start function raises, so newservice must raise.
local skynet = require "skynet"
skynet.start(function()
	error("bad start on purpose")
end)
