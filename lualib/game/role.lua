-- The frame of a game role service: handlers per client message, internal commands, error
-- codes, fencing of stale sessions and log lines that name the player.
--
--   local role = require "game.role"
--   local R = role.new "hall"
--   function R.client.player_info(ctx, args) return { code = 0, player = ... } end
--   function R.cmd.rooms(game) return list end
--   role.start(R, function() ... init ... end)     -- registers the role (".hall", "@hall")
--
-- A client handler returns the response body (code 0 is filled in when absent) and optionally
-- a table of session changes for the watchdog (uid, inc, room, desk, ...; false clears), or
-- just an error code. role.fail(code) raises a code from deep inside a handler. Any other
-- error is logged with the player and request and answered INTERNAL.

local skynet = require "skynet"
local errors = require "game.errors"
local node = require "game.node"

local role = {}

local FAIL = {} -- metatable marking role.fail errors

function role.fail(code)
	error(setmetatable({ code = code }, FAIL), 0)
end

function role.new(name)
	return { name = name, client = {}, cmd = {}, seen = {} }
end

-- "[hall uid=42] text": every game log line names the player.
function role.log(ctx, fmt, ...)
	local uid = type(ctx) == "table" and ctx.uid or ctx
	if uid == nil then
		skynet.error(string.format("[%s] " .. fmt, role.current or "game", ...))
	else
		skynet.error(string.format("[%s uid=%s] " .. fmt, role.current or "game", tostring(uid), ...))
	end
end

local function client(R, name, ctx, args)
	local h = R.client[name]
	if not h then
		return errors.reply(errors.UNKNOWN_MESSAGE)
	end
	-- Fencing: once a newer incarnation of a player reached this service, requests from older
	-- sessions (a kicked connection's late packets) are refused.
	local uid = ctx.uid
	if uid and ctx.inc then
		local seen = R.seen[uid]
		if seen and ctx.inc < seen then
			return errors.reply(errors.NOT_LOGGED_IN)
		end
		if not seen or ctx.inc > seen then
			R.seen[uid] = ctx.inc
		end
	end
	local ok, body, update = xpcall(h, function(e)
		if getmetatable(e) == FAIL then
			return e
		end
		return debug.traceback(tostring(e), 2)
	end, ctx, args or {})
	if not ok then
		if getmetatable(body) == FAIL then
			return errors.reply(body.code)
		end
		role.log(ctx, "%s failed: %s", name, body)
		return errors.reply(errors.INTERNAL)
	end
	if type(body) == "number" then
		return errors.reply(body)
	end
	body = body or {}
	if body.code == nil then
		body.code = errors.OK
	end
	return body, update
end

function role.start(R, init)
	role.current = R.name
	skynet.start(function()
		skynet.dispatch("lua", function(session, _, cmd, ...)
			if R.frozen then
				-- the service's state is in a freeze snapshot: it takes no more requests
				if cmd == "client" then
					skynet.retpack(errors.reply(errors.UNAVAILABLE))
				elseif session ~= 0 then
					error(R.name .. ": frozen")
				end
				return
			end
			if cmd == "client" then
				skynet.retpack(client(R, ...))
				return
			end
			local f = R.cmd[cmd]
			if not f then
				error(string.format("%s: unknown command %s", R.name, tostring(cmd)))
			end
			if session == 0 then
				f(...)
			else
				skynet.retpack(f(...))
			end
		end)
		if init then
			init()
		end
		if R.register ~= false then
			node.register(R.name)
		end
	end)
end

return role
