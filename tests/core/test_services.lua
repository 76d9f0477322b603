-- Service lifecycle: newservice/uniqueservice/queryservice, names, env, exit/kill, spawn leak.
local skynet = require "skynet"
require "skynet.manager"
local T = require "testing"

T.case("newservice passes string arguments and returns after start", function()
	local s = skynet.newservice("svc_echo", "alpha", 42)
	local a, b = skynet.call(s, "lua", "args")
	T.eq(a, "alpha"); T.eq(b, "42")
end)

T.case("newservice raises when start fails or the script is bad or missing", function()
	T.raises(function() skynet.newservice("svc_badstart") end, "bad start on purpose")
	T.raises(function() skynet.newservice("svc_syntax") end, "svc_syntax")
	T.raises(function() skynet.newservice("no_such_script_anywhere") end, "launch")
end)

T.case("uniqueservice starts once; queryservice finds it", function()
	local a = skynet.uniqueservice("svc_echo", "uniq")
	local b = skynet.uniqueservice("svc_echo", "uniq")
	T.eq(a, b)
	T.eq(skynet.queryservice("svc_echo"), a)
	T.eq(skynet.uniqueservice(true, "svc_idle"), skynet.queryservice(true, "svc_idle"))
	T.raises(function() skynet.uniqueservice("svc_badstart") end, "bad start")
end)

T.case("concurrent uniqueservice requests share one launch", function()
	local got = {}
	for i = 1, 5 do
		skynet.fork(function() got[i] = skynet.uniqueservice("svc_echo", "concurrent") end)
	end
	while #got < 5 do skynet.sleep(1) end
	for i = 2, 5 do T.eq(got[i], got[1]) end
end)

T.case("register, name and localname", function()
	skynet.register(".test_services_self")
	T.eq(skynet.localname(".test_services_self"), skynet.self())
	T.eq(skynet.localname(".nobody_here"), nil)
	local s = skynet.newservice("svc_echo")
	skynet.name(".named_echo", s)
	T.eq(skynet.localname(".named_echo"), s)
	T.raises(function() skynet.name(".named_echo", skynet.self()) end, "already")
end)

T.case("getenv reads config; setenv adds once", function()
	T.eq(skynet.getenv("test_greeting"), "hello from config")
	T.eq(skynet.getenv("thread"), tostring(skynet.getenv "thread"))
	T.eq(skynet.getenv("no_such_key"), nil)
	skynet.setenv("test_new_key", "v1")
	T.eq(skynet.getenv("test_new_key"), "v1")
	T.raises(function() skynet.setenv("test_new_key", "v2") end, "exist")
end)

T.case("address formatting and self", function()
	T.eq(skynet.address(10), ":0000000a")
	T.eq(type(skynet.self()), "number")
	T.eq(skynet.address(skynet.self()), string.format(":%08x", skynet.self()))
	T.eq(skynet.harbor(skynet.self()), 0)
end)

T.case("time: now, time, starttime, hpc", function()
	local st = skynet.starttime()
	T.ok(st > 1.7e9, "starttime is a unix time")
	local n0 = skynet.now()
	skynet.sleep(10)
	local dn = skynet.now() - n0
	T.ok(dn >= 9 and dn <= 30, "now advanced " .. dn)
	T.ok(math.abs(skynet.time() - (st + skynet.now() / 100)) < 0.02)
	T.ok(skynet.hpc() > 0)
end)

T.case("stat reports messages, mqlen, cpu and tasks", function()
	T.ok(skynet.stat("message") > 0)
	T.eq(skynet.stat("mqlen"), 0)
	T.ok(skynet.stat("cpu") >= 0)
	T.eq(type(skynet.stat("task")), "number")
	T.eq(skynet.endless(), false)
end)

T.case("kill removes a service and its names", function()
	local s = skynet.newservice("svc_echo")
	skynet.name(".to_kill", s)
	skynet.kill(s)
	T.eq(skynet.localname(".to_kill"), nil)
	T.raises(function() skynet.call(s, "lua", "echo", 1) end)
	skynet.kill(".no_such_name") -- killing nothing is harmless
end)

local function list_count()
	local n = 0
	for _ in pairs(skynet.call(".launcher", "lua", "LIST")) do n = n + 1 end
	return n
end

T.case("10k services spawned and exited leave nothing behind", function()
	local before = list_count()
	local handles = {}
	for round = 1, 10 do
		local batch = {}
		for i = 1, 1000 do
			batch[i] = skynet.newservice("svc_idle")
		end
		for i = 1, 1000 do
			T.eq(skynet.call(batch[i], "lua", "exit"), true)
			handles[batch[i]] = true
		end
	end
	skynet.sleep(10)
	local n = 0
	for _ in pairs(handles) do n = n + 1 end
	T.eq(n, 10000, "distinct handles")
	T.eq(list_count(), before, "launcher list back to its size")
	for h in pairs(handles) do
		if skynet.send(h, "lua", "x") ~= nil then
			error("service " .. skynet.address(h) .. " still alive")
		end
	end
	collectgarbage()
end)

T.case("sharedata: new, query, update seen by readers, delete", function()
	local sharedata = require "skynet.sharedata"
	sharedata.new("test_cfg", { name = "cfg", list = { 10, 20, 30 }, nested = { deep = { x = 1 } } })
	local obj = sharedata.query("test_cfg")
	T.eq(obj.name, "cfg")
	T.eq(#obj.list, 3)
	T.eq(obj.list[2], 20)
	T.eq(obj.nested.deep.x, 1)
	local keys = {}
	for k in pairs(obj) do keys[#keys + 1] = k end
	table.sort(keys)
	T.same(keys, { "list", "name", "nested" })
	local sum = 0
	for _, v in ipairs(obj.list) do sum = sum + v end
	T.eq(sum, 60)
	T.raises(function() obj.name = "x" end, "read-only")
	-- another service sees the same data and the update
	local reader = skynet.newservice("svc_sharedata_reader")
	T.eq(skynet.call(reader, "lua", "get", "test_cfg", "name"), "cfg")
	local deep = obj.nested.deep
	local list = obj.list
	sharedata.update("test_cfg", "return { name = 'cfg2', nested = { deep = { x = 2 } } }")
	T.eq(obj.name, "cfg2")
	T.eq(deep.x, 2, "a held subtable follows the update")
	T.eq(obj.list, nil, "the new version has no list")
	T.eq(#list, 0, "a held subtable that vanished reads empty")
	T.eq(skynet.call(reader, "lua", "get", "test_cfg", "name"), "cfg2")
	T.same(sharedata.deepcopy("test_cfg", "nested"), { deep = { x = 2 } })
	sharedata.delete("test_cfg")
	T.raises(function() sharedata.query("test_cfg") end, "not found")
	T.raises(function() sharedata.new("bad", { f = print }) end, "function")
end)

T.case("forward_type maps a protocol onto another", function()
	local f = skynet.newservice("svc_forward", "forward")
	skynet.rawsend(f, "lua", skynet.pack("via lua"))
	local core = require "skynet.core"
	core.send(f, skynet.PTYPE_TEXT, 0, skynet.packstring("via text"))
	T.same(skynet.call(f, "lua", "seen"), { "via lua", "via text" })
end)

T.case("filter rewrites messages before dispatch", function()
	local f = skynet.newservice("svc_forward", "filter")
	skynet.send(f, "lua", "keep")
	skynet.send(f, "lua", "drop")
	T.same(skynet.call(f, "lua", "seen"), { "keep", "dropped" })
end)

T.case("memlimit caps a service's memory", function()
	local s = skynet.newservice("svc_memlimit")
	local ok, err = skynet.call(s, "lua", "grow")
	T.eq(ok, false)
	T.ok(string.find(err, "memory", 1, true), err)
	T.eq(skynet.call(s, "lua", "alive"), "alive")
end)

T.start()
