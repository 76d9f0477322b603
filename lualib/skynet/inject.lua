-- Run a chunk of code inside a live service (console `inject ADDR FILE`), as skynet's inject:
-- the chunk sees `print` (captured and sent back to the console), `_U` (the upvalues of the
-- service's dispatch functions, by name: `_U.proto`, ...) and `_P` (per protocol, the
-- upvalues of its dispatch function: `_P.lua.CMD`, `_P.lua.players`, ...), and gets the
-- console arguments as `...`.

local function getupvaluetable(u, func, unique)
	local i = 1
	while true do
		local name, value = debug.getupvalue(func, i)
		if name == nil then
			return
		end
		local t = type(value)
		if t == "table" then
			u[name] = value
		elseif t == "function" then
			if not unique[value] then
				unique[value] = true
				getupvaluetable(u, value, unique)
			end
		end
		i = i + 1
	end
end

-- `proto` is skynet.lua's protocol table: skynet.lua is loaded without debug info, so it
-- cannot be found by upvalue name as skynet's inject does.
return function(skynet, source, filename, args, proto, ...)
	if filename then
		filename = "@" .. filename
	else
		filename = "=(load)"
	end
	local output = {}
	local function print(...)
		local value = { ... }
		for k, v in ipairs(value) do
			value[k] = tostring(v)
		end
		table.insert(output, table.concat(value, "\t"))
	end
	local u = {}
	local unique = {}
	local funcs = { ... }
	for _, func in ipairs(funcs) do
		getupvaluetable(u, func, unique)
	end
	local p = {}
	proto = proto or u.proto
	u.proto = proto
	if proto then
		for _, v in pairs(proto) do
			local name, dispatch = v.name, v.dispatch
			if name and dispatch and not p[name] then
				local pp = {}
				p[name] = pp
				getupvaluetable(pp, dispatch, unique)
			end
		end
	end
	local env = setmetatable({ print = print, _U = u, _P = p }, { __index = _ENV })
	local func, err = load(source, filename, "bt", env)
	if not func then
		return false, { err }
	end
	local ok, perr = skynet.pcall(func, table.unpack(args, 1, args.n))
	if not ok then
		table.insert(output, perr)
		return false, output
	end
	return true, output
end
