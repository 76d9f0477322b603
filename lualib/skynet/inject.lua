-- Run a chunk of code inside a live service (console `inject`), capturing its print output.

return function(skynet, source, filename, args, ...)
	if filename then
		filename = "[" .. filename .. "]"
	else
		filename = "[inject code]"
	end
	local output = {}
	local function print(...)
		local value = { ... }
		for k, v in ipairs(value) do
			value[k] = tostring(v)
		end
		table.insert(output, table.concat(value, "\t"))
	end
	local env = setmetatable({ print = print, args = args }, { __index = _ENV })
	local func, err = load(source, filename, "bt", env)
	if not func then
		return false, { err }
	end
	local ok, err = skynet.pcall(func, ...)
	if not ok then
		table.insert(output, err)
		return false, output
	end
	return true, output
end
