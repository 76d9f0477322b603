-- The "debug" protocol every service answers (console: mem, gc, stat, ping, exit, ...).

local table = table
local extern_dbgcmd = {}

local function init(skynet, export)
	local dbgcmd

	local function init_dbgcmd()
		dbgcmd = {}

		function dbgcmd.MEM()
			local kb = collectgarbage "count"
			skynet.ret(skynet.pack(kb))
		end

		function dbgcmd.GC()
			collectgarbage "collect"
			skynet.ret(skynet.pack(collectgarbage "count"))
		end

		function dbgcmd.STAT()
			skynet.ret(skynet.pack({
				task = skynet.task(),
				mqlen = skynet.stat "mqlen",
				cpu = skynet.stat "cpu",
				message = skynet.stat "message",
			}))
		end

		function dbgcmd.TASK(session)
			if session then
				skynet.ret(skynet.pack(skynet.task(session)))
			else
				skynet.ret(skynet.pack(skynet.task()))
			end
		end

		function dbgcmd.UNIQTASK()
			skynet.ret(skynet.pack(skynet.uniqtask()))
		end

		function dbgcmd.INFO(...)
			local info = export.info()
			if info then
				skynet.ret(skynet.pack(info(...)))
			else
				skynet.ret(skynet.pack(nil))
			end
		end

		function dbgcmd.EXIT()
			skynet.exit()
		end

		function dbgcmd.RUN(source, filename, ...)
			local inject = require "skynet.inject"
			local args = table.pack(...)
			local ok, output = inject(skynet, source, filename, args, export.proto, export.dispatch, skynet.register_protocol)
			collectgarbage "collect"
			skynet.ret(skynet.pack(ok, table.concat(output, "\n")))
		end

		-- hotfix: replace this service's functions with a new version of one of its files,
		-- keeping its state (lualib/skynet/hotfix.lua); nothing changes when it fails.
		function dbgcmd.HOTFIX(source, filename, realfile, modname)
			local hotfix = require "skynet.hotfix"
			local ok, out = pcall(hotfix.apply, skynet, export, source, filename, realfile, modname)
			if ok then
				skynet.error(table.concat(out, "\n"))
				skynet.ret(skynet.pack(true, table.concat(out, "\n")))
			else
				skynet.error(string.format("hotfix %s failed, old code kept: %s", tostring(filename), tostring(out)))
				skynet.ret(skynet.pack(false, tostring(out)))
			end
		end

		-- graceful shutdown (kernel/src/lifecycle/shutdown.rs): run skynet.onshutdown hooks
		function dbgcmd.SHUTDOWN()
			skynet.ret(skynet.pack(export.shutdown()))
		end

		-- freeze (kernel/src/lifecycle/freeze.rs): nil (no hook), true + packed state, or
		-- false + the error
		function dbgcmd.FREEZE()
			skynet.ret(skynet.pack(export.freeze()))
		end

		function dbgcmd.TERM(service)
			skynet.term(service)
		end

		function dbgcmd.SUPPORT(pname)
			return skynet.ret(skynet.pack(skynet.dispatch(pname) ~= nil))
		end

		function dbgcmd.PING()
			return skynet.ret()
		end

		function dbgcmd.LINK()
			skynet.response() -- get response, but not return. raise error when exit
		end

		return dbgcmd
	end -- function init_dbgcmd

	local function _debug_dispatch(session, address, cmd, ...)
		dbgcmd = dbgcmd or init_dbgcmd() -- lazy init dbgcmd
		local f = dbgcmd[cmd] or extern_dbgcmd[cmd]
		assert(f, cmd)
		f(...)
	end

	return _debug_dispatch
end

local function reg_debugcmd(name, fn)
	local prev = extern_dbgcmd[name]
	extern_dbgcmd[name] = fn
	return prev
end

return {
	init = init,
	reg_debugcmd = reg_debugcmd,
}
