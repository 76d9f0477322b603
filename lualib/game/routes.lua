-- Which role owns each client request: the watchdog looks every request up here.
--   role    the service that answers: "watchdog" (answered at the gate), "auth", "login",
--           "hall", "chat", or "room" (the room instance the player entered; see bound)
--   login   false: allowed before login (default: a logged-in session is required)
--   guest   true: only before login (a logged-in session gets ALREADY_LOGGED_IN)
--   key     what picks one node among several running the role: "account" or "uid"
--           (requests about one account or player always reach the same node)
--   bound   "room": sent to the room the session entered (NOT_IN_ROOM when none)

return {
	heartbeat = { role = "watchdog", login = false },

	register = { role = "auth", login = false, guest = true, key = "account" },
	auth_challenge = { role = "auth", login = false, guest = true, key = "account" },
	auth_proof = { role = "auth", login = false, guest = true, key = "account" },

	login = { role = "login", login = false, guest = true, key = "account" },
	visitor_login = { role = "login", login = false, guest = true, key = "device_id" },
	reconnect = { role = "login", login = false, guest = true, key = "uid" },
	logout = { role = "login", key = "uid" },

	player_info = { role = "hall", key = "uid" },
	room_list = { role = "hall", key = "uid" },
	room_enter = { role = "hall", key = "uid" },

	room_leave = { role = "room", bound = "room" },
	desk_join = { role = "room", bound = "room" },
	desk_ready = { role = "room", bound = "room" },
	desk_leave = { role = "room", bound = "room" },
	desk_info = { role = "room", bound = "room" },
	bid_banker = { role = "room", bound = "room" },
	bet = { role = "room", bound = "room" },
	open_cards = { role = "room", bound = "room" },

	chat = { role = "chat", key = "uid" },
	chat_history = { role = "chat", key = "uid" },
}
