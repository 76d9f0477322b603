-- datacenterd: the store behind skynet.datacenter (registered as the global name DATACENTER).
-- Values live in a tree addressed by key paths; WAIT on a path not set yet answers when an
-- UPDATE sets it, and fails if the path turns out to be a branch.
local skynet = require "skynet"
require "skynet.manager"

local tree = {}
local waiting = {} -- the same shape as `tree`: queues of responses at the leaves
local KIND = {}    -- waiting[...][KIND] = "queue" (a leaf) or "branch"

local function lookup(node, key, ...)
	if node == nil or key == nil then
		return node
	end
	return lookup(node[key], ...)
end

local command = {}

function command.QUERY(key, ...)
	local v = tree[key]
	if v ~= nil then
		return lookup(v, ...)
	end
end

-- set the leaf at the path (the last argument is the value); returns the old and new values
local function set(node, key, value, ...)
	if select("#", ...) == 0 then
		local old = node[key]
		node[key] = value
		return old, value
	end
	if node[key] == nil then
		node[key] = {}
	end
	return set(node[key], value, ...)
end

-- take the queue of waiters at the path set by UPDATE (the last argument is the value)
local function take_waiters(node, key, ...)
	if key == nil then
		return
	end
	local q = node[key]
	if q == nil then
		return
	end
	if q[KIND] == "queue" then
		node[key] = nil
		if select("#", ...) == 1 then
			return q
		end
		-- a subtree was set where callers wait for a leaf: fail them
		for _, response in ipairs(q) do
			response(false)
		end
		return
	end
	return take_waiters(q, ...)
end

function command.UPDATE(...)
	local old, value = set(tree, ...)
	if old ~= nil or value == nil then
		return old
	end
	local q = take_waiters(waiting, ...)
	if q then
		for _, response in ipairs(q) do
			response(true, value)
		end
	end
end

local function wait_for(node, key, nextkey, ...)
	local q = node[key]
	if nextkey == nil then
		if q == nil then
			q = { [KIND] = "queue" }
			node[key] = q
		else
			assert(q[KIND] == "queue")
		end
		q[#q + 1] = skynet.response()
		return
	end
	if q == nil then
		q = { [KIND] = "branch" }
		node[key] = q
	else
		assert(q[KIND] == "branch")
	end
	return wait_for(q, nextkey, ...)
end

skynet.start(function()
	if not skynet.localname "DATACENTER" then
		skynet.register "DATACENTER"
	end
	skynet.dispatch("lua", function(_, _, cmd, ...)
		if cmd == "WAIT" then
			local v = command.QUERY(...)
			if v ~= nil then
				skynet.retpack(v)
			else
				wait_for(waiting, ...)
			end
		else
			local f = assert(command[cmd], cmd)
			skynet.retpack(f(...))
		end
	end)
end)
