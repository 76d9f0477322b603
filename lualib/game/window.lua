-- The replay window: the last `replay_window` packets the server sent a player, kept in the
-- online store (seed 004's cache_info) so that a reconnect on any gate, even after the gate
-- that held the connection died, replays what the client missed.
--
--   cache_info:<uid>   list, oldest first; entry = header .. packet, header = ">i8 i8 i8"
--                      (incarnation, seq, session of the request it answers or 0)
--
-- Entries carry the incarnation so that a late write of an older login (which may race the
-- new login's clear) is never replayed to the new one.
--
--   window.append(uid, { {inc, seq, session, packet}, ... })   one pipeline per batch
--   window.append_many({ { uid = , entries = ... }, ... })     several players, one pipeline
--   window.load(uid, inc)     -> list of { seq, session, packet }, oldest first
--   window.last(uid, inc)     -> seq of the newest kept packet of that login, or 0
--   window.clear(uid)

local online = require "game.online"
local conf = require "game.conf"

local window = {}

local SIZE = conf.number("replay_window", 128)
local HEADER = ">i8i8i8"
local HEADER_LEN = string.packsize(HEADER)

window.SIZE = SIZE

local function key(S, uid)
	return S.prefix .. "cache_info:" .. uid
end

local function ops(S, uid, entries, out)
	local k = key(S, uid)
	local push = { "rpush", k, n = #entries + 2 }
	for i, e in ipairs(entries) do
		push[i + 2] = string.pack(HEADER, e[1], e[2], e[3] or 0) .. e[4]
	end
	out[#out + 1] = push
	out[#out + 1] = { "ltrim", k, -SIZE, -1 }
end

function window.append(uid, entries)
	if #entries == 0 then
		return
	end
	local S = online.store()
	local out = {}
	ops(S, uid, entries, out)
	S.db:pipeline(out)
end

-- Several players at once, one pipeline: { { uid = , entries = { ... } }, ... }
function window.append_many(list)
	local S = online.store()
	local out = {}
	for _, w in ipairs(list) do
		ops(S, w.uid, w.entries, out)
	end
	if out[1] then
		S.db:pipeline(out)
	end
end

local function decode(raw)
	local inc, seq, session = string.unpack(HEADER, raw)
	return inc, seq, session, raw:sub(HEADER_LEN + 1)
end

function window.load(uid, inc)
	local S = online.store()
	local out = {}
	for _, raw in ipairs(S.db:lrange(key(S, uid), 0, -1) or {}) do
		local i, seq, session, packet = decode(raw)
		if i == inc then
			out[#out + 1] = { seq = seq, session = session, packet = packet }
		end
	end
	return out
end

function window.last(uid, inc)
	local list = window.load(uid, inc)
	local last = list[#list]
	return last and last.seq or 0
end

function window.clear(uid)
	local S = online.store()
	S.db:del(key(S, uid))
end

return window
