-- http.url: skynet's URL helpers.
--   url.parse("/a%20b?x=1") --> "/a b", "x=1"
--   url.parse_query("x=1&y=2&x=3") --> { x = { "1", "3" }, y = "2" }
local url = {}

local function unescape(s)
	s = s:gsub("+", " ")
	return (s:gsub("%%(%x%x)", function(h)
		return string.char(tonumber(h, 16))
	end))
end

function url.parse(u)
	local path, query = u:match "([^?]*)%??(.*)"
	if path then
		path = unescape(path)
	end
	return path, query
end

function url.parse_query(q)
	local r = {}
	for rawk, rawv in q:gmatch "(.-)=([^&]*)&?" do
		local k, v = unescape(rawk), unescape(rawv)
		local old = r[k]
		if old == nil then
			r[k] = v
		elseif type(old) == "table" then
			old[#old + 1] = v
		else
			r[k] = { old, v }
		end
	end
	return r
end

return url
