-- Room kinds of bull poker (game 1). Each game node hosts an instance of the rooms in its
-- `game_rooms`, with `desks` desks of five seats. Countdowns in seconds.
return {
	[1] = {
		name = "Beginner",
		base_score = 1,
		min_gold = 100,
		desks = 250,
		seconds = { ready = 3, bid = 5, bet = 5, open = 5, settle = 2 },
	},
	[2] = {
		name = "Advanced",
		base_score = 10,
		min_gold = 2000,
		desks = 50,
	},
}
