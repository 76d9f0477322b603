-- SQL point selects from one Lua service (SELECT by primary key over 10,000 rows), with 1 and
-- 32 coroutines, on SQLite (a file under /tmp), MariaDB ($CIRRUS_BENCH_MYSQL_URL, default the
-- local `test` database) and PostgreSQL ($CIRRUS_BENCH_POSTGRES_URL).
local skynet = require "skynet"
require "skynet.manager"
local sql = require "skynet.db.sql"

local N = tonumber(skynet.getenv "bench_n") or 100000
local ROWS = 10000
local POOL = 8

local run = require "concurrent"

local DDL = {
	sqlite = "CREATE TABLE bench_players (id INTEGER PRIMARY KEY, name TEXT NOT NULL, gold BIGINT NOT NULL)",
	mysql = "CREATE TABLE bench_players (id BIGINT PRIMARY KEY, name VARCHAR(64) NOT NULL, gold BIGINT NOT NULL)",
	postgres = "CREATE TABLE bench_players (id BIGINT PRIMARY KEY, name VARCHAR(64) NOT NULL, gold BIGINT NOT NULL)",
}

local function bench(label, url)
	local db = sql.connect(url, { pool = POOL })
	db:execute "DROP TABLE IF EXISTS bench_players"
	db:execute(DDL[db.kind])
	db:transaction(function(tx)
		for i = 1, ROWS do
			tx:execute("INSERT INTO bench_players (id, name, gold) VALUES (?, ?, ?)", i, "player" .. i, i * 10)
		end
	end)
	local function select(w, i)
		local id = (w * 7919 + i * 104729) % ROWS + 1
		local row = db:query("SELECT id, name, gold FROM bench_players WHERE id = ?", id)[1]
		assert(row.id == id)
	end
	run(8, 2000, select) -- warm up
	for _, workers in ipairs { 1, 32 } do
		local total = workers == 1 and N // 5 or N
		print(string.format("BENCH sql %s point select, %d coroutine(s), pool %d: %.0f selects/s",
			label, workers, POOL, run(workers, total, select)))
	end
	db:execute "DROP TABLE bench_players"
	db:close()
end

skynet.start(function()
	local path = string.format("/tmp/cirrus-bench-%d.db", os.time())
	bench("SQLite", "sqlite://" .. path)
	for _, s in ipairs { "", "-wal", "-shm" } do
		os.remove(path .. s)
	end
	bench("MariaDB", os.getenv "CIRRUS_BENCH_MYSQL_URL" or "mysql://root@127.0.0.1:3306/test")
	bench("PostgreSQL", os.getenv "CIRRUS_BENCH_POSTGRES_URL" or "postgres://postgres@127.0.0.1/test")
	skynet.abort()
end)
