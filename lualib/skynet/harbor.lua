-- skynet.harbor in a standalone node: global names through the cdummy service.
--   harbor.globalname(name [, handle])  -- register a global name (default: this service)
--   harbor.queryname(name)              -- its address, waiting until it is registered
--   harbor.link(id), harbor.linkmaster() -- return at once; harbor.connect(id) is refused
-- Nodes talk through skynet.cluster in Cirrus, not harbors.
local skynet = require "skynet"

local harbor = {}
local address

local function cslave()
	address = address or skynet.uniqueservice "cdummy"
	return address
end

function harbor.globalname(name, handle)
	skynet.send(cslave(), "lua", "REGISTER", name, handle or skynet.self())
end

function harbor.queryname(name)
	return skynet.call(cslave(), "lua", "QUERYNAME", name)
end

function harbor.link(id)
	skynet.call(cslave(), "lua", "LINK", id)
end

function harbor.connect(id)
	skynet.send(cslave(), "lua", "CONNECT", id)
end

function harbor.linkmaster()
	skynet.call(cslave(), "lua", "LINKMASTER")
end

return harbor
