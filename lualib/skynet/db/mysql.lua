-- skynet.db.mysql: skynet's MySQL client API, over skynet.db.sql (sqlx, one connection).
--   local db = mysql.connect { host = "127.0.0.1", port = 3306, database = "test",
--       user = "root", password = "", on_connect = function(db) ... end }
--   db:query "SELECT * FROM cats"   --> { { id = 1, name = "Bob" }, ... }
--   db:query "INSERT ..."           --> { affected_rows = 1, insert_id = 7, server_status = 2,
--                                         warning_count = 0 }
--   an error                        --> { badresult = true, errno = 1146, err = "...",
--                                         sqlstate = "42S02" }
--   local stmt = db:prepare "SELECT * FROM cats WHERE name = ?"; db:execute(stmt, "Bob")
--   db:stmt_close(stmt); db:disconnect(); mysql.quote_sql_str(s)
-- Unlike skynet's client, one query runs one statement (no multi-result sets).
local sql = require "skynet.db.sql"
local skynet = require "skynet"
local socketchannel = require "skynet.socketchannel"

local mysql = {}

local function urlencode(s)
	return (tostring(s):gsub("[^%w%-%._~]", function(c)
		return string.format("%%%02X", c:byte())
	end))
end

local ROWS = { select = true, show = true, describe = true, desc = true, explain = true, with = true, call = true }

local function returns_rows(text)
	local word = text:match "^%s*%(?%s*(%a+)"
	return word and ROWS[word:lower()]
end

-- skynet's error table from a skynet.db.sql error ("mysql: msg (errno N, code S)")
local function badresult(err)
	err = tostring(err):gsub("^mysql: ", "")
	local msg, errno, state = err:match "^(.-) %(errno (%d+), code (%w+)%)$"
	return {
		badresult = true,
		err = msg or err,
		errno = tonumber(errno),
		sqlstate = state,
	}
end

local db_meta = {}
db_meta.__index = db_meta

local function run(self, text, ...)
	if returns_rows(text) then
		local ok, rows = pcall(self.pool.query, self.pool, text, ...)
		if not ok then
			return badresult(rows)
		end
		return rows
	end
	local ok, affected, id = pcall(self.pool.execute, self.pool, text, ...)
	if not ok then
		return badresult(affected)
	end
	return { affected_rows = affected, insert_id = id or 0, server_status = 2, warning_count = 0 }
end

function db_meta:query(text)
	return run(self, text)
end

function db_meta:prepare(text)
	local _, params = text:gsub("%?", "")
	return { prepare_id = text, param_count = params, field_count = 0, warning_count = 0 }
end

function db_meta:execute(stmt, ...)
	if type(stmt) ~= "table" or not stmt.prepare_id then
		return badresult("invalid prepared statement")
	end
	return run(self, stmt.prepare_id, ...)
end

function db_meta:stmt_close()
end

function db_meta:ping()
	return run(self, "SELECT 1") ~= nil
end

function db_meta:disconnect()
	self.pool:close()
end

-- The server refused the login: raised here, so the message carries this file's position
-- as the one skynet's driver logs does.
local function refused(errno, msg, sqlstate)
	error(string.format("errno:%s, msg:%s,sqlstate:%s", errno, msg, sqlstate))
end

-- A first connection that failed, told as skynet's driver (over its socketchannel) tells it:
-- `socket: auth failed <why>` for a refused login, then `Connect failed <why> host port`, and
-- socketchannel.error raised ("[Error: socket]"). The full reason is the log line.
local function connect_failed(opts, err)
	err = tostring(err)
	local host, port = opts.host or "127.0.0.1", opts.port or 3306
	local msg, errno, sqlstate = err:match("^mysql: (.-) %(errno (%d+), code (%w+)%)")
	local why
	if msg then
		local _, e = pcall(refused, errno, msg, sqlstate)
		skynet.error("socket: auth failed " .. tostring(e))
		why = "no more backup host"
	else
		why = err:match("error communicating with database: (.-) %(os error")
			or err:gsub("^mysql: ", ""):gsub(" %(connecting to .*%)$", "")
	end
	skynet.error("Connect failed", why, host, port)
	error(socketchannel.error)
end

function mysql.connect(opts)
	local auth = urlencode(opts.user or "root")
	if opts.password and opts.password ~= "" then
		auth = auth .. ":" .. urlencode(opts.password)
	end
	local url = string.format("mysql://%s@%s:%d/%s", auth, opts.host or "127.0.0.1", opts.port or 3306,
		urlencode(opts.database or ""))
	local ok, pool = pcall(sql.connect, url, { pool = 1 })
	if not ok then
		connect_failed(opts, pool)
	end
	local self = setmetatable({ pool = pool }, db_meta)
	if opts.on_connect then
		opts.on_connect(self)
	end
	return self
end

local escapes = {
	["\0"] = "\\0", ["\b"] = "\\b", ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t",
	["\26"] = "\\Z", ["\\"] = "\\\\", ["'"] = "\\'", ['"'] = '\\"',
}

function mysql.quote_sql_str(s)
	return "'" .. s:gsub("[%z\b\n\r\t\26\\'\"]", escapes) .. "'"
end

return mysql
