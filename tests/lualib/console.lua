-- A client of the debug console for the game tests: one command per connection.
--   local ok, text = console.run(port, "list")   -- ok: "<CMD OK>", text: what came before

local socket = require "skynet.socket"

local console = {}

function console.run(port, line)
	local fd = assert(socket.open("127.0.0.1", tonumber(port)), "cannot reach the console")
	local welcome = socket.readline(fd)
	assert(welcome and welcome:find("Welcome"), "no console greeting")
	socket.write(fd, line .. "\n")
	local out = {}
	while true do
		local l = socket.readline(fd)
		if not l then
			socket.close(fd)
			error("console closed during " .. line .. ": " .. table.concat(out, "\n"))
		end
		if l == "<CMD OK>" or l == "<CMD Error>" then
			socket.close(fd)
			return l == "<CMD OK>", table.concat(out, "\n")
		end
		out[#out + 1] = l
	end
end

-- The address of the first service whose launch label is `label` ("snlua room 1 1").
function console.find(port, label)
	local ok, text = console.run(port, "list")
	assert(ok, text)
	for line in text:gmatch("[^\n]+") do
		local addr, l = line:match("^(%S+)\t([^\t]*)")
		if l == label then
			return addr
		end
	end
	error("no service " .. label .. " in:\n" .. text)
end

return console
