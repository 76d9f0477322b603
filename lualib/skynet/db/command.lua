-- Commands as methods, shared by skynet.db.redis and skynet.db.memory: `obj:hset(k, f, v)`
-- calls invoke(obj, "hset", k, f, v). As in skynet, a single table argument is the whole
-- argument list (`db:mset{ "a", 1, "b", 2 }`), and EXISTS / SISMEMBER answer with booleans.

local tunpack = table.unpack
local mtype = math.type

local command = {}

local booleans = { exists = true, sismember = true }

-- Returns a metatable for objects whose fixed methods are in `methods`; any other name becomes
-- a command, created on first use and kept in `methods`.
function command.meta(invoke, methods)
	setmetatable(methods, {
		__index = function(t, k)
			if type(k) ~= "string" then
				return nil
			end
			local name = k:lower()
			local f = function(self, ...)
				local v = ...
				if type(v) == "table" and select("#", ...) == 1 then
					return invoke(self, name, tunpack(v, 1, v.n or #v))
				end
				return invoke(self, name, ...)
			end
			if booleans[name] then
				local call = f
				f = function(self, ...)
					local r = call(self, ...)
					if mtype(r) == "integer" then
						return r ~= 0
					end
					return r
				end
			end
			rawset(t, k, f)
			return f
		end,
	})
	return { __index = methods }
end

-- `true, values...` -> values; `false, message` -> raise with exactly that message.
function command.result(ok, ...)
	if ok then
		return ...
	end
	error((...), 0)
end

return command
