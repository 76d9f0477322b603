-- console: skynet's stdin console. Each line read from standard input launches a service
-- (`name arg...`), or a snax service with `snax name arg...`.
local skynet = require "skynet"
local socket = require "skynet.socket"

local function words(line)
	local t = {}
	for w in string.gmatch(line, "%S+") do
		t[#t + 1] = w
	end
	return t
end

local function loop()
	local stdin = socket.stdin()
	while true do
		local line = socket.readline(stdin, "\n")
		if not line then
			break -- end of input
		end
		local w = words(line)
		if w[1] == "snax" then
			local snax = require "skynet.snax"
			pcall(snax.newservice, table.unpack(w, 2))
		elseif #w > 0 then
			pcall(skynet.newservice, table.unpack(w))
		end
	end
end

skynet.start(function()
	skynet.fork(loop)
end)
