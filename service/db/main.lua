-- The db service (skynet's dbserver: master_db + master_db_svc instances). The master applies
-- the schema migrations, starts `db_instances` workers and registers `.db`; game services ask
-- it for the workers once and then call a worker directly through lualib/dbhelper.lua, which
-- routes by key so one player's (or account's) requests run in order on one worker.
-- Workers hold a SQL pool (`sql_url`, `sql_pool`) and the online store (lualib/store.lua), and
-- dispatch `module, func, ...` to lualib/db/<module>.lua as module.func(ctx, ...).
--
-- Launch: skynet.newservice("db") for the config's settings, or
--         skynet.newservice("db", "master", name, sql_url) for another database under `name`.

local skynet = require "skynet"
require "skynet.manager"

local mode = ...
if mode == "worker" then
	require "worker"(select(2, ...))
	return
end

local sql = require "skynet.db.sql"

local _, name, url = ...
name = name or ".db"
url = url or skynet.getenv "sql_url" or "sqlite://data/cirrus.db"

local workers = {}

skynet.start(function()
	local db = sql.connect(url, { pool = 1 })
	local dir = (skynet.getenv "migrations" or (skynet.getenv "root" or "./") .. "migrations/") .. db.kind
	local n = db:migrate(dir)
	db:close()
	skynet.error(string.format("db: %s schema up to date (%d migrations in %s)", db.kind, n, dir))
	local count = tonumber(skynet.getenv "db_instances") or 4
	for i = 1, count do
		workers[i] = skynet.newservice("db", "worker", i, url)
	end
	skynet.dispatch("lua", function(_, _, cmd)
		if cmd == "workers" then
			skynet.retpack(workers)
		else
			error("db: unknown command " .. tostring(cmd))
		end
	end)
	skynet.register(name)
end)
