-- Helper for test_protoshare: a worker that churns garbage (incremental or generational
-- collector), coroutines and string keys, and calls a peer while it does.
local skynet = require "skynet"
local code = require "cirrus.code"

local CMD = {}

-- string keys built at run time, from C and from constants must meet in one table
local function churn(seed, rounds)
	local sum = 0
	for r = 1, rounds do
		local t = {}
		for i = 1, 50 do
			local k = "key" .. ((i + seed) % 37)
			t[k] = (t[k] or 0) + i
			t[#t + 1] = { name = k, [string.format("f%d", i % 5)] = i }
		end
		sum = sum + (t.key1 or 0) + (t["key" .. "2"] or 0) + #t
		local co = coroutine.wrap(function(a)
			local b = coroutine.yield(a + 1)
			return a + b
		end)
		sum = sum + co(r) + co(seed)
		if r % 7 == 0 then collectgarbage("step") end
	end
	return sum
end

function CMD.work(mode, seed, peer, rounds)
	collectgarbage(mode) -- "incremental" or "generational"
	local sum = churn(seed, rounds)
	local n = 0
	if peer then
		for _ = 1, 3 do
			n = n + skynet.call(peer, "lua", "echo", seed)
			sum = sum + churn(seed + 1, 2)
		end
	end
	collectgarbage("collect")
	-- the skynet API (shared code) still works after the collections
	assert(type(skynet.self()) == "number")
	local mt = setmetatable({}, { __index = function(_, k) return k .. "!" end })
	return sum, n, mt.send, code.isshared(skynet.call)
end

function CMD.echo(x)
	return x
end

function CMD.late()
	local m = require "share_late"
	local t = { ["protoshare_late_" .. "key_8d2f"] = 7 }
	return m.check(t), code.isshared(m.check)
end

-- modules first loaded (and shared) while other workers on the other thread load them too
function CMD.mods(names)
	for _, name in ipairs(names) do
		assert(require(name) ~= nil, name)
	end
	local sp = require("sproto").parse [[
.Person {
	name 0 : string
	id 1 : integer
	tags 2 : *string
}
]]
	local p = sp:decode("Person", sp:encode("Person", { name = "ann", id = 7, tags = { "x", "y" } }))
	local q = require("skynet.queue")()
	local n = 0
	q(function() n = n + 1 end)
	return p.name, p.id, #p.tags, n
end

function CMD.mem()
	collectgarbage("collect")
	return collectgarbage("count")
end

skynet.start(function()
	skynet.dispatch("lua", function(_, _, cmd, ...)
		skynet.ret(skynet.pack(CMD[cmd](...)))
	end)
end)
