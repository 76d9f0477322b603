-- Validation of client-supplied names, shared by the roles that take them.

local check = {}

-- 3..32 of A-Z a-z 0-9 _ . @ -
function check.account(s)
	return type(s) == "string" and #s >= 3 and #s <= 32 and s:match "^[%w_%.@%-]+$" ~= nil
end

-- 1..32 UTF-8 characters, no control characters.
function check.nickname(s)
	if type(s) ~= "string" or s:find "%c" then
		return false
	end
	local n = utf8.len(s)
	return n ~= nil and n >= 1 and n <= 32
end

-- Printable id from a device: 1..64 bytes, no control characters or spaces.
function check.device(s)
	return type(s) == "string" and #s >= 1 and #s <= 64 and not s:find "[%c%s]"
end

return check
