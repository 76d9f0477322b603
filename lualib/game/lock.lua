-- Keyed critical sections inside one service: lock.run(key, fn, ...) runs fn once no other
-- coroutine of this service runs one for the same key; callers queue in order. Used for
-- everything that changes one player's online record (login, reconnect, disconnect, logout).

local skynet = require "skynet"

local lock = {}

local held = {} -- key -> FIFO of waiting coroutine tokens (empty table: held, none waiting)

local function release(key)
	local q = held[key]
	local nxt = table.remove(q, 1)
	if nxt then
		skynet.wakeup(nxt)
	else
		held[key] = nil
	end
end

function lock.run(key, fn, ...)
	local q = held[key]
	if q then
		local token = {}
		q[#q + 1] = token
		skynet.wait(token)
	else
		held[key] = {}
	end
	local r = table.pack(pcall(fn, ...))
	release(key)
	if not r[1] then
		error(r[2], 0)
	end
	return table.unpack(r, 2, r.n)
end

return lock
