-- Test runner service: starts each test service named in config `tests`, calls its `run`
-- command, prints one line per case and a closing "N passed, M failed" line, then stops the
-- node with exit code 1 if anything failed.

local skynet = require "skynet"
require "skynet.manager"

skynet.start(function()
	local passed, failed = 0, 0
	for name in string.gmatch(skynet.getenv "tests" or "", "[^,%s]+") do
		local ok, svc = pcall(skynet.newservice, name)
		if not ok then
			failed = failed + 1
			print(string.format("FAIL %s: cannot start: %s", name, svc))
		else
			local ok2, results = pcall(skynet.call, svc, "lua", "run")
			if not ok2 then
				failed = failed + 1
				print(string.format("FAIL %s: run raised: %s", name, results))
			else
				for _, r in ipairs(results) do
					if r.ok then
						passed = passed + 1
						print(string.format("PASS %s.%s", name, r.name))
					else
						failed = failed + 1
						print(string.format("FAIL %s.%s: %s", name, r.name, r.err))
					end
				end
			end
		end
	end
	print(string.format("lua: %d passed, %d failed", passed, failed))
	io.stdout:flush()
	skynet.abort(failed == 0 and 0 or 1)
end)
