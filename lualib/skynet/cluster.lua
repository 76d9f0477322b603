-- skynet.cluster: call and send to services on other nodes.
-- Addresses are handles, ".localname" on the remote node, or "@name" registered there with
-- cluster.register. Calls to an unknown or unreachable node raise at once.

local skynet = require "skynet"
local core = require "skynet.cluster.core"

local cluster = {}

function cluster.call(node, address, ...)
	return skynet.await(core.call(node, address, skynet.packstring(...)), node)
end

function cluster.rawcall(node, address, msg, sz)
	return skynet.rawawait(core.call(node, address, msg, sz), node)
end

function cluster.send(node, address, ...)
	core.send(node, address, skynet.packstring(...))
end

function cluster.rawsend(node, address, msg, sz)
	core.send(node, address, msg, sz)
end

-- Listen: a node name from the cluster table, or a port number.
function cluster.open(port)
	return core.open(port)
end

-- Replace the node table (name -> "host:port"); with no argument, reread the config file.
function cluster.reload(config)
	core.reload(config)
end

function cluster.nodes()
	return core.nodes()
end

-- node name -> its `cluster_role` string, for the live nodes found through discovery.
function cluster.roles()
	return core.roles()
end

function cluster.register(name, addr)
	assert(type(name) == "string")
	core.register(name, addr or skynet.self())
end

function cluster.unregister(name)
	core.unregister(name)
end

-- The handle behind a name registered on another node.
function cluster.query(node, name)
	return skynet.await(core.call(node, 0, skynet.packstring(name)), node)
end

local proxies = {}

-- A local address whose lua calls and sends go to `address` on `node`.
function cluster.proxy(node, address)
	local key = node .. "." .. tostring(address)
	local p = proxies[key]
	if not p then
		p = skynet.newservice("clusterproxy", node, address)
		proxies[key] = p
	end
	return p
end

return cluster
