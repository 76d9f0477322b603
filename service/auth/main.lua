-- auth: registration, the challenge/proof handshake and the login queue (seed 004's
-- authserver). docs/PROTOCOL.md gives the exact construction:
--   key   = PBKDF2-HMAC-SHA256(password, salt, iterations, 32)    stored at register
--   proof = HMAC-SHA256(key, client_nonce .. server_nonce)          checked here
--   server_proof = HMAC-SHA256(key, server_nonce .. client_nonce)
-- A successful proof leaves a one-time `auth_token:<account>` (60 s) in the online store for
-- the login role. Challenges live in this service, keyed by connection (30 s, one proof).

local skynet = require "skynet"
local role = require "game.role"
local errors = require "game.errors"
local check = require "game.check"
local conf = require "game.conf"
local online = require "game.online"
local crypt = require "cirrus.crypt"
local dbhelper = require "dbhelper"
local flow = require "skynet.flow"
local queue = require "queue"

local A = role.new "auth"

local ITERATIONS = conf.number("auth_kdf_iterations", 10000)
local START_GOLD = conf.number("start_gold", 10000)
local TOKEN_TTL = 60
local CHALLENGE_TTL = 30 * 100

local challenges = {} -- conn -> { account, cnonce, snonce, key, expires }

function A.client.register(ctx, args)
	local account, password = args.account, args.password
	if not check.account(account) then
		return errors.BAD_ACCOUNT
	end
	if type(password) ~= "string" or #password < 6 or #password > 64 then
		return errors.BAD_PASSWORD
	end
	local nickname = args.nickname or account
	if not check.nickname(nickname) then
		return errors.BAD_NICKNAME
	end
	if dbhelper.call("game", "credentials", account) then
		return errors.ACCOUNT_EXISTS
	end
	local salt = crypt.randombytes(16)
	local key = crypt.pbkdf2_sha256(password, salt, ITERATIONS)
	if flow.shutting() then
		return errors.UNAVAILABLE
	end
	local player, err = flow.run("register", dbhelper.call, "game", "register", account, key, salt, ITERATIONS,
		nickname, START_GOLD)
	if not player then
		return err == "exists" and errors.ACCOUNT_EXISTS or errors.INTERNAL
	end
	role.log(player.id, "registered account %s", account)
	return { uid = player.id }
end

function A.client.auth_challenge(ctx, args)
	local account, cnonce = args.account, args.client_nonce
	if not check.account(account) or type(cnonce) ~= "string" or #cnonce < 16 or #cnonce > 64 then
		return errors.BAD_REQUEST
	end
	local key, salt, iterations = dbhelper.call("game", "credentials", account)
	if not key then
		return errors.UNKNOWN_ACCOUNT
	end
	local snonce = crypt.randombytes(16)
	challenges[ctx.conn] = {
		account = account,
		cnonce = cnonce,
		snonce = snonce,
		key = key,
		expires = skynet.now() + CHALLENGE_TTL,
	}
	return { server_nonce = snonce, salt = salt, iterations = iterations }
end

function A.client.auth_proof(ctx, args)
	local ch = challenges[ctx.conn]
	challenges[ctx.conn] = nil -- one proof per challenge
	if not ch or ch.account ~= args.account or ch.expires < skynet.now() then
		return errors.NO_CHALLENGE
	end
	if type(args.proof) ~= "string" then
		return errors.BAD_REQUEST
	end
	local expected = crypt.hmac_sha256(ch.key, ch.cnonce .. ch.snonce)
	if not crypt.equal(expected, args.proof) then
		return errors.BAD_PROOF
	end
	local token = crypt.token(16)
	online.store():set("auth_token:" .. ch.account, token, TOKEN_TTL)
	return { server_proof = crypt.hmac_sha256(ch.key, ch.snonce .. ch.cnonce), auth_token = token }
end

-- The login role asks before a player comes online (see queue.lua).
function A.cmd.admit(ctx)
	return queue.admit(ctx)
end

function A.cmd.cancel(conn)
	queue.cancel(conn)
end

function A.cmd.done(conn)
	queue.done(conn)
end

function A.cmd.stats()
	return queue.stats()
end

role.start(A, function()
	queue.start()
	skynet.fork(function()
		while true do
			skynet.sleep(1000)
			local now = skynet.now()
			for conn, ch in pairs(challenges) do
				if ch.expires < now then
					challenges[conn] = nil
				end
			end
		end
	end)
end)
