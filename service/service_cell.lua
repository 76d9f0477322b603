-- service_cell NAME: the shell of a skynet.service service; `init(code, ...)` loads the
-- function's bytecode and runs it, with its skynet.start(f) run at once.
local skynet = require "skynet"

local name = (...)

local function init(code, ...)
	local start_func
	skynet.start = function(f)
		start_func = f
	end
	skynet.dispatch("lua", function()
		error "No dispatch function"
	end)
	local main = assert(load(code, name))
	assert(skynet.pcall(main, ...))
	if start_func then
		start_func()
	end
	skynet.ret()
end

skynet.start(function()
	skynet.dispatch("lua", function(_, _, cmd, ...)
		assert(cmd == "init", cmd)
		init(...)
	end)
end)
