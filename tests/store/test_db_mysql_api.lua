-- skynet.db.mysql (skynet's API) against the local MariaDB/MySQL ($CIRRUS_TEST_MYSQL_URL).
local skynet = require "skynet"
local T = require "testing"
local socketchannel = require "skynet.socketchannel"
local mysql = require "skynet.db.mysql"
local env = require "env"

local db, tbl

T.case("query returns rows, OK packets and error tables", function()
	T.eq(db:query("DROP TABLE IF EXISTS " .. tbl).badresult, nil)
	local r = db:query("CREATE TABLE " .. tbl .. " (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(20))")
	T.eq(r.affected_rows, 0)
	r = db:query("INSERT INTO " .. tbl .. " (name) VALUES ('Bob'), ('Alice')")
	T.eq(r.affected_rows, 2)
	T.ok(r.insert_id >= 1)
	local rows = db:query("SELECT * FROM " .. tbl .. " ORDER BY id ASC")
	T.eq(#rows, 2)
	T.eq(rows[1].name, "Bob")
	T.eq(rows[2].name, "Alice")
	local bad = db:query "SELECT * FROM no_such_table_here"
	T.eq(bad.badresult, true)
	T.eq(bad.errno, 1146)
	T.eq(bad.sqlstate, "42S02")
	T.ok(bad.err:find "no_such_table_here", bad.err)
end)

T.case("prepare and execute bind parameters", function()
	local stmt = db:prepare("SELECT * FROM " .. tbl .. " WHERE name = ?")
	T.eq(stmt.param_count, 1)
	local rows = db:execute(stmt, "Alice")
	T.eq(#rows, 1)
	T.eq(rows[1].name, "Alice")
	db:stmt_close(stmt)
	T.eq(mysql.quote_sql_str "it's", "'it\\'s'")
	T.eq(db:query("SELECT " .. mysql.quote_sql_str "a'b\\c" .. " AS v")[1].v, "a'b\\c")
	db:query("DROP TABLE " .. tbl)
end)

T.case("a refused login or an unreachable server fails as skynet's driver does", function()
	local user, _, host, port, database = env.mysql_url:match "^mysql://([^:@]+):?([^@]*)@([^:/]+):?(%d*)/(.*)$"
	local ok, err = pcall(mysql.connect, {
		host = host, port = tonumber(port) or 3306, database = database, user = user,
		password = "surely-not-the-password-" .. env.tag(),
	})
	T.eq(ok, false)
	T.eq(err, socketchannel.error, "raises socketchannel.error")
	T.eq(tostring(err), "[Error: socket]")
	-- nothing listens on port 1
	ok, err = pcall(mysql.connect, { host = "127.0.0.1", port = 1, database = database, user = user })
	T.eq(ok, false)
	T.eq(err, socketchannel.error)
end)

T.start(function()
	local user, pass, host, port, database = env.mysql_url:match "^mysql://([^:@]+):?([^@]*)@([^:/]+):?(%d*)/(.*)$"
	tbl = "skynet_api_" .. env.tag()
	local connected = false
	db = mysql.connect {
		host = host, port = tonumber(port) or 3306, database = database, user = user, password = pass,
		on_connect = function() connected = true end,
	}
	assert(connected, "on_connect ran")
end)
