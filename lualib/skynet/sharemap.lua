-- skynet.sharemap: a table one service writes and others read, kept in a skynet.stm object as
-- sproto-encoded data (the types come from sharemap.register(protofile), sproto slot 0).
--   local w = sharemap.writer("foobar", { x = 0 }); w.x = 1; w:commit()
--   skynet.call(reader_service, "lua", "init", "foobar", w:copy())
--   local r = sharemap.reader("foobar", copy); r:update(); print(r.x)
local stm = require "skynet.stm"
local sprotoloader = require "sprotoloader"

local sharemap = {}

function sharemap.register(protofile)
	sprotoloader.register(protofile, 0)
end

local sp
local function proto()
	sp = sp or sprotoloader.load(0)
	return sp
end

function sharemap:commit()
	self.__obj(proto():encode(self.__typename, self.__data))
end

function sharemap:copy()
	return stm.copy(self.__obj)
end

function sharemap.writer(typename, data)
	data = data or {}
	local w = {
		__typename = typename,
		__obj = stm.new(proto():encode(typename, data)),
		__data = data,
		commit = sharemap.commit,
		copy = sharemap.copy,
	}
	return setmetatable(w, { __index = data, __newindex = data })
end

local function decode_into(msg, sz, self)
	local data = self.__data
	for k in pairs(data) do
		data[k] = nil
	end
	return proto():decode(self.__typename, msg, sz, data)
end

-- take the writer's latest commit (if any) into this reader's fields
function sharemap:update()
	return self.__obj(decode_into, self)
end

function sharemap.reader(typename, copy)
	local obj = stm.newcopy(copy)
	local _, data = obj(function(msg, sz)
		return proto():decode(typename, msg, sz)
	end)
	local r = {
		__typename = typename,
		__obj = obj,
		__data = data,
		update = sharemap.update,
	}
	return setmetatable(r, { __index = data, __newindex = error })
end

return sharemap
