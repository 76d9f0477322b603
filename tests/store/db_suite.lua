-- The db service (service/db) on one backend: a fresh database gets the migrations applied at
-- start, a restart finds them applied, and the account / player / role modules work through
-- lualib/dbhelper.lua with the same typed rows on every backend.

local skynet = require "skynet"
local T = require "testing"
local sql = require "skynet.db.sql"
local dbhelper = require "dbhelper"
local env = require "env"

-- Make an empty database for this run; returns its URL and a function that drops it.
local function fresh(kind)
	local name = "cirrus_t_" .. env.tag()
	if kind == "sqlite" then
		local path = "/tmp/" .. name .. ".db"
		return "sqlite://" .. path, function()
			for _, suffix in ipairs { "", "-wal", "-shm" } do
				os.remove(path .. suffix)
			end
		end
	end
	local admin_url = kind == "mysql" and env.mysql_url or env.postgres_url
	local admin = sql.connect(admin_url, { pool = 1 })
	admin:execute("CREATE DATABASE " .. name)
	local url = admin_url:gsub("/[%w_]*$", "/" .. name, 1)
	return url, function()
		if kind == "mysql" then
			admin:execute("DROP DATABASE " .. name)
		else
			admin:execute("DROP DATABASE " .. name .. " WITH (FORCE)")
		end
		admin:close()
	end
end

return function(kind)
	local url, drop, db, name
	local tag = env.tag()

	T.case("migrations are applied at start", function()
		local check = sql.connect(url, { pool = 1 })
		local rows = check:query "SELECT version FROM _sqlx_migrations ORDER BY version"
		T.same(rows, { { version = 1 }, { version = 2 }, { version = 3 }, { version = 4 } })
		for _, t in ipairs { "accounts", "players", "roles" } do
			T.same(check:query("SELECT COUNT(*) AS n FROM " .. t), { { n = 0 } })
		end
		check:close()
	end)

	T.case("a restart finds the schema up to date", function()
		local again = skynet.newservice("db", "master", name .. "_again", url)
		T.eq(#skynet.call(again, "lua", "workers"), 4)
	end)

	local acct, player

	T.case("accounts", function()
		local hash, salt = "\1\2\3\0hash", "salt\255"
		acct = db:call("account", "create", "ann" .. tag, hash, salt)
		T.eq(math.type(acct.id), "integer")
		T.eq(acct.name, "ann" .. tag)
		T.eq(acct.password_hash, hash)
		T.eq(acct.salt, salt)
		T.eq(acct.visitor, false)
		T.eq(math.type(acct.created_at), "integer")
		T.eq(acct.last_login, nil)
		local dup, err = db:call("account", "create", "ann" .. tag, "x", "y")
		T.eq(dup, nil)
		T.eq(err, "exists")
		T.same(db:call("account", "get_by_name", "ann" .. tag), acct)
		T.eq(db:call("account", "touch_login", acct.id, 1700000000), true)
		T.eq(db:call("account", "get", acct.id).last_login, 1700000000)
		local guest = db:call("account", "create", "guest" .. tag, nil, nil, true)
		T.eq(guest.visitor, true)
		T.eq(guest.password_hash, nil)
		T.eq(db:call("account", "get_by_name", "nobody" .. tag), nil)
	end)

	T.case("players", function()
		player = db:call("player", "create", acct.id, { nickname = "Ann", sex = 1, head_id = 3, gold = 100 })
		T.eq(player.account_id, acct.id)
		T.eq(player.nickname, "Ann")
		T.eq(player.gold, 100)
		T.eq(player.head_url, "")
		local again, err = db:call("player", "create", acct.id, { nickname = "Twice" })
		T.eq(again, nil)
		T.eq(err, "exists")
		T.same(db:call("player", "load", player.id), player)
		T.same(db:call("player", "load", player.id), player, "from the online-store cache, same types")
		T.eq(db:call("player", "update", player.id, { nickname = "Annie", head_url = "http://x/1.png" }), true)
		local loaded = db:call("player", "load", player.id)
		T.eq(loaded.nickname, "Annie")
		T.eq(loaded.head_url, "http://x/1.png")
		T.raises(function() db:call("player", "update", player.id, { gold = 1e9 }) end, "can't be changed")
		T.eq(db:call("player", "add_gold", player.id, 50), 150)
		local none, why = db:call("player", "add_gold", player.id, -1000)
		T.eq(none, nil)
		T.eq(why, "insufficient")
		T.eq(db:call("player", "load", player.id).gold, 150)
		T.eq(db:call("player", "get_by_account", acct.id).id, player.id)
		T.eq(db:call("player", "load", player.id + 1000), nil)
	end)

	T.case("roles", function()
		local r1 = db:call("role", "create", player.id, 101, "Knight")
		local r2 = db:call("role", "create", player.id, 7, "Mage")
		T.eq(r1.level, 1)
		T.eq(r1.game_id, 101)
		local dup, err = db:call("role", "create", player.id, 101, "Again")
		T.eq(dup, nil)
		T.eq(err, "exists")
		local list = db:call("role", "list", player.id)
		T.eq(#list, 2)
		T.eq(list[1].id, r2.id)
		T.eq(list[2].id, r1.id)
		local rewarded = db:call("role", "reward", r1.id, 30, 5)
		T.eq(rewarded.exp, 30)
		T.eq(rewarded.gold, 5)
		T.eq(db:call("role", "get_by_game", player.id, 7).nickname, "Mage")
	end)

	T.case("requests for one key stay on one worker", function()
		T.eq(db:worker(player.id), db:worker(player.id))
		T.eq(db:worker("ann" .. tag), db:worker("ann" .. tag))
		local seen = {}
		for i = 1, 40 do
			seen[db:worker(i)] = true
		end
		local n = 0
		for _ in pairs(seen) do
			n = n + 1
		end
		T.eq(n, 4, "keys spread over every worker")
		T.raises(function() db:call("nosuch", "thing", 1) end, "nosuch")
		T.raises(function() db:call("player", "nosuch", 1) end, "no function player.nosuch")
	end)

	T.case("cleanup", function()
		drop()
	end)

	T.start(function()
		url, drop = fresh(kind)
		name = ".db_" .. kind
		skynet.newservice("db", "master", name, url)
		db = dbhelper.new(name)
	end)
end
