-- skynet.multicast: publish/subscribe channels through the multicastd service.
--   local mc = require "skynet.multicast"
--   local c = mc.new()                        -- a new channel (c.channel is its id)
--   local c2 = mc.new { channel = id, dispatch = function(chan, source, ...) end }
--   c2:subscribe(); c:publish(...); c2:unsubscribe(); c:delete()
-- A published message is packed once and delivered to every subscriber as a PTYPE_MULTICAST
-- message (its session is the channel id). Channels are local to the node (no harbor).
local skynet = require "skynet"

local multicastd
local multicast = {}
local subscribed = {} -- channel id -> channel object

local chan = {}
local chan_meta = {
	__index = chan,
	__gc = function(self)
		self:unsubscribe()
	end,
	__tostring = function(self)
		return string.format("[Multicast:%x]", self.channel)
	end,
}

function multicast.new(conf)
	assert(multicastd, "Init first")
	local self = {}
	conf = conf or self
	self.channel = conf.channel
	if self.channel == nil then
		self.channel = skynet.call(multicastd, "lua", "NEW")
	end
	self.__pack = conf.pack or skynet.pack
	self.__unpack = conf.unpack or skynet.unpack
	self.__dispatch = conf.dispatch
	return setmetatable(self, chan_meta)
end

function chan:delete()
	local c = assert(self.channel)
	skynet.send(multicastd, "lua", "DEL", c)
	self.channel = nil
	self.__subscribe = nil
end

-- the packed message as a string, whatever the pack function returns
local function packed(msg, sz)
	if type(msg) == "string" then
		return msg
	end
	local s = skynet.tostring(msg, sz)
	skynet.trash(msg, sz)
	return s
end

function chan:publish(...)
	local c = assert(self.channel)
	skynet.call(multicastd, "lua", "PUB", c, packed(self.__pack(...)))
end

function chan:subscribe()
	local c = assert(self.channel)
	if self.__subscribe then
		return
	end
	skynet.call(multicastd, "lua", "SUB", c)
	self.__subscribe = true
	subscribed[c] = self
end

function chan:unsubscribe()
	if not self.__subscribe then
		return
	end
	local c = assert(self.channel)
	skynet.send(multicastd, "lua", "USUB", c)
	self.__subscribe = nil
	subscribed[c] = nil
end

local function dispatch_subscribe(channel, source, msg)
	-- the session is the channel id: nothing to answer
	skynet.ignoreret()
	local self = subscribed[channel]
	if self and self.__subscribe then
		-- (a message sent out before an unsubscribe is dropped)
		self.__dispatch(self, source, self.__unpack(msg, #msg))
	end
end

skynet.init(function()
	multicastd = skynet.uniqueservice "multicastd"
	skynet.register_protocol {
		name = "multicast",
		id = skynet.PTYPE_MULTICAST,
		unpack = function(msg, sz)
			return skynet.tostring(msg, sz)
		end,
		dispatch = dispatch_subscribe,
	}
end)

return multicast
