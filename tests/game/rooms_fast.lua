-- Rooms for the game tests: short countdowns so rounds finish quickly.
return {
	[1] = {
		name = "Test",
		base_score = 1,
		min_gold = 100,
		desks = 20,
		-- settle long enough for test_play to ready and leave during it
		seconds = { ready = 1, bid = 2, bet = 2, open = 2, settle = 3 },
	},
	[2] = {
		name = "High",
		base_score = 10,
		min_gold = 50000,
		desks = 2,
		seconds = { ready = 1, bid = 2, bet = 2, open = 2, settle = 1 },
	},
}
