-- Prints skynet.crypt results for fixed inputs, one `name hex` line each. Runs unmodified on
-- skynet and on Cirrus: the vectors in kernel/src/crypt/skynet.rs were taken from skynet's
-- output, and kernel/tests/skynet.rs checks Cirrus prints the same lines.
local skynet = require "skynet"
require "skynet.manager" -- skynet.abort
local crypt = require "skynet.crypt"

local hex = crypt.hexencode
local out = {}
local function put(name, value)
	out[#out + 1] = name .. " " .. hex(value)
end

local texts = { "", "a", "1234567", "12345678", "123456789", "hello skynet crypt", string.rep("\0\255", 9) }
local key = "\1\35\69\103\137\171\205\239"

skynet.start(function()
	for i, t in ipairs(texts) do
		put("hashkey" .. i, crypt.hashkey(t))
		put("sha1_" .. i, crypt.sha1(t))
		put("hmac_sha1_" .. i, crypt.hmac_sha1(key, t))
		put("hmac_hash" .. i, crypt.hmac_hash(key, t))
		put("b64_" .. i, crypt.base64encode(t))
		put("des_iso" .. i, crypt.desencode(key, t))
		put("des_pkcs7_" .. i, crypt.desencode(key, t, crypt.padding.pkcs7))
		put("undes" .. i, crypt.desdecode(key, crypt.desencode(key, t)))
		if #t > 0 then
			put("xor" .. i, crypt.xor_str("the quick brown fox", t))
		end
	end
	put("hmac_sha1_longkey", crypt.hmac_sha1(string.rep("k", 100), "text"))
	local a, b = "\0\1\2\3\4\5\6\7", "\255\254\253\252\251\250\249\248"
	put("hmac64", crypt.hmac64(a, b))
	put("hmac64_b", crypt.hmac64(key, crypt.hashkey("challenge")))
	put("hmac64_md5", crypt.hmac64_md5(a, b))
	put("dhexchange_a", crypt.dhexchange(a))
	put("dhexchange_key", crypt.dhexchange(key))
	put("dhexchange_max", crypt.dhexchange("\255\255\255\255\255\255\255\255"))
	put("dhsecret", crypt.dhsecret(crypt.dhexchange(a), key))
	put("dhsecret_b", crypt.dhsecret(crypt.dhexchange(key), a))
	put("dhsecret_one", crypt.dhsecret(key, "\1\0\0\0\0\0\0\0"))
	for i, s in ipairs { "aGVsbG8=", "aGVsbG8", "aGV sbG8=", "aGVsbG8=\n", "YQ", "YWI=", "////", "", "YR==", "Y" } do
		local ok, r = pcall(crypt.base64decode, s)
		put("unb64_" .. i, ok and r or ("error " .. r:gsub("^.-: ", "")))
	end
	put("unhex", crypt.hexdecode("00ff7fg0"))
	put("padding", string.char(crypt.padding.iso7816_4, crypt.padding.pkcs7))
	local ok, err = pcall(crypt.desdecode, key, "1234567")
	put("err_deslen", tostring(ok) .. " " .. err:gsub("^.-: ", ""))
	ok, err = pcall(crypt.hexdecode, "ABC")
	put("err_hexlen", tostring(ok) .. " " .. err:gsub("^.-: ", ""))
	ok, err = pcall(crypt.hexdecode, "AB")
	put("err_hex", tostring(ok) .. " " .. err:gsub("^.-: ", ""))
	ok, err = pcall(crypt.desencode, "short", "x")
	put("err_key", tostring(ok) .. " " .. err:gsub("^.-: ", ""))
	ok, err = pcall(crypt.base64decode, "a===")
	put("err_b64", tostring(ok) .. " " .. err:gsub("^.-: ", ""))
	local rk = crypt.randomkey()
	put("randomkey_len", string.char(#rk))
	for _, line in ipairs(out) do
		print("CRYPT " .. line)
	end
	skynet.abort()
end)
