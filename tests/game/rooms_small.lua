-- Rooms for the locator test: room 1 has one desk (five players), so the sixth player makes
-- the locator start a standby server.
return {
	[1] = {
		name = "Tiny",
		base_score = 1,
		min_gold = 100,
		desks = 1,
		seconds = { ready = 1, bid = 2, bet = 2, open = 2, settle = 1 },
	},
}
