-- Calling the db service (service/db): requests go straight to one of its workers, chosen by
-- the first argument (a player id, account name, ...), so requests about the same thing run
-- in order on one worker while different ones spread over all of them.
--
--   local dbhelper = require "dbhelper"
--   local row = dbhelper.call("player", "get", player_id)
--   local acct, err = dbhelper.call("account", "create", name, hash, salt)
--   local other = dbhelper.new(".db_archive")    -- a db service started under another name

local skynet = require "skynet"

local Helper = {}
Helper.__index = Helper

local function workers(self)
	local list = self.list
	if not list then
		list = skynet.call(self.name, "lua", "workers")
		assert(#list > 0, "db service has no workers")
		self.list = list
	end
	return list
end

-- FNV-1a over the key's bytes (integers route by value).
local function slot(key, n)
	if math.type(key) == "integer" then
		return key % n + 1
	end
	local h = 2166136261
	for i = 1, #key do
		h = ((h ~ key:byte(i)) * 16777619) & 0xffffffff
	end
	return h % n + 1
end

function Helper:worker(key)
	local list = workers(self)
	if key == nil then
		self.next = self.next % #list + 1
		return list[self.next]
	end
	return list[slot(math.type(key) == "integer" and key or tostring(key), #list)]
end

-- module.func(ctx, ...) on the worker for the first argument; returns its results.
function Helper:call(module, func, ...)
	return skynet.call(self:worker((...)), "lua", module, func, ...)
end

function Helper:send(module, func, ...)
	skynet.send(self:worker((...)), "lua", module, func, ...)
end

local dbhelper = {}

function dbhelper.new(name)
	return setmetatable({ name = name or ".db", next = 0 }, Helper)
end

local default = dbhelper.new(".db")

function dbhelper.call(...)
	return default:call(...)
end

function dbhelper.send(...)
	default:send(...)
end

return dbhelper
