-- Echo benchmark node (see docs/PERF.md): TCP gate on 8888, WebSocket gate on 8889, echo
-- agents shared by all connections (a pool of 2), no HTTP. Drive it with cirrus-bench echo.
root = "./"
thread = 2
harbor = 0
start = "netdemo"
mode = "echo"
agents = 2
gate_port = 8888
ws_port = 8889
maxclient = 20000
luaservice = root .. "examples/?.lua;" .. root .. "service/?.lua;" .. root .. "service/?/main.lua"
lua_path = root .. "lualib/?.lua;" .. root .. "lualib/?/init.lua"
