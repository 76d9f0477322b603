-- Helper: reads sharedata from another service.
local skynet = require "skynet"
local sharedata = require "skynet.sharedata"
local objs = {}
skynet.start(function()
	skynet.dispatch("lua", function(_, _, cmd, name, key)
		objs[name] = objs[name] or sharedata.query(name)
		skynet.ret(skynet.pack(objs[name][key]))
	end)
end)
