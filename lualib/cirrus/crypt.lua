-- cirrus.crypt: SHA-256, HMAC-SHA256, PBKDF2-HMAC-SHA256, random bytes, hex (Rust,
-- kernel/src/crypt). Every function takes and returns byte strings.
--   crypt.sha256(s)                      -> 32 bytes
--   crypt.hmac_sha256(key, msg)          -> 32 bytes
--   crypt.pbkdf2_sha256(pw, salt, iterations [, len]) -> key (suspends this coroutine only:
--                                           the derivation runs off the worker threads)
--   crypt.randombytes(n)                 -> n bytes from the OS generator
--   crypt.hexencode(s), crypt.hexdecode(s) -> string (hexdecode: nil, err on bad input)
--   crypt.equal(a, b)                    -> constant-time comparison

local skynet = require "skynet"
local core = require "cirrus.crypt.core"

local crypt = {}
for k, v in pairs(core) do
	crypt[k] = v
end

function crypt.pbkdf2_sha256(password, salt, iterations, len)
	return skynet.await(core.pbkdf2_sha256(password, salt, iterations, len), "pbkdf2")
end

-- A random token of `n` bytes as lower-case hex (default 16 bytes: 32 characters).
function crypt.token(n)
	return core.hexencode(core.randombytes(n or 16))
end

return crypt
