-- multicastd: the channels of skynet.multicast on this node. NEW hands out channel ids as
-- skynet does (the harbor id, then +256 each); PUB redirects the packed message to every
-- subscriber as a PTYPE_MULTICAST message from the publisher, with the channel as session.
local skynet = require "skynet"

local harbor_id = skynet.harbor(skynet.self())
local channels = {} -- id -> { [subscriber] = true }
local next_id = harbor_id
local NORET = {}

skynet.register_protocol {
	name = "multicast",
	id = skynet.PTYPE_MULTICAST,
	pack = function(...)
		return ...
	end,
}

local command = {}

function command.NEW()
	while channels[next_id] do
		next_id = (next_id + 256) & 0x7fffffff
	end
	local id = next_id
	channels[id] = {}
	next_id = (next_id + 256) & 0x7fffffff
	return id
end

function command.DEL(_, c)
	channels[c] = nil
	return NORET
end

function command.PUB(source, c, msg)
	local group = channels[c]
	if group then
		for addr in pairs(group) do
			skynet.redirect(addr, source, "multicast", c, msg)
		end
	end
end

function command.SUB(source, c)
	local group = channels[c]
	if group then
		group[source] = true
	end
end

function command.USUB(source, c)
	local group = channels[c]
	if group then
		group[source] = nil
	end
	return NORET
end

skynet.start(function()
	skynet.dispatch("lua", function(_, source, cmd, ...)
		local f = assert(command[cmd], cmd)
		local r = f(source, ...)
		if r ~= NORET then
			skynet.retpack(r)
		end
	end)
end)
