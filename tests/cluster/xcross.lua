-- Cross-server node of the tier test: holds an active event, broadcasts it down to game nodes
-- on link-up and answers pulls and requests.
local skynet = require "skynet"
local cluster = require "skynet.cluster"
local router = require "router"

local event = { name = "dragon", ends = 1234 }

skynet.start(function()
	cluster.open(skynet.getenv "nodename")
	router.start("cross", 1, {
		linkup = function(tier, id)
			if tier == "game" then router.send("game", id, "event", event) end
		end,
		message = function(tier, id, cmd)
			if cmd == "pull" then router.send(tier, id, "event", event) end
		end,
		request = function(tier, id, what)
			return what == "state" and event or nil
		end,
	})
end)
