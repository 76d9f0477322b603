-- db.player: players (table `players`, one per account) with the profile cached in the online
-- store as hash `player_info:<id>` (as in the design notes' Redis layout), run by the db service:
--   dbhelper.call("player", "load", player_id)
-- Rows: id, account_id, nickname, sex, head_id, head_url, gold, created_at, updated_at.

local M = {}

local COLUMNS = "id, account_id, nickname, sex, head_id, head_url, gold, created_at, updated_at"
local INTEGERS = { "id", "account_id", "sex", "head_id", "gold", "created_at", "updated_at" }
-- columns `update` may change (column names can't be bound, so they are checked here)
local EDITABLE = { nickname = true, sex = true, head_id = true, head_url = true }
local CACHE_TTL = 3600

local function cache_key(id)
	return "player_info:" .. id
end

function M.get(ctx, id)
	return ctx.sql:query("SELECT " .. COLUMNS .. " FROM players WHERE id = ?", id)[1]
end

function M.get_by_account(ctx, account_id)
	return ctx.sql:query("SELECT " .. COLUMNS .. " FROM players WHERE account_id = ?", account_id)[1]
end

-- Create the player of an account; profile: nickname, sex, head_id, head_url, gold.
-- Returns the row, or nil and "exists" if the account already has one.
function M.create(ctx, account_id, profile)
	if M.get_by_account(ctx, account_id) then
		return nil, "exists"
	end
	local now = ctx.now()
	local ok, id = pcall(ctx.sql.insert, ctx.sql,
		"INSERT INTO players (account_id, nickname, sex, head_id, head_url, gold, created_at, updated_at) "
			.. "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
		account_id, profile.nickname, profile.sex or 0, profile.head_id or 0, profile.head_url or "",
		profile.gold or 0, now, now)
	if not ok then
		-- a concurrent login of the same account won the race (the UNIQUE index decides)
		if M.get_by_account(ctx, account_id) then
			return nil, "exists"
		end
		error(id, 0)
	end
	return M.get(ctx, id)
end

-- The profile from the online store, or from SQL (then cached). nil if there is no player.
function M.load(ctx, id)
	local key = cache_key(id)
	local cached = ctx.store:hgetall(key)
	if next(cached) then
		for _, k in ipairs(INTEGERS) do
			cached[k] = math.tointeger(cached[k])
		end
		return cached
	end
	local row = M.get(ctx, id)
	if row then
		ctx.store:hset(key, row)
		ctx.store:expire(key, CACHE_TTL)
	end
	return row
end

-- Change profile fields ({ nickname = ..., ... }); returns false if there is no such player.
function M.update(ctx, id, fields)
	local names = {}
	for k in pairs(fields) do
		if not EDITABLE[k] then
			error("db.player.update: field " .. tostring(k) .. " can't be changed")
		end
		names[#names + 1] = k
	end
	if #names == 0 then
		return true
	end
	table.sort(names) -- the same fields give the same SQL text, so its prepared statement is reused
	local sets, args = {}, {}
	for i, k in ipairs(names) do
		sets[i] = k .. " = ?"
		args[i] = fields[k]
	end
	args[#args + 1] = ctx.now()
	args[#args + 1] = id
	local n = ctx.sql:execute("UPDATE players SET " .. table.concat(sets, ", ") .. ", updated_at = ? WHERE id = ?",
		table.unpack(args))
	ctx.store:del(cache_key(id))
	return n == 1
end

-- Add (or with a negative delta, take) gold; returns the new balance, or nil and
-- "insufficient" when it would go below zero.
function M.add_gold(ctx, id, delta)
	local gold = ctx.sql:transaction(function(tx)
		local n = tx:execute("UPDATE players SET gold = gold + ?, updated_at = ? WHERE id = ? AND gold + ? >= 0",
			delta, ctx.now(), id, delta)
		if n == 0 then
			return nil
		end
		return tx:query("SELECT gold FROM players WHERE id = ?", id)[1].gold
	end)
	ctx.store:del(cache_key(id))
	if not gold then
		return nil, "insufficient"
	end
	return gold
end

return M
