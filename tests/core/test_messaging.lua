-- Messaging: ordering, call/ret, raw forms, redirect, errors reaching the caller.
local skynet = require "skynet"
require "skynet.manager"
local T = require "testing"

T.case("sends between two services keep their order", function()
	local b = skynet.newservice("svc_echo")
	for i = 1, 2000 do
		skynet.send(b, "lua", "record", i)
	end
	local got = skynet.call(b, "lua", "received")
	T.eq(#got, 2000, "count")
	for i = 1, 2000 do
		T.eq(got[i], i, "message " .. i)
	end
end)

T.case("call returns multiple values of every type", function()
	local b = skynet.newservice("svc_echo")
	local a, b2, c, d, e = skynet.call(b, "lua", "echo", 1, "two", 3.5, true, { x = { 1, 2 } })
	T.eq(a, 1); T.eq(b2, "two"); T.eq(c, 3.5); T.eq(d, true); T.same(e, { x = { 1, 2 } })
	T.eq(math.type(a), "integer")
end)

T.case("call by name and by :hex address", function()
	local b = skynet.newservice("svc_echo")
	skynet.name(".echo_named", b)
	T.eq(skynet.call(".echo_named", "lua", "echo", "n"), "n")
	T.eq(skynet.call(skynet.address(b), "lua", "echo", "h"), "h")
	T.eq(skynet.localname(".echo_named"), b)
end)

T.case("rawcall and rawsend carry packed messages", function()
	local b = skynet.newservice("svc_echo")
	local msg, sz = skynet.rawcall(b, "lua", skynet.pack("echo", 7, 8))
	local x, y = skynet.unpack(msg, sz)
	T.eq(x, 7); T.eq(y, 8)
	skynet.rawsend(b, "lua", skynet.pack("record", "raw"))
	T.eq(skynet.call(b, "lua", "received")[1], "raw")
end)

T.case("text protocol and redirect with a forged source", function()
	local b = skynet.newservice("svc_echo")
	-- like skynet, a caller needs the protocol registered to call with it
	T.raises(function() skynet.call(b, "text", "hi") end, "unknown protocol")
	skynet.register_protocol { name = "text", id = skynet.PTYPE_TEXT, pack = function(s) return s end, unpack = skynet.tostring }
	T.eq(skynet.call(b, "text", "hi"), "got hi")
	skynet.redirect(b, skynet.self(), "lua", 0, skynet.pack("record", "redirected"))
	T.eq(skynet.call(b, "lua", "received")[2], "redirected")
end)

T.case("call to an unknown address raises", function()
	T.raises(function() skynet.call(".no_such_service", "lua", "x") end, "invalid address")
	T.raises(function() skynet.call(0x00fffff0, "lua", "x") end, "invalid address")
	T.eq(skynet.send(".no_such_service", "lua", "x"), nil)
end)

T.case("a callee that raises fails the caller with its message", function()
	local b = skynet.newservice("svc_echo")
	T.raises(function() skynet.call(b, "lua", "boom", "kaboom-42") end, "kaboom-42")
	-- and the service keeps serving
	T.eq(skynet.call(b, "lua", "echo", "still alive"), "still alive")
end)

T.case("a callee that forgets to answer fails the caller", function()
	local b = skynet.newservice("svc_echo")
	T.raises(function() skynet.call(b, "lua", "noreply") end, "no response")
end)

T.case("calling a service that exited raises", function()
	local b = skynet.newservice("svc_echo")
	skynet.send(b, "lua", "exit")
	skynet.sleep(5)
	T.raises(function() skynet.call(b, "lua", "echo", 1) end, "invalid address")
end)

T.case("callers waiting on a service that exits get an error", function()
	local b = skynet.newservice("svc_echo")
	local results = {}
	for i = 1, 3 do
		skynet.fork(function()
			results[i] = { pcall(skynet.call, b, "lua", "hold") }
		end)
	end
	skynet.sleep(5)
	skynet.send(b, "lua", "exit")
	skynet.sleep(10)
	for i = 1, 3 do
		T.ok(results[i], "caller " .. i .. " finished")
		T.eq(results[i][1], false)
		T.ok(string.find(results[i][2], "exited", 1, true), results[i][2])
	end
end)

T.case("callers waiting on a killed service get an error", function()
	local b = skynet.newservice("svc_echo")
	local r
	skynet.fork(function() r = { pcall(skynet.call, b, "lua", "hold") } end)
	skynet.sleep(5)
	skynet.kill(b)
	skynet.sleep(10)
	T.ok(r, "caller finished")
	T.eq(r[1], false)
	T.ok(string.find(r[2], "killed", 1, true), r[2])
	T.raises(function() skynet.call(b, "lua", "echo") end, "invalid address")
end)

T.case("deferred response, TEST mode and single use", function()
	local b = skynet.newservice("svc_echo")
	local got
	skynet.fork(function() got = { skynet.call(b, "lua", "hold") } end)
	skynet.sleep(2)
	skynet.send(b, "lua", "release", "late", 99)
	skynet.sleep(5)
	T.same(got, { "late", 99 })
end)

T.case("skynet.response closure: TEST mode and single use", function()
	local b = skynet.newservice("svc_echo")
	T.eq(skynet.call(b, "lua", "hold_probe"), "answer")
	T.same(skynet.call(b, "lua", "probe"), { true, true, false, false })
end)

T.case("skynet.ret on a send returns false", function()
	local b = skynet.newservice("svc_echo")
	skynet.send(b, "lua", "retsend")
	T.eq(skynet.call(b, "lua", "retsend_result"), false)
end)

T.case("dispatch errors are logged and the service keeps serving", function()
	local b = skynet.newservice("svc_echo")
	skynet.send(b, "lua", "boom")
	skynet.send(b, "lua", "no_such_cmd")
	T.eq(skynet.call(b, "lua", "echo", "ok"), "ok")
end)

T.start()
