-- The store behind skynet.datasheet (a skynet.service named "datasheet"): named tables with a
-- version each; `monitor` answers once the version moves past the one the caller has.
local service = require "skynet.service"

local function datasheet_service()
	local skynet = require "skynet"
	local sheets = {} -- name -> { data = tbl, version = n, waiting = { response... } }
	local command = {}

	function command.new(name, tbl)
		assert(sheets[name] == nil, "datasheet " .. tostring(name) .. " exists")
		sheets[name] = { data = tbl, version = 1, waiting = {} }
		skynet.retpack()
	end

	function command.update(name, tbl)
		local s = assert(sheets[name], "no datasheet " .. tostring(name))
		s.data = tbl
		s.version = s.version + 1
		local waiting = s.waiting
		s.waiting = {}
		for _, resp in ipairs(waiting) do
			resp(true, tbl, s.version)
		end
		skynet.retpack()
	end

	function command.query(name)
		local s = sheets[name]
		if s then
			skynet.retpack(s.data, s.version)
		else
			skynet.retpack(nil)
		end
	end

	function command.monitor(name, version)
		local s = assert(sheets[name], "no datasheet " .. tostring(name))
		if s.version ~= version then
			return skynet.retpack(s.data, s.version)
		end
		s.waiting[#s.waiting + 1] = skynet.response()
	end

	skynet.start(function()
		skynet.dispatch("lua", function(_, _, cmd, ...)
			assert(command[cmd], cmd)(...)
		end)
	end)
end

return function()
	return service.new("datasheet", datasheet_service)
end
