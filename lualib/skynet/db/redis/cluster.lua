-- skynet.db.redis.cluster: a Redis Cluster client with skynet's API, over skynet.db.redis.
--
--   local rediscluster = require "skynet.db.redis.cluster"
--   local db = rediscluster.new({ { host = "127.0.0.1", port = 7000 }, { host = "127.0.0.1", port = 7001 } },
--       { read_slave = true, auth = nil, db = 0, max_connections = 256 },
--       function(data, channel, pattern) ... end)      -- pub/sub messages (optional)
--   db:set("k", 1); db:get("k")          -- any command is a method, routed by the key's slot
--   db:eval(script, 1, "k", 1)           -- EVAL/EVALSHA: all keys must share one slot
--   db:subscribe("chan"); db:psubscribe("p*")   -- messages go to the callback
--   local conn = db:get_connection_by_slot(db:keyslot("{tag}"))
--   conn:pipeline({ { "set", "{tag}a", 1 }, { "get", "{tag}a" } }, {})  -- one node's connection
--   db:close()                           -- all connections and subscriptions
--
-- Routing: a command goes to the master owning the CRC16 hash slot of its first argument (only
-- the part inside the first non-empty {...} counts). The slot map comes from CLUSTER SLOTS of
-- the first startup node that answers (dead seeds are skipped). A MOVED reply retries on the
-- named node, remembers it for that slot and reloads the whole map before the next command; an
-- ASK reply retries once on the named node behind ASKING. A node that can't be reached is
-- replaced by a random reachable master (whose MOVED then leads the way); with read_slave a
-- replica of the slot's master is tried first, in READONLY mode. At most 16 attempts per call.
-- Connections are cached by "host:port" in db.connections; errors raise with Redis's message.

local skynet = require "skynet"
local redis = require "skynet.db.redis"
local socketchannel = require "skynet.socketchannel"
local crc16 = require "skynet.db.redis.crc16"

local HASH_SLOTS = 16384
local REQUEST_TTL = 16

local tpack, tunpack = table.pack, table.unpack
local find, sub, lower, format = string.find, string.sub, string.lower, string.format

local M = {}

local rediscluster = {}

local function nodename(node)
	return format("%s:%d", node.host, node.port)
end

local function check_node(node, what)
	if type(node) ~= "table" then
		error(format("rediscluster: %s must be a { host = ..., port = ... } table, got %s", what, type(node)), 3)
	end
	if type(node.host) ~= "string" or math.type(tonumber(node.port)) ~= "integer" then
		error(format("rediscluster: %s needs a string host and an integer port", what), 3)
	end
	return { host = node.host, port = math.tointeger(tonumber(node.port)) }
end

function M.new(startup_nodes, opt, onmessage)
	if type(startup_nodes) ~= "table" then
		error("rediscluster.new: startup nodes must be a table, got " .. type(startup_nodes), 2)
	end
	if #startup_nodes == 0 then
		startup_nodes = { startup_nodes } -- a single { host =, port = }
	end
	local seeds = {}
	for i, node in ipairs(startup_nodes) do
		seeds[i] = check_node(node, "startup node #" .. i)
	end
	if opt ~= nil and type(opt) ~= "table" then
		error("rediscluster.new: opt must be a table, got " .. type(opt), 2)
	end
	if onmessage ~= nil and type(onmessage) ~= "function" then
		error("rediscluster.new: onmessage must be a function, got " .. type(onmessage), 2)
	end
	opt = opt or {}
	local self = setmetatable({
		startup_nodes = seeds,
		max_connections = opt.max_connections or 256,
		connections = {}, -- "host:port" -> redis connection
		opt = opt,
		slots = {}, -- slot -> master node
		nodes = {}, -- masters, each with .slaves
		refresh_table_asap = false,
		__onmessage = onmessage,
		__watching = {}, -- "host:port" -> redis watch
		__connecting = {}, -- "host:port" -> coroutines waiting for a connect in progress
	}, rediscluster)
	self:initialize_slots_cache()
	return self
end

function rediscluster:get_redis_link(node)
	return redis.connect {
		host = node.host,
		port = node.port,
		auth = self.opt.auth,
		user = self.opt.user or self.opt.username,
		db = self.opt.db or 0,
	}
end

function rediscluster:set_node_name(node)
	node.name = node.name or nodename(node)
	return node.name
end

-- Run `open()` once per name at a time: coroutines asking meanwhile wait for its outcome.
local function single_flight(self, name, open)
	local waiting = self.__connecting[name]
	if waiting then
		local co = coroutine.running()
		waiting[#waiting + 1] = co
		skynet.wait(co)
		return
	end
	waiting = {}
	self.__connecting[name] = waiting
	local ok, err = pcall(open)
	self.__connecting[name] = nil
	for _, co in ipairs(waiting) do
		skynet.wakeup(co)
	end
	if not ok then
		error(err, 0)
	end
end

-- Fill the slot map from the first startup node (then any known master) that answers.
function rediscluster:initialize_slots_cache()
	local tried, errors = {}, {}
	local candidates = {}
	for _, n in ipairs(self.startup_nodes) do
		candidates[#candidates + 1] = n
	end
	for _, n in ipairs(self.nodes) do
		candidates[#candidates + 1] = n
	end
	for _, node in ipairs(candidates) do
		local name = self:set_node_name(node)
		if not tried[name] then
			tried[name] = true
			local ok, err = pcall(function()
				local list = self:get_connection(node):cluster("slots")
				local slots, nodes, known = {}, {}, {}
				for _, range in ipairs(list) do
					local first, last = tonumber(range[1]), tonumber(range[2])
					local master = range[3]
					assert(first and last and type(master) == "table", "malformed CLUSTER SLOTS reply")
					local mname = format("%s:%d", master[1], tonumber(master[2]))
					local m = known[mname]
					if not m then
						m = { host = master[1], port = math.tointeger(tonumber(master[2])), name = mname, slaves = {} }
						for i = 4, #range do
							local r = range[i]
							local s = { host = r[1], port = math.tointeger(tonumber(r[2])) }
							self:set_node_name(s)
							m.slaves[#m.slaves + 1] = s
						end
						known[mname] = m
						nodes[#nodes + 1] = m
					end
					for slot = first, last do
						slots[slot] = m
					end
				end
				self.slots, self.nodes = slots, nodes
				self.refresh_table_asap = false
			end)
			if ok then
				return true
			end
			errors[#errors + 1] = name .. ": " .. tostring(err)
		end
	end
	self.__slots_error = table.concat(errors, "; ")
	return false
end

-- Forget the slot map: the next commands go to random masters and follow their MOVED replies.
function rediscluster:flush_slots_cache()
	self.slots = {}
end

function rediscluster:keyslot(key)
	local t = type(key)
	if t == "number" then
		key = tostring(key)
	elseif t ~= "string" then
		error("rediscluster: a key must be a string, got " .. t, 2)
	end
	local open = find(key, "{", 1, true)
	if open then
		local close = find(key, "}", open + 1, true)
		if close and close > open + 1 then
			key = sub(key, open + 1, close - 1)
		end
	end
	return crc16(key) % HASH_SLOTS
end

local UNROUTABLE = {
	info = true, multi = true, exec = true, slaveof = true, config = true, shutdown = true,
}

-- The key a command is routed by: its first argument (for EVAL/EVALSHA the first key, after
-- checking all keys share a slot); nil for commands that make no sense on one node.
function rediscluster:get_key_from_command(cmd, argv)
	if UNROUTABLE[cmd] then
		return nil
	end
	if cmd == "eval" or cmd == "evalsha" then
		local numkeys = tonumber(argv[3])
		if not numkeys or numkeys < 0 then
			error(format("%s: numkeys must be a non-negative number, got %s", cmd, tostring(argv[3])), 3)
		end
		local slot
		for i = 4, 3 + numkeys do
			local s = self:keyslot(argv[i])
			if slot and s ~= slot then
				error(format("%s - all keys must map to the same key slot", cmd), 3)
			end
			slot = s
		end
		return argv[4]
	end
	return argv[2]
end

-- Keep at most max_connections connections: drop one to make room for a new one.
function rediscluster:close_existing_connection()
	local n = 0
	for _ in pairs(self.connections) do
		n = n + 1
	end
	if n >= self.max_connections then
		local name, conn = next(self.connections)
		self.connections[name] = nil
		pcall(conn.disconnect, conn)
	end
end

function rediscluster:close_all_connection()
	local connections = self.connections
	self.connections = {}
	for _, conn in pairs(connections) do
		pcall(conn.disconnect, conn)
	end
end

-- All connections and subscriptions; the object can be used again (it reconnects on demand).
function rediscluster:close()
	self:close_all_connection()
	local watching = self.__watching
	self.__watching = {}
	for _, w in pairs(watching) do
		pcall(w.disconnect, w)
	end
end

-- The cached connection to `node`, connecting first if needed (raises if it can't).
function rediscluster:get_connection(node)
	local name = self:set_node_name(node)
	local conn = self.connections[name]
	if conn then
		return conn
	end
	single_flight(self, name, function()
		if not self.connections[name] then
			self:close_existing_connection()
			self.connections[name] = self:get_redis_link(node)
		end
	end)
	conn = self.connections[name]
	if not conn then
		-- another coroutine's connect failed: try ourselves, raising its error
		self:close_existing_connection()
		conn = self:get_redis_link(node)
		self.connections[name] = conn
	end
	return conn
end

-- A connection to a random master that answers PING (startup nodes when no map is known).
function rediscluster:get_random_connection()
	local pool = {}
	for i, n in ipairs(#self.nodes > 0 and self.nodes or self.startup_nodes) do
		pool[i] = n
	end
	for i = #pool, 2, -1 do
		local j = math.random(1, i)
		pool[i], pool[j] = pool[j], pool[i]
	end
	local errors = {}
	for _, node in ipairs(pool) do
		local ok, conn = pcall(function()
			local conn = self:get_connection(node)
			local pong = conn:ping()
			if pong ~= "PONG" then
				self.connections[node.name] = nil
				pcall(conn.disconnect, conn)
				error("PING answered " .. tostring(pong))
			end
			return conn
		end)
		if ok then
			return conn
		end
		errors[#errors + 1] = node.name .. ": " .. tostring(conn)
	end
	error("Can't reach a single startup node. (" .. table.concat(errors, "; ") .. ")", 0)
end

-- The connection to the master owning `slot` (a replica with read_slave if the master is down,
-- a random master if the slot's owner is unknown).
function rediscluster:get_connection_by_slot(slot)
	local node = self.slots[slot]
	if not node then
		return self:get_random_connection()
	end
	local ok, conn = pcall(self.get_connection, self, node)
	if ok then
		return conn
	end
	if self.opt.read_slave and node.slaves and #node.slaves > 0 then
		local replica = node.slaves[math.random(1, #node.slaves)]
		local ok2, rconn = pcall(self.get_connection, self, replica)
		if ok2 and pcall(rconn.readonly, rconn) then
			return rconn
		end
	end
	return self:get_random_connection()
end

-- Is `err` a failure to talk to the node at all (as opposed to a reply from it)?
local function transport_error(err)
	if err == socketchannel.error then
		return true
	end
	-- skynet.db.redis words a lost or down link as "redis host:port/db ..."
	return type(err) == "string" and find(err, "^redis [^ ]+:%d+/%-?%d+") ~= nil
end

local SUBSCRIBE = { subscribe = true, unsubscribe = true, psubscribe = true, punsubscribe = true }

function rediscluster:call(...)
	local argv = tpack(...)
	local cmd = lower(argv[1])
	local key = self:get_key_from_command(cmd, argv)
	if key == nil then
		error("No way to dispatch this command to Redis Cluster: " .. tostring(argv[1]), 2)
	end
	local kt = type(key)
	if kt ~= "string" and kt ~= "number" then
		error(format("rediscluster: can't route %s by a %s argument (send it on one node's connection: "
			.. "db:get_connection_by_slot(db:keyslot(key)))", cmd, kt), 2)
	end
	if SUBSCRIBE[cmd] then
		local w = self:get_watch_connection_by_slot(self:keyslot(key))
		return w[cmd](w, tunpack(argv, 2, argv.n))
	end
	if self.refresh_table_asap then
		self:initialize_slots_cache()
	end
	local slot = self:keyslot(key)
	local ttl = REQUEST_TTL
	local asking, try_random = nil, false
	local last
	while ttl > 0 do
		ttl = ttl - 1
		local ok, r
		if asking then
			local node = asking
			asking = nil
			ok, r = pcall(function()
				local conn = self:get_connection(node)
				return tpack(conn:pipeline({ { "asking" }, { tunpack(argv, 1, argv.n) } }))
			end)
		else
			ok, r = pcall(function()
				local conn
				if try_random then
					conn = self:get_random_connection()
				else
					conn = self:get_connection_by_slot(slot)
				end
				return tpack(conn[cmd](conn, tunpack(argv, 2, argv.n)))
			end)
		end
		try_random = false
		if ok then
			return tunpack(r, 1, r.n)
		end
		last = r
		if transport_error(r) then
			try_random = true
			self.refresh_table_asap = true
			if ttl < REQUEST_TTL / 2 then
				skynet.sleep(10)
			end
		else
			local text = tostring(r)
			local kind, rslot, addr = text:match("^(%u+) (%d+) (%S+)$")
			if kind ~= "MOVED" and kind ~= "ASK" then
				error(r, 0)
			end
			local host, port = addr:match("^(.+):(%d+)$")
			if not host then
				error(r, 0)
			end
			local node = { host = host, port = math.tointeger(tonumber(port)) }
			self:set_node_name(node)
			if kind == "ASK" then
				asking = node
			else
				rslot = tonumber(rslot)
				local old = self.slots[rslot]
				if old and old.name == node.name then
					node = old
				else
					node.slaves = old and old.slaves or {}
				end
				self.slots[rslot] = node
				self.refresh_table_asap = true
			end
		end
	end
	error(format("Too many Cluster redirections?,maybe node is disconnected (last error: %q)", tostring(last)), 2)
end

function rediscluster:get_watch_connection_by_slot(slot)
	if not self.slots[slot] then
		self:initialize_slots_cache()
	end
	local node = self.slots[slot]
	if not node then
		error("rediscluster: no node is known for slot " .. slot .. " (" .. tostring(self.__slots_error) .. ")", 2)
	end
	return self:get_watch_connection(node)
end

-- Read one node's subscription messages into the callback until the watch is closed.
local function pump(self, name, w)
	local onmessage = self.__onmessage
	while self.__watching[name] == w do
		local ok, data, channel, pattern = pcall(w.message, w)
		if ok then
			if data ~= nil and onmessage then
				local ok2, err = pcall(onmessage, data, channel, pattern)
				if not ok2 then
					skynet.error("rediscluster onmessage: " .. tostring(err))
				end
			end
		elseif self.__watching[name] == w then
			-- the link is down and redialing (it resubscribes by itself): don't spin
			skynet.sleep(10)
		end
	end
end

function rediscluster:get_watch_connection(node)
	local name = self:set_node_name(node)
	if not self.__watching[name] then
		single_flight(self, "watch " .. name, function()
			if self.__watching[name] then
				return
			end
			local w = redis.watch {
				host = node.host,
				port = node.port,
				auth = self.opt.auth,
				user = self.opt.user or self.opt.username,
				db = self.opt.db or 0,
			}
			self.__watching[name] = w
			skynet.fork(pump, self, name, w)
		end)
	end
	return assert(self.__watching[name], "rediscluster: could not subscribe on " .. name)
end

-- Any other method is a command: db:set(k, v) is db:call("set", k, v).
rediscluster.__index = function(_, cmd)
	local f = rawget(rediscluster, cmd)
	if f then
		return f
	end
	if type(cmd) ~= "string" then
		return nil
	end
	f = function(self, ...)
		return self:call(cmd, ...)
	end
	rediscluster[cmd] = f
	return f
end

return M
