-- skynet.db.redis.cluster against the local Redis Cluster (127.0.0.1:7000-7005, 3 masters and
-- 3 replicas, as tests/ensure_services.sh starts it): keys land on the node owning their slot
-- (checked on direct connections to each master), a stale slot map is corrected by MOVED, a
-- slot being migrated answers ASK and a resharded slot MOVED, dead seeds are skipped, pub/sub
-- reaches the callback, bad input raises clear errors. Keys carry a per-run prefix.

local skynet = require "skynet"
local T = require "testing"
local redis = require "skynet.db.redis"
local rediscluster = require "skynet.db.redis.cluster"
local env = require "env"

local SEEDS = { { host = "127.0.0.1", port = 7000 }, { host = "127.0.0.1", port = 7001 } }
local P -- key prefix
local db
local direct = {} -- "127.0.0.1:port" -> direct connection to that master
local owner_of = {} -- slot -> "127.0.0.1:port" of its master, from CLUSTER SLOTS
local id_of = {} -- "127.0.0.1:port" -> node id
local messages = {}

local function load_slot_owners()
	local probe = redis.connect { host = "127.0.0.1", port = 7000 }
	owner_of = {}
	for _, range in ipairs(probe:cluster("slots")) do
		local name = range[3][1] .. ":" .. range[3][2]
		id_of[name] = range[3][3]
		for slot = range[1], range[2] do
			owner_of[slot] = name
		end
	end
	probe:disconnect()
end

local function master_conn(name)
	local c = direct[name]
	if not c then
		local host, port = name:match("^(.+):(%d+)$")
		c = redis.connect { host = host, port = tonumber(port) }
		direct[name] = c
	end
	return c
end

-- Does master `name` hold `key`? (KEYS is answered by every node for its own keys; a key
-- command would be redirected to the owner.)
local function holds(name, key)
	return #master_conn(name):keys(key) == 1
end

T.case("the client's key slots are Redis's", function()
	local probe = master_conn(owner_of[0])
	for _, key in ipairs { "foo", "{foo}bar", "a{}b", "{}x{y}", "{user1000}.following", P .. "x", "" } do
		T.eq(db:keyslot(key), probe:cluster("keyslot", key), key)
	end
	T.eq(db:keyslot("{user1000}.following"), db:keyslot("{user1000}.followers"))
end)

T.case("keys spread across slots land on the master owning each slot", function()
	local per_node = {}
	for i = 1, 60 do
		local key = P .. "spread:" .. i
		T.eq(db:set(key, i), "OK")
		local slot = db:keyslot(key)
		local owner = owner_of[slot]
		per_node[owner] = (per_node[owner] or 0) + 1
		for name in pairs(id_of) do
			T.eq(holds(name, key), name == owner, key .. " on " .. name)
		end
		T.eq(master_conn(owner):get(key), tostring(i))
		T.eq(db:get(key), tostring(i))
	end
	local masters = 0
	for name, n in pairs(per_node) do
		masters = masters + 1
		T.ok(n > 0, name)
	end
	T.eq(masters, 3, "60 keys reach all three masters")
end)

T.case("a stale slot map is corrected by MOVED", function()
	local key = P .. "stale"
	local slot = db:keyslot(key)
	local right = owner_of[slot]
	local wrong
	for name in pairs(id_of) do
		if name ~= right then
			wrong = name
		end
	end
	-- every slot points at the wrong master, as a map from before a resharding would
	local host, port = wrong:match("^(.+):(%d+)$")
	local stale = { host = host, port = tonumber(port), name = wrong, slaves = {} }
	for s = 0, 16383 do
		db.slots[s] = stale
	end
	T.eq(db:set(key, "v"), "OK")
	T.eq(db.slots[slot].name, right, "MOVED taught the slot's owner")
	T.eq(db.refresh_table_asap, true, "and asked for a fresh map")
	T.eq(master_conn(right):get(key), "v")
	T.eq(holds(wrong, key), false)
	T.eq(db:get(key), "v")
	T.eq(db.refresh_table_asap, false, "the map was reloaded")
	T.eq(db.slots[0].name, owner_of[0])
	T.eq(db.slots[16383].name, owner_of[16383])
	-- a flushed map: random masters, then MOVED
	db:flush_slots_cache()
	for _ = 1, 5 do
		T.eq(db:get(key), "v")
	end
end)

-- Move `slot` (empty) to `to` on every master: the target first, as redis-cli does.
local function assign(slot, to)
	T.eq(master_conn(to):cluster("setslot", slot, "node", id_of[to]), "OK")
	for name in pairs(id_of) do
		if name ~= to then
			T.eq(master_conn(name):cluster("setslot", slot, "node", id_of[to]), "OK")
		end
	end
end

local resharded -- { slot, from, to } while a slot is away from its owner

T.case("a slot being migrated answers ASK, a resharded one MOVED", function()
	local key = P .. "{reshard}k"
	local slot = db:keyslot(key)
	local from = owner_of[slot]
	local to
	for name in pairs(id_of) do
		if name ~= from then
			to = name
			break
		end
	end
	T.eq(master_conn(from):cluster("countkeysinslot", slot), 0, "the slot starts empty")
	resharded = { slot = slot, from = from, to = to }
	T.eq(master_conn(to):cluster("setslot", slot, "importing", id_of[from]), "OK")
	T.eq(master_conn(from):cluster("setslot", slot, "migrating", id_of[to]), "OK")
	-- the key is not on `from`, so `from` answers ASK and the client asks `to` behind ASKING
	T.eq(db:set(key, "asked"), "OK")
	T.eq(db.slots[slot].name, from, "ASK leaves the map alone")
	T.raises(function() master_conn(to):get(key) end, "MOVED")
	T.eq(master_conn(to):pipeline({ { "asking" }, { "get", key } }), "asked", "the key is on the importing node")
	T.eq(holds(from, key), false)
	T.eq(db:get(key), "asked")
	-- the migration ends: `to` owns the slot, and the client's map (still `from`) gets MOVED
	assign(slot, to)
	T.eq(db:get(key), "asked")
	T.eq(db.slots[slot].name, to, "MOVED taught the new owner")
	T.eq(db:set(key, "moved"), "OK")
	T.eq(master_conn(to):get(key), "moved")
end)

T.case("cleanup of the reshard", function()
	if resharded then
		local slot, from, to = resharded.slot, resharded.from, resharded.to
		-- wherever the migration stopped, the key is on `to`: reach it behind ASKING (making
		-- `to` importing again if it is not the owner), then give the slot back to `from`
		pcall(master_conn(to).cluster, master_conn(to), "setslot", slot, "importing", id_of[from])
		master_conn(to):pipeline({ { "asking" }, { "del", P .. "{reshard}k" } })
		assign(slot, from)
		resharded = nil
		T.eq(master_conn(to):cluster("countkeysinslot", slot), 0)
	end
end)

T.case("dead seeds are skipped", function()
	local c = rediscluster.new({ { host = "127.0.0.1", port = 1 }, { host = "127.0.0.1", port = 7002 } })
	T.ok(next(c.slots) ~= nil, "the slot map came from the live seed")
	T.eq(c.slots[0].name, owner_of[0])
	T.eq(c:set(P .. "dead", 1), "OK")
	T.eq(c:get(P .. "dead"), "1")
	c:close()
	local none = rediscluster.new({ { host = "127.0.0.1", port = 1 }, { host = "127.0.0.1", port = 2 } })
	T.raises(function() none:get("x") end, "Can't reach a single startup node")
	none:close()
end)

T.case("pub/sub messages reach the callback", function()
	local chan = P .. "chan"
	db:subscribe(chan)
	db:psubscribe("{" .. chan .. "}*")
	T.eq(db:publish(chan, "hello"), 1)
	T.eq(db:publish("{" .. chan .. "}x", "pattern"), 1)
	env.eventually(function() return #messages >= 2 end, 5, "two messages")
	table.sort(messages, function(a, b) return a[1] < b[1] end)
	T.same(messages[1], { "hello", chan })
	T.same(messages[2], { "pattern", "{" .. chan .. "}x", "{" .. chan .. "}*" })
end)

T.case("eval, pipelines on one node's connection, and bad input", function()
	local k1, k2 = P .. "{e}1", P .. "{e}2"
	T.eq(db:eval("redis.call('set', KEYS[1], ARGV[1]); return redis.call('get', KEYS[2])", 2, k1, k2, "x"), nil)
	T.eq(db:get(k1), "x")
	T.raises(function() db:eval("return 1", 2, P .. "a", P .. "b") end, "all keys must map to the same key slot")
	local conn = db:get_connection_by_slot(db:keyslot(k1))
	local r = conn:pipeline({ { "set", k2, "y" }, { "get", k2 } }, {})
	T.same(r, { { ok = true, out = "OK" }, { ok = true, out = "y" } })
	T.raises(function() db:info() end, "No way to dispatch this command to Redis Cluster: info")
	T.raises(function() db:get({}) end, "can't route get by a table argument")
	T.raises(function() db:hgetall(P .. "missing" .. "x", "extra") end, "ERR")
	T.raises(function() rediscluster.new("127.0.0.1:7000") end, "startup nodes must be a table")
	T.raises(function() rediscluster.new({ { host = "127.0.0.1" } }) end, "integer port")
	T.raises(function() db:keyslot(nil) end, "a key must be a string")
end)

T.case("cleanup", function()
	for name, c in pairs(direct) do
		local left = c:keys(P .. "*")
		if #left > 0 then
			-- one DEL per key: a multi-key DEL must stay within one slot
			for _, k in ipairs(left) do
				c:del(k)
			end
		end
		T.same(c:keys(P .. "*"), {}, name)
	end
	db:close()
	T.eq(next(db.connections), nil)
end)

T.start(function()
	P = "cirrus:test:" .. env.tag() .. ":"
	load_slot_owners()
	db = rediscluster.new(SEEDS, { read_slave = true, db = 0 }, function(data, channel, pattern)
		messages[#messages + 1] = { data, channel, pattern }
	end)
end)
