-- cdummy: the harbor service of a standalone node (skynet.harbor talks to it). Global names
-- live in the node's registry; QUERYNAME waits for a name not registered yet (registered
-- through here, or by skynet.register anywhere: those are found by a 10 ms poll while someone
-- waits). LINK answers at once; CONNECT to another harbor is refused, as on skynet.
local skynet = require "skynet"
require "skynet.manager"

local waiting = {} -- name -> { response... }
local polling = false

local function wake(name, addr)
	local q = waiting[name]
	if q then
		waiting[name] = nil
		for _, resp in ipairs(q) do
			resp(true, addr)
		end
	end
end

local function poll()
	while next(waiting) do
		for name in pairs(waiting) do
			local addr = skynet.localname(name)
			if addr then
				wake(name, addr)
			end
		end
		skynet.sleep(1)
	end
	polling = false
end

local command = {}

function command.REGISTER(name, handle)
	skynet.name(name, handle)
	wake(name, handle)
end

function command.QUERYNAME(name)
	local addr = skynet.localname(name)
	if addr then
		return skynet.retpack(addr)
	end
	local q = waiting[name]
	if not q then
		q = {}
		waiting[name] = q
	end
	q[#q + 1] = skynet.response()
	if not polling then
		polling = true
		skynet.fork(poll)
	end
end

function command.LINK()
	skynet.ret()
end

function command.LINKMASTER()
	skynet.ret()
end

function command.CONNECT()
	skynet.error "Can't connect to other harbor in single node mode"
end

skynet.start(function()
	skynet.dispatch("lua", function(_, _, cmd, ...)
		assert(command[cmd], cmd)(...)
	end)
end)
