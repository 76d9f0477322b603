-- The SQL suite on SQLite (a file under /tmp, removed afterwards).
local env = require "env"
local path
require "sql_suite"("sqlite", function()
	path = string.format("/tmp/cirrus-test-%s.db", env.tag())
	return "sqlite://" .. path
end, function()
	for _, suffix in ipairs { "", "-wal", "-shm" } do
		os.remove(path .. suffix)
	end
end)
