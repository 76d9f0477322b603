-- Shared function prototypes (Lua 5.5, vendor/README.md): services run closures over
-- prototypes loaded once per process, and short strings in shared code are the same objects
-- as the ones every state makes at run time or from C.
local skynet = require "skynet"
local code = require "cirrus.code"
require "skynet.manager"
local T = require "testing"

local shared = _VERSION == "Lua 5.5"

local function boom()
	error("boom on purpose")
end

local main = debug.getinfo(1, "f").func
T.case("framework code is shared", function()
	if not shared then return end
	T.eq(code.isshared(main), true, "this file's main chunk")
	T.eq(code.isshared(skynet.call), true, "skynet.call")
	T.eq(code.isshared(boom), true, "this file's functions")
	T.eq(code.isshared(print), false, "C function")
	T.eq(code.isshared(load("return 1")), false, "a chunk loaded from text")
	local cloned, _, strings, protos = code.sharing()
	T.ok(cloned > 0, "chunks cloned")
	T.ok(strings > 100 and protos > 100, "strings and prototypes shared")
end)

T.case("strings from C, from constants and built at run time are one object", function()
	-- keys set from C (luaL_setfuncs) found by the shared constant "format"
	T.ok(string.format, "string.format")
	local seen = {}
	for k in pairs(string) do seen[k] = true end
	T.eq(seen.format, true)
	for k in pairs(package.loaded) do seen[k] = true end
	T.eq(seen.string, true)
	-- a string built at run time is the shared constant
	local built = string.rep("se", 1) .. "nd"
	local t = { send = 1 }
	T.eq(t[built], 1)
	if shared then
		T.eq(code.isshared(built), true, "run-time 'send'")
		T.eq(code.isshared(string.format("%s%d", "not_shared_", 42)), false, "fresh string")
	end
	-- metamethod names are the state's own tag names
	local mt = setmetatable({}, { __index = function(_, k) return k .. "?" end })
	T.eq(mt.x, "x?")
	-- globals set from Rust
	T.eq(type(SERVICE_NAME), "string")
end)

T.case("tracebacks, debug.getinfo and string.dump work on shared code", function()
	local ok, err = pcall(boom)
	T.eq(ok, false)
	T.ok(err:find("test_protoshare.lua:%d+: boom on purpose"), err)
	local tb = debug.traceback("here")
	T.ok(tb:find("test_protoshare.lua:%d+:"), tb)
	local info = debug.getinfo(skynet.call, "S")
	T.ok(info.short_src:find("skynet.lua", 1, true), info.short_src)
	T.ok(info.linedefined > 0, "linedefined")
	local name = debug.getlocal(skynet.call, 1)
	T.eq(type(name), "string")
	local f = load(string.dump(boom))
	local ok2, err2 = pcall(f)
	T.eq(ok2, false)
	T.ok(err2:find("boom on purpose", 1, true), err2)
	local function add(a, b) return a + b end
	T.eq(load(string.dump(add, true))(2, 3), 5)
end)

T.case("upvaluejoin and setupvalue on shared closures", function()
	local a, b = 1, 2
	local function fa() return a end
	local function fb() return b end
	debug.upvaluejoin(fa, 1, fb, 1)
	T.eq(fa(), 2)
	debug.setupvalue(fb, 1, 5)
	T.eq(fa(), 5)
	T.eq(b, 5)
	T.eq(a, 1)
end)

T.case("a chunk whose strings the state made first is loaded the ordinary way", function()
	-- made before share_late.lua was ever loaded: this state owns it
	local k = "protoshare_late_" .. "key_8d2f"
	local t = { [k] = 1 }
	local _, loaded0 = code.sharing()
	local m = require "share_late"
	T.eq(m.check(t), 1)
	T.eq(m.key, k)
	T.eq(rawequal(m.key, k), true)
	if shared then
		T.eq(code.isshared(m.check), false, "fallback load")
		local _, loaded1 = code.sharing()
		T.ok(loaded1 > loaded0, "fallback counted")
	end
	-- a service started now gets the shared prototypes, and its strings match them
	local w = skynet.newservice("svc_share_worker")
	local v, isshared = skynet.call(w, "lua", "late")
	T.eq(v, 7)
	T.eq(isshared, shared)
	skynet.kill(w)
end)

T.case("services load modules nobody loaded before, at once on both threads", function()
	local mods = { "sprotoparser", "sproto", "skynet.queue", "skynet.coroutine", "bson", "router" }
	local n = 200
	local l = {}
	for i = 1, n do l[i] = skynet.newservice("svc_share_worker") end
	local done, bad = 0, {}
	for i = 1, n do
		skynet.fork(function()
			local order = {}
			for j = 1, #mods do order[j] = mods[(i + j) % #mods + 1] end
			local ok, name, id, ntags, queued = pcall(skynet.call, l[i], "lua", "mods", order)
			if not (ok and name == "ann" and id == 7 and ntags == 2 and queued == 1) then
				bad[#bad + 1] = string.format("%d: %s %s %s %s %s", i, ok, name, id, ntags, queued)
			end
			done = done + 1
		end)
	end
	while done < n do skynet.sleep(1) end
	for i = 1, n do skynet.kill(l[i]) end
	T.eq(#bad, 0, table.concat(bad, "; ", 1, math.min(#bad, 5)))
end)

T.case("idle service heap is small", function()
	local n = 100
	local l = {}
	for i = 1, n do l[i] = skynet.newservice("svc_share_worker") end
	local sum = 0
	for i = 1, n do sum = sum + skynet.call(l[i], "lua", "mem") end
	for i = 1, n do skynet.kill(l[i]) end
	local kb = sum / n
	print(string.format("protoshare: idle worker heap %.1f KB", kb))
	if shared then
		T.ok(kb < 50, string.format("heap per service %.1f KB", kb))
	end
end)

T.case("many services collect garbage in both modes while calling each other", function()
	local n = tonumber(os.getenv("CIRRUS_SHARE_N") or "") or 1000
	local l = {}
	for i = 1, n do l[i] = skynet.newservice("svc_share_worker") end
	local done, bad = 0, {}
	for i = 1, n do
		skynet.fork(function()
			local mode = (i % 2 == 0) and "generational" or "incremental"
			local peer = l[i % n + 1]
			local sum, echoed, send, isshared = skynet.call(l[i], "lua", "work", mode, i, peer, 20)
			if type(sum) ~= "number" or echoed ~= 3 * i or send ~= "send!" or isshared ~= shared then
				bad[#bad + 1] = string.format("%d: %s %s %s %s", i, sum, echoed, send, isshared)
			end
			done = done + 1
		end)
	end
	while done < n do skynet.sleep(1) end
	for i = 1, n do skynet.kill(l[i]) end
	T.eq(#bad, 0, table.concat(bad, "; ", 1, math.min(#bad, 5)))
	collectgarbage("generational")
	collectgarbage("collect")
	collectgarbage("incremental")
	collectgarbage("collect")
	T.eq(skynet.call(".launcher", "lua", "LIST") ~= nil, true)
end)

T.start()
