-- The SQL suite on MariaDB/MySQL ($CIRRUS_TEST_MYSQL_URL, default the local `test` database).
local env = require "env"
require "sql_suite"("mysql", function() return env.mysql_url end)
