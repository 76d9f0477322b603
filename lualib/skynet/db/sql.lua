-- skynet.db.sql: SQL for Lua services over sqlx: MySQL/MariaDB, PostgreSQL and SQLite.
--
--   local sql = require "skynet.db.sql"
--   local db = sql.connect("sqlite://data/cirrus.db", { pool = 4 })
--       -- or "mysql://root@127.0.0.1:3306/test", "postgres://postgres@127.0.0.1/test"
--   local rows = db:query("SELECT id, name FROM players WHERE id = ?", 42)
--       --> { { id = 42, name = "ann" } }
--   local affected, id = db:execute("INSERT INTO players(name) VALUES (?)", "bob")
--   local id = db:insert("INSERT INTO players(name) VALUES (?)", "bob")   -- any backend
--   db:transaction(function(tx)
--       tx:execute("UPDATE players SET gold = gold - ? WHERE id = ?", 10, 42)
--       tx:execute("UPDATE players SET gold = gold + ? WHERE id = ?", 10, 7)
--   end)                                      -- commits on return, rolls back on error
--
-- Parameters are always bound, never spliced into the SQL text: `?` works on every backend
-- (rewritten to $1, $2 ... for PostgreSQL, which also accepts $n directly). Lua values bind as
-- NULL (nil), booleans, integers, floats and text; a string that is not UTF-8, or one wrapped
-- with sql.blob(s), binds as binary. PostgreSQL types parameters strictly: text going into a
-- non-text column needs a cast in the SQL (CAST(? AS DECIMAL(12,2)), ?::timestamptz). Rows come back as tables keyed by column name: integers,
-- floats, booleans, strings, byte strings; NULL columns are absent (nil). DECIMAL/NUMERIC are
-- integers when whole and in range, else exact text; dates and times are ISO-style text.
-- Errors raise with the database's message, prefixed by the backend ("mysql: Duplicate ...").
-- opts: pool (most connections, default 4), timeout (seconds to wait for a connection, default 5).

local skynet = require "skynet"
local core = require "skynet.db.sql.core"
local command = require "skynet.db.command"

local await = skynet.await
local result = command.result
local tpack = table.pack
local tunpack = table.unpack

local sql = {}

sql.blob = core.blob

local function wait(session)
	return result(await(session))
end

-- Methods shared by a pool and a transaction (self[1] is the Rust handle).
local function common(class)
	function class:query(text, ...)
		return wait(self[1]:query(text, ...))
	end

	function class:execute(text, ...)
		return wait(self[1]:execute(text, ...))
	end

	-- INSERT returning the new row's `id` column on every backend.
	function class:insert(text, ...)
		if self.kind == "postgres" then
			local rows = wait(self[1]:query(text:gsub("[%s;]+$", "") .. " RETURNING id", ...))
			return rows[1] and rows[1].id
		end
		local _, id = wait(self[1]:execute(text, ...))
		return id
	end

	return { __index = class }
end

local db = {}
local dbmeta = common(db)
local tx = {}
local txmeta = common(tx)

function sql.connect(url, opts)
	local handle, session = core.connect(url, opts)
	wait(session)
	return setmetatable({ handle, kind = handle:kind() }, dbmeta)
end

function db:transaction(fn)
	local handle, session = self[1]:begin()
	wait(session)
	local r = tpack(pcall(fn, setmetatable({ handle, kind = self.kind }, txmeta)))
	if not r[1] then
		-- a failed rollback matters less than the error that caused it
		pcall(wait, handle:finish(false))
		error(r[2], 0)
	end
	wait(handle:finish(true))
	return tunpack(r, 2, r.n)
end

-- Apply pending migrations from `dir` (sqlx format: <version>_<name>.sql); returns how many
-- the folder holds.
function db:migrate(dir)
	return wait(self[1]:migrate(dir))
end

function db:close()
	self[1]:close()
end

return sql
