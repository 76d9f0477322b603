-- db.account: login accounts (table `accounts`), run by the db service:
--   dbhelper.call("account", "create", name, password_hash, salt, visitor, kdf_iterations)
-- Rows: id, name, password_hash and salt (byte strings or nil), visitor (boolean),
-- created_at, last_login (Unix seconds; last_login nil until the first login), kdf_iterations
-- (the PBKDF2 iterations password_hash was derived with; see docs/PROTOCOL.md).

local sql = require "skynet.db.sql"

local M = {}

local COLUMNS = "id, name, password_hash, salt, visitor, created_at, last_login, kdf_iterations"

function M.get(ctx, id)
	return ctx.sql:query("SELECT " .. COLUMNS .. " FROM accounts WHERE id = ?", id)[1]
end

function M.get_by_name(ctx, name)
	return ctx.sql:query("SELECT " .. COLUMNS .. " FROM accounts WHERE name = ?", name)[1]
end

-- Create an account; returns the row, or nil and "exists" when the name is taken.
function M.create(ctx, name, password_hash, salt, visitor, kdf_iterations)
	if M.get_by_name(ctx, name) then
		return nil, "exists"
	end
	local ok, id = pcall(ctx.sql.insert, ctx.sql,
		"INSERT INTO accounts (name, password_hash, salt, visitor, created_at, kdf_iterations) VALUES (?, ?, ?, ?, ?, ?)",
		name, password_hash and sql.blob(password_hash), salt and sql.blob(salt), visitor == true, ctx.now(),
		kdf_iterations)
	if not ok then
		-- another node won the race for the name (the UNIQUE index decides)
		if M.get_by_name(ctx, name) then
			return nil, "exists"
		end
		error(id, 0)
	end
	return M.get(ctx, id)
end

-- Record a login; returns false if there is no such account.
function M.touch_login(ctx, id, time)
	return ctx.sql:execute("UPDATE accounts SET last_login = ? WHERE id = ?", time or ctx.now(), id) == 1
end

return M
