-- Error codes of the client protocol: every response's `code` (docs/PROTOCOL.md lists them).
-- errors.NAME is the number; errors.name(code) the name, for logs and the robot's report.

local errors = {
	OK = 0,
	INTERNAL = 1,
	BAD_REQUEST = 2,
	UNKNOWN_MESSAGE = 3,
	NOT_LOGGED_IN = 4,
	ALREADY_LOGGED_IN = 5,
	UNAVAILABLE = 6,
	BUSY = 7,
	GAME_DOWN = 8,

	ACCOUNT_EXISTS = 10,
	BAD_ACCOUNT = 11,
	BAD_PASSWORD = 12,
	UNKNOWN_ACCOUNT = 13,
	NO_CHALLENGE = 14,
	BAD_PROOF = 15,
	BAD_TOKEN = 16,
	BAD_RECONNECT = 17,
	QUEUE_FULL = 18,
	BAD_NICKNAME = 19,

	UNKNOWN_ROOM = 20,
	NOT_IN_ROOM = 21,
	IN_ROOM = 22,
	ROOM_FULL = 23,
	LOW_GOLD = 24,
	AT_DESK = 25,

	UNKNOWN_DESK = 30,
	DESK_FULL = 31,
	NOT_AT_DESK = 32,
	WRONG_PHASE = 33,
	NOT_PLAYING = 34,
	ALREADY_ACTED = 35,
	BAD_TIMES = 36,
	BANKER_NO_BET = 37,

	CHAT_TOO_LONG = 40,
	CHAT_TOO_FAST = 41,
	BAD_SCOPE = 42,
	NOT_IN_SCOPE = 43,
	CHAT_EMPTY = 44,
}

local names = {}
for k, v in pairs(errors) do
	names[v] = k
end

function errors.name(code)
	return names[code] or tostring(code)
end

-- A response body carrying only an error code.
function errors.reply(code)
	return { code = code }
end

return errors
