-- A small JSON encoder for records the game writes (round details in SQL): nil, booleans,
-- numbers, strings, arrays (tables with 1..n) and objects (string keys, sorted).

local json = {}

local escapes = { ['"'] = '\\"', ["\\"] = "\\\\", ["\b"] = "\\b", ["\f"] = "\\f", ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t" }

local function str(s)
	return '"' .. s:gsub('[%c"\\]', function(c)
		return escapes[c] or string.format("\\u%04x", c:byte())
	end) .. '"'
end

local function encode(v, out)
	local t = type(v)
	if v == nil then
		out[#out + 1] = "null"
	elseif t == "boolean" then
		out[#out + 1] = v and "true" or "false"
	elseif t == "number" then
		if v ~= v or v == math.huge or v == -math.huge then
			error("json: cannot encode " .. tostring(v))
		end
		out[#out + 1] = math.type(v) == "integer" and tostring(v) or string.format("%.17g", v)
	elseif t == "string" then
		out[#out + 1] = str(v)
	elseif t == "table" then
		local n = #v
		if n > 0 or next(v) == nil then
			out[#out + 1] = "["
			for i = 1, n do
				if i > 1 then
					out[#out + 1] = ","
				end
				encode(v[i], out)
			end
			out[#out + 1] = "]"
		else
			local keys = {}
			for k in pairs(v) do
				keys[#keys + 1] = tostring(k)
			end
			table.sort(keys)
			out[#out + 1] = "{"
			for i, k in ipairs(keys) do
				if i > 1 then
					out[#out + 1] = ","
				end
				out[#out + 1] = str(k) .. ":"
				encode(v[k] == nil and v[tonumber(k)] or v[k], out)
			end
			out[#out + 1] = "}"
		end
	else
		error("json: cannot encode a " .. t)
	end
end

function json.encode(v)
	local out = {}
	encode(v, out)
	return table.concat(out)
end

return json
