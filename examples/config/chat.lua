-- Chat room example: every client of the TCP gate (8888) or WebSocket gate (8889) is in one
-- room; lines are broadcast as "name: text", "/nick NAME" renames. HTTP on 127.0.0.1:8080:
-- POST /push sends the body to everyone. Try, in two terminals:
--   cirrus-bench talk 127.0.0.1:8888
--   websocat --binary ws://127.0.0.1:8889
-- and:  curl -d 'server restarts in 5 minutes' http://127.0.0.1:8080/push
root = "./"
thread = 2
harbor = 0
start = "netdemo"
mode = "chat"
gate_port = 8888
ws_port = 8889
http_port = 8080
maxclient = 10240
luaservice = root .. "examples/?.lua;" .. root .. "service/?.lua;" .. root .. "service/?/main.lua"
lua_path = root .. "lualib/?.lua;" .. root .. "lualib/?/init.lua"
