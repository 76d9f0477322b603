-- A node for the graceful shutdown tests (kernel/tests/lifecycle.rs). It runs one flow with
-- two SQL writes and a pause between them (`flow_pause`, centiseconds), printing
-- "FLOW BETWEEN WRITES" in the pause, and registers an onshutdown hook that writes a row.
-- Once shutdown has begun it tries a new flow, which must be refused without running.
-- The harness sends SIGTERM during the pause and checks the rows in `flow_db`.

local skynet = require "skynet"
local sql = require "skynet.db.sql"
local flow = require "skynet.flow"

local PAUSE = tonumber(skynet.getenv "flow_pause") or 100

skynet.start(function()
	local db = sql.connect("sqlite://" .. skynet.getenv "flow_db")
	db:execute "CREATE TABLE IF NOT EXISTS steps (id INTEGER PRIMARY KEY, step TEXT NOT NULL)"
	local function write(step)
		db:execute("INSERT INTO steps (step) VALUES (?)", step)
	end
	skynet.onshutdown(function()
		-- after every flow: the SQL pool is still open here
		local n = db:query("SELECT COUNT(*) AS n FROM steps")[1].n
		write("hook after " .. n .. " steps")
		skynet.error("ONSHUTDOWN HOOK RAN")
	end)
	-- errors propagate and close the flow
	local ok, err = pcall(flow.run, "failing", function()
		error({ code = 7 })
	end)
	assert(not ok and type(err) == "table" and err.code == 7, "flow.run propagates the error value")
	local a, b = flow.run("echo", function(x, y)
		return x, y
	end, 1, 2)
	assert(a == 1 and b == 2, "flow.run returns fn's results")
	assert(flow.count() == 0, "no flow left open")
	skynet.fork(function()
		flow.run("two_writes", function()
			write "a"
			local n, by = flow.count()
			skynet.error(string.format("FLOW BETWEEN WRITES open=%d mine=%d", n,
				by[skynet.address(skynet.self())].two_writes))
			skynet.sleep(PAUSE)
			write "b"
		end)
		skynet.error "FLOW DONE"
	end)
	skynet.fork(function()
		while not flow.shutting() do
			skynet.sleep(1)
		end
		local ran = false
		local ok2, err2 = pcall(flow.run, "late", function()
			ran = true
			write "late"
		end)
		skynet.error(string.format("LATE FLOW ok=%s ran=%s err=%s", tostring(ok2), tostring(ran), tostring(err2)))
	end)
	skynet.error "FLOWS NODE READY"
end)
