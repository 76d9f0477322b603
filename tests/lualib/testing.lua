-- Minimal test framework for Lua test services.
--   local T = require "testing"
--   T.case("name", function() T.eq(1, 1) end)
--   T.start()   -- instead of skynet.start: runs cases when the runner calls "run"

local skynet = require "skynet"

local T = {}
local cases = {}

function T.case(name, f)
	cases[#cases + 1] = { name = name, f = f }
end

local function show(v)
	if type(v) == "string" then
		return string.format("%q", v)
	end
	return tostring(v)
end

function T.eq(a, b, what)
	if a ~= b then
		error(string.format("%sexpected %s, got %s", what and (what .. ": ") or "", show(b), show(a)), 2)
	end
end

function T.ok(v, what)
	if not v then
		error("expected truthy: " .. (what or "?"), 2)
	end
	return v
end

function T.raises(f, pattern, ...)
	local ok, err = pcall(f, ...)
	if ok then
		error("expected an error" .. (pattern and (" matching " .. pattern) or ""), 2)
	end
	if pattern and not string.find(tostring(err), pattern, 1, true) then
		error(string.format("error %q does not contain %q", tostring(err), pattern), 2)
	end
	return err
end

-- Deep equality for tables.
function T.same(a, b, path)
	path = path or "value"
	if type(a) ~= "table" or type(b) ~= "table" then
		if a ~= b and not (a ~= a and b ~= b) then
			error(string.format("%s: expected %s, got %s", path, show(b), show(a)), 2)
		end
		return
	end
	for k, v in pairs(b) do
		T.same(a[k], v, path .. "." .. tostring(k))
	end
	for k in pairs(a) do
		if b[k] == nil then
			error(string.format("%s: unexpected key %s", path, tostring(k)), 2)
		end
	end
end

local function run_all()
	local results = {}
	for _, c in ipairs(cases) do
		local ok, err = xpcall(c.f, debug.traceback)
		results[#results + 1] = { name = c.name, ok = ok, err = (not ok) and tostring(err) or nil }
	end
	return results
end

function T.start(init)
	skynet.start(function()
		if init then
			init()
		end
		skynet.dispatch("lua", function(_, _, cmd, ...)
			if cmd == "run" then
				skynet.ret(skynet.pack(run_all()))
			elseif T.handlers and T.handlers[cmd] then
				skynet.ret(skynet.pack(T.handlers[cmd](...)))
			else
				error("unknown test command " .. tostring(cmd))
			end
		end)
	end)
end

return T
