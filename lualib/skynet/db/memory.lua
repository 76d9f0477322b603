-- skynet.db.memory: the node's in-process store, with the Redis API of skynet.db.redis for the
-- commands it implements (strings, hashes, sets, lists, expiry, KEYS, PUBLISH; see KNOWN in
-- kernel/src/store/memory/mod.rs). Data is shared by every service of the node and lives as
-- long as the process. Replies and error messages are Redis's. Calls answer at once (no
-- yield); only `watch:message()` waits.
--
--   local memory = require "skynet.db.memory"
--   local db = memory.connect{ db = 1 }      -- databases are separate keyspaces, as in Redis
--   db:hset("player_online:1", "fd", 19)
--   local w = memory.watch(); w:subscribe("chat"); local data, channel = w:message()

local skynet = require "skynet"
local core = require "skynet.db.memory.core"
local command = require "skynet.db.command"

local result = command.result
local tunpack = table.unpack

local memory = {}

local conn = {}
local meta = command.meta(function(self, name, ...)
	return result(self[1]:call(name, ...))
end, conn)

function memory.connect(conf)
	return setmetatable({ core.connect(conf and conf.db) }, meta)
end

-- Same contract as skynet.db.redis's pipeline (ops run one after another).
function conn:pipeline(ops, resp)
	assert(type(ops) == "table" and #ops > 0, "pipeline is empty")
	local ok, out
	for _, op in ipairs(ops) do
		ok, out = self[1]:call(op[1], tunpack(op, 2, op.n or #op))
		if resp then
			resp[#resp + 1] = { ok = ok, out = out }
		end
	end
	if resp then
		return resp
	end
	return result(ok, out)
end

function conn:disconnect() end

local watch = {}
local watchmeta = { __index = watch }

function memory.watch()
	return setmetatable({ core.watch() }, watchmeta)
end

local function request(kind)
	return function(self, name, ...)
		if type(name) == "table" then
			return self[1]:request(kind, tunpack(name))
		end
		return self[1]:request(kind, name, ...)
	end
end

watch.subscribe = request "subscribe"
watch.psubscribe = request "psubscribe"
watch.unsubscribe = request "unsubscribe"
watch.punsubscribe = request "punsubscribe"

function watch:message()
	local session, err = self[1]:message()
	if not session then
		error(err, 0)
	end
	return result(skynet.await(session))
end

function watch:disconnect()
	self[1]:disconnect()
end

return memory
