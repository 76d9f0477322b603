-- Tracked business flows: a multi-step operation (a settlement's writes, an account's
-- creation) runs as one flow, so a graceful shutdown (SIGTERM, console `shutdown`) lets it
-- finish before the node exits, and refuses to start new ones.
--
--   local flow = require "skynet.flow"
--   local golds = flow.run("settle", dbhelper.call, "game", "settle", key, rec)
--   local n, by = flow.count()     -- open flows on this node: n, { [address] = { [name] = n } }
--   flow.shutting()                -- true once shutdown (or a freeze) has begun
--   flow.freezing()                -- true when that stop is a freeze
--
-- flow.run returns fn's results; an error in fn propagates unchanged, and the flow is closed
-- either way. Once shutdown has begun it raises "node shutting down" without running fn.
-- A flow is open on the node, whatever service runs it: keep it to the writes themselves
-- (a flow waiting on a player holds the shutdown until shutdown_timeout).

local core = require "skynet.flow.core"

local flow = { SHUTTING_DOWN = "node shutting down" }

local function close(id, ok, ...)
	core.finish(id)
	if not ok then
		error((...), 0)
	end
	return ...
end

function flow.run(name, fn, ...)
	assert(type(name) == "string", "flow.run: name must be a string")
	local id = core.begin(name)
	if not id then
		error(flow.SHUTTING_DOWN, 0)
	end
	return close(id, pcall(fn, ...))
end

flow.count = core.count
flow.shutting = core.shutting
flow.freezing = core.freezing -- the stop is a freeze (the node restarts with --restore)

return flow
