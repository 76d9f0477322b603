-- Helper for test_socket: takes over a socket accepted by another service
-- (socket.start in this service) and answers each line with "echo: line" until "bye".

local skynet = require "skynet"
local socket = require "skynet.socket"

skynet.start(function()
	skynet.dispatch("lua", function(_, _, cmd, fd)
		assert(cmd == "serve")
		assert(socket.start(fd))
		skynet.ret(skynet.pack(true))
		while true do
			local line = socket.readline(fd)
			if not line or line == "bye" then
				break
			end
			socket.write(fd, "echo: " .. line .. "\n")
		end
		socket.close(fd)
	end)
end)
