-- One db service instance: runs lualib/db/<module>.lua functions with a context holding the
-- SQL pool and the online store. Started by service/db/main.lua as ("db", "worker", id, url).

local skynet = require "skynet"
local sql = require "skynet.db.sql"
local store = require "store"

local modules = {}

local function module(name)
	local m = modules[name]
	if not m then
		assert(type(name) == "string" and name:match "^[%w_]+$", "db: bad module name")
		m = require("db." .. name)
		modules[name] = m
	end
	return m
end

return function(id, url)
	skynet.start(function()
		local db = sql.connect(url, { pool = tonumber(skynet.getenv "sql_pool") or 2 })
		local ctx = {
			id = tonumber(id),
			sql = db,
			kind = db.kind,
			store = store.open(),
			now = os.time,
		}
		skynet.dispatch("lua", function(_, _, mod, func, ...)
			local f = module(mod)[func]
			if not f then
				error(string.format("db: no function %s.%s", tostring(mod), tostring(func)))
			end
			skynet.retpack(f(ctx, ...))
		end)
	end)
end
