-- db.game: what the game roles ask of SQL in one call each (one round trip from the role to
-- a db worker), run by the db service:
--   dbhelper.call("game", "visitor", device_id, nickname, start_gold)      -> player row
--   dbhelper.call("game", "account_player", account_name, start_gold)     -> player row | nil
--   dbhelper.call("game", "register", name, key, salt, iterations, nickname, gold) -> row | nil, "exists"
--   dbhelper.call("game", "settle", desk_key, round_record)             -> { [uid] = gold }

local account = require "db.account"
local player = require "db.player"

local M = {}

local function player_of(ctx, acct, nickname, gold)
	local p = player.get_by_account(ctx, acct.id)
	if p then
		return p
	end
	local err
	p, err = player.create(ctx, acct.id, { nickname = nickname, gold = gold })
	if not p and err == "exists" then
		-- another login of the same account created it first
		p = player.get_by_account(ctx, acct.id)
	end
	return p
end

-- The player of a device (account "visitor:<device_id>"), created on first use.
function M.visitor(ctx, device_id, nickname, gold)
	local name = "visitor:" .. device_id
	local acct = account.get_by_name(ctx, name)
	if not acct then
		local err
		acct, err = account.create(ctx, name, nil, nil, true)
		if not acct and err == "exists" then
			acct = account.get_by_name(ctx, name)
		end
	end
	local p = player_of(ctx, acct, nickname or ("guest" .. acct.id), gold)
	account.touch_login(ctx, acct.id)
	return p
end

-- The player of a password account (nil when there is no such account).
function M.account_player(ctx, name, gold)
	local acct = account.get_by_name(ctx, name)
	if not acct or acct.visitor then
		return nil
	end
	local p = player_of(ctx, acct, name, gold)
	account.touch_login(ctx, acct.id)
	return p
end

-- A password account and its player. nil, "exists" when the name is taken.
function M.register(ctx, name, key, salt, iterations, nickname, gold)
	local acct, err = account.create(ctx, name, key, salt, false, iterations)
	if not acct then
		return nil, err
	end
	return player_of(ctx, acct, nickname, gold)
end

-- The credentials of a password account: key, salt, iterations (nil for unknown/visitor).
function M.credentials(ctx, name)
	local acct = account.get_by_name(ctx, name)
	if not acct or acct.visitor or not acct.password_hash then
		return nil
	end
	return acct.password_hash, acct.salt, acct.kdf_iterations
end

--[[ Move the gold of one settled round, all seats or none, and record the round.
   rec = { server_id, room_id, desk_id, round, banker_uid, detail (text),
           moves = { { uid = ..., delta = ... }, ... } }
   Returns { [uid] = new gold }. Raises (nothing written) if a balance would go negative. ]]
function M.settle(ctx, _, rec)
	local now = ctx.now()
	local golds = ctx.sql:transaction(function(tx)
		local out = {}
		for _, m in ipairs(rec.moves) do
			local n = tx:execute("UPDATE players SET gold = gold + ?, updated_at = ? WHERE id = ? AND gold + ? >= 0",
				m.delta, now, m.uid, m.delta)
			if n ~= 1 then
				error(string.format("settle: player %s cannot move %d gold", tostring(m.uid), m.delta), 0)
			end
		end
		for _, m in ipairs(rec.moves) do
			out[m.uid] = tx:query("SELECT gold FROM players WHERE id = ?", m.uid)[1].gold
		end
		tx:execute("INSERT INTO game_rounds (server_id, room_id, desk_id, round, banker_uid, detail, created_at) "
			.. "VALUES (?, ?, ?, ?, ?, ?, ?)",
			rec.server_id, rec.room_id, rec.desk_id, rec.round, rec.banker_uid, rec.detail, now)
		return out
	end)
	for _, m in ipairs(rec.moves) do
		ctx.store:del("player_info:" .. m.uid)
	end
	return golds
end

return M
