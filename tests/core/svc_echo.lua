-- Helper service for tests: records messages, echoes calls, fails on demand.
local skynet = require "skynet"
require "skynet.manager"

local received = {}
local pending = {}
local CMD = {}

function CMD.echo(...) return ... end
function CMD.record(n) received[#received + 1] = n end
function CMD.received() return received end
function CMD.boom(msg) error(msg or "boom") end
function CMD.hold()
	-- never answers until released; used to test exit/kill cleanup
	pending[#pending + 1] = skynet.response()
	return skynet.NORET
end
function CMD.release(...)
	for _, r in ipairs(pending) do r(true, ...) end
	pending = {}
end
local probe
function CMD.hold_probe()
	local r = skynet.response()
	local before = r("TEST")
	local sent = r(true, "answer")
	local after = r("TEST")
	local again = pcall(r, true, "again")
	probe = { before, sent, after, again }
end
function CMD.probe() return probe end
local retsend
function CMD.retsend() retsend = skynet.ret(skynet.pack("x")) end
function CMD.retsend_result() return retsend end
function CMD.sleep(ti) skynet.sleep(ti) return "slept" end
function CMD.noreply() end
function CMD.exit() skynet.exit() end
function CMD.args() return table.unpack(ARGS) end

ARGS = { ... }

skynet.start(function()
	skynet.dispatch("lua", function(session, source, cmd, ...)
		local f = assert(CMD[cmd], cmd)
		if cmd == "hold" or cmd == "hold_probe" or cmd == "noreply" or cmd == "retsend" then
			f(...)
			return
		end
		if session == 0 then
			f(...)
		else
			skynet.ret(skynet.pack(f(...)))
		end
	end)
	skynet.register_protocol {
		name = "text",
		id = skynet.PTYPE_TEXT,
		unpack = skynet.tostring,
		dispatch = function(session, source, text)
			received[#received + 1] = "text:" .. text
			if session ~= 0 then skynet.ret("got " .. text) end
		end,
	}
end)
