-- skynet.db.redis.crc16: the CRC16 Redis Cluster hashes keys with (CRC-16/XMODEM: polynomial
-- 0x1021, initial value 0, no reflection, no final xor; crc16("123456789") == 0x31C3).
--
--   local crc16 = require "skynet.db.redis.crc16"
--   crc16("foo") % 16384   --> 12182, the key's hash slot
--
-- Like skynet's module it is a function of one string (numbers are hashed as their text).

local byte = string.byte

-- TABLE[b] is the CRC of the byte b shifted in from a zero register.
local TABLE = {}
for b = 0, 255 do
	local crc = b << 8
	for _ = 1, 8 do
		if crc & 0x8000 ~= 0 then
			crc = ((crc << 1) ~ 0x1021) & 0xffff
		else
			crc = (crc << 1) & 0xffff
		end
	end
	TABLE[b] = crc
end

return function(s)
	local t = type(s)
	if t == "number" then
		s = tostring(s)
	elseif t ~= "string" then
		error("crc16: expected a string, got " .. t, 2)
	end
	local crc = 0
	for i = 1, #s do
		crc = ((crc << 8) & 0xffff) ~ TABLE[((crc >> 8) ~ byte(s, i)) & 0xff]
	end
	return crc
end
