-- Echo example: TCP gate on 8888 (2-byte big-endian length frames), WebSocket gate on 8889,
-- HTTP on 127.0.0.1:8080 (GET /health, POST /push). Try:
--   printf '\x00\x05hello' | nc -q1 127.0.0.1 8888 | od -c
--   websocat --binary ws://127.0.0.1:8889
--   cirrus-bench talk 127.0.0.1:8888
root = "./"
thread = 2
harbor = 0
start = "netdemo"              -- examples/netdemo.lua
mode = "echo"
agents = 0                     -- 0: one agent per connection (skynet's pattern); N: a pool of N
gate_port = 8888
ws_port = 8889
http_port = 8080
maxclient = 10240
luaservice = root .. "examples/?.lua;" .. root .. "service/?.lua;" .. root .. "service/?/main.lua"
lua_path = root .. "lualib/?.lua;" .. root .. "lualib/?/init.lua"
