-- Node for the gate tests in kernel/tests/net.rs: every listener takes a free port and
-- net_node prints them on one "NET READY" line.
root = "./"
thread = 2
harbor = 0
start = "net_node"
luaservice = root .. "tests/net/?.lua;" .. root .. "examples/?.lua;" .. root .. "service/?.lua"
lua_path = root .. "tests/lualib/?.lua;" .. root .. "lualib/?.lua;" .. root .. "lualib/?/init.lua"
