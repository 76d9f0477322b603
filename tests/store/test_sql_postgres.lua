-- The SQL suite on PostgreSQL ($CIRRUS_TEST_POSTGRES_URL, default the local `test` database).
local env = require "env"
require "sql_suite"("postgres", function() return env.postgres_url end)
