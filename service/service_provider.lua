-- service_provider: the registry behind skynet.service, one per node. Each name boots once
-- (a service_cell given the function's bytecode); callers that ask meanwhile wait for it.
local skynet = require "skynet"

local services = setmetatable({}, {
	__index = function(t, name)
		local s = { queue = {} }
		t[name] = s
		return s
	end,
})

local provider = {}

function provider.query(name)
	local s = services[name]
	if s.queue then
		s.queue[#s.queue + 1] = skynet.response()
	elseif s.address then
		skynet.retpack(s.address)
	else
		error(s.error)
	end
end

local function boot(addr, name, code, ...)
	skynet.call(addr, "lua", "init", code, ...)
	local args = table.pack(...)
	for i = 1, args.n do
		args[i] = tostring(args[i])
	end
	local s = services[name]
	if args.n > 0 then
		s.init = table.concat(args, ",")
	end
	s.time = skynet.time()
end

function provider.launch(name, code, ...)
	local s = services[name]
	if s.address then
		return skynet.retpack(s.address)
	end
	if s.booting then
		s.queue[#s.queue + 1] = skynet.response()
		return
	end
	s.booting = true
	local ok, addr = pcall(skynet.newservice, "service_cell", name)
	local err
	if ok then
		ok, err = xpcall(boot, debug.traceback, addr, name, code, ...)
	else
		err, addr = addr, nil
	end
	s.booting = nil
	local queue = s.queue
	s.queue = nil
	if ok then
		s.address = addr
		for _, resp in ipairs(queue) do
			resp(true, addr)
		end
		skynet.retpack(addr)
	else
		if addr then
			skynet.send(addr, "debug", "EXIT")
		end
		s.error = err
		for _, resp in ipairs(queue) do
			resp(false)
		end
		error(err)
	end
end

function provider.test(name)
	local s = services[name]
	if s.booting then
		skynet.retpack(nil, true)
	elseif s.address then
		skynet.retpack(s.address)
	elseif s.error then
		error(s.error)
	else
		skynet.ret()
	end
end

function provider.close(name)
	local s = rawget(services, name)
	if not s or s.booting then
		return skynet.retpack(nil)
	end
	services[name] = nil
	skynet.retpack(s.address)
end

skynet.start(function()
	skynet.dispatch("lua", function(_, _, cmd, ...)
		provider[cmd](...)
	end)
	skynet.info_func(function()
		local info = {}
		for name, s in pairs(services) do
			local status
			if s.booting then
				status = "booting"
			elseif s.queue then
				status = "waiting(" .. #s.queue .. ")"
			end
			info[skynet.address(s.address)] = {
				init = s.init,
				name = name,
				time = s.time and os.date("%Y %b %d %T %z", math.floor(s.time)),
				status = status,
			}
		end
		return info
	end)
end)
