-- skynet.crypt: skynet's crypt module (DES, hashkey, hmac64, DH, base64, SHA-1...), byte-exact
-- with skynet's C module. The work is Rust (kernel/src/crypt/skynet.rs); this layer raises its
-- failures as plain string errors, as a C module's luaL_error does.
local core = require "skynet.crypt.core"

local crypt = {}
for name, f in pairs(core) do
	if type(f) == "function" then
		crypt[name] = function(...)
			local r, err = f(...)
			if r == nil then
				error(err, 2)
			end
			return r
		end
	else
		crypt[name] = f
	end
end

return crypt
