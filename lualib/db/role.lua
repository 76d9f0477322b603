-- db.role: a player's roles, one per game (table `roles`), run by the db service:
--   dbhelper.call("role", "create", player_id, game_id, nickname)
-- Rows: id, player_id, game_id, nickname, level, exp, gold, created_at.

local M = {}

local COLUMNS = "id, player_id, game_id, nickname, level, exp, gold, created_at"

function M.get(ctx, id)
	return ctx.sql:query("SELECT " .. COLUMNS .. " FROM roles WHERE id = ?", id)[1]
end

-- The player's role in a game, or nil.
function M.get_by_game(ctx, player_id, game_id)
	return ctx.sql:query("SELECT " .. COLUMNS .. " FROM roles WHERE player_id = ? AND game_id = ?", player_id, game_id)[1]
end

-- All roles of a player, by game.
function M.list(ctx, player_id)
	return ctx.sql:query("SELECT " .. COLUMNS .. " FROM roles WHERE player_id = ? ORDER BY game_id", player_id)
end

-- Returns the new role, or nil and "exists" if the player has one in that game.
function M.create(ctx, player_id, game_id, nickname)
	if M.get_by_game(ctx, player_id, game_id) then
		return nil, "exists"
	end
	local id = ctx.sql:insert("INSERT INTO roles (player_id, game_id, nickname, created_at) VALUES (?, ?, ?, ?)",
		player_id, game_id, nickname, ctx.now())
	return M.get(ctx, id)
end

-- Add experience and gold to a role; returns the updated row.
function M.reward(ctx, id, exp, gold)
	ctx.sql:execute("UPDATE roles SET exp = exp + ?, gold = gold + ? WHERE id = ?", exp or 0, gold or 0, id)
	return M.get(ctx, id)
end

return M
