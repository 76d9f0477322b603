-- Game node of the tier test: pulls from cross nodes on link-up, prints what it learns.
local skynet = require "skynet"
local cluster = require "skynet.cluster"
local router = require "router"

local got

skynet.start(function()
	cluster.open(skynet.getenv "nodename")
	router.start("game", 1, {
		linkup = function(tier, id)
			if tier == "cross" then router.send("cross", id, "pull") end
		end,
		message = function(tier, id, cmd, ev)
			if cmd == "event" and not got then
				got = ev
				print(string.format("GOT EVENT %s FROM %s %s", ev.name, tier, tostring(id)))
				local state = router.call("cross", 1, "state")
				print("REQUEST OK " .. tostring(state and state.name))
				io.stdout:flush()
			end
		end,
	})
end)
