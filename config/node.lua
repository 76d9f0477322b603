-- All-in-one node: every role in one process, on embedded defaults (no servers needed).
-- Read like a skynet config: globals become skynet.getenv keys; a dollar sign before a name
-- expands that environment variable (also inside comments, as in skynet).

root = "./"
thread = 2
harbor = 0
start = "main"                 -- service/main.lua
luaservice = root .. "service/?.lua;" .. root .. "service/?/main.lua;" .. root .. "examples/?.lua"
lua_path = root .. "lualib/?.lua;" .. root .. "lualib/?/init.lua"
console_port = 8000            -- debug console on 127.0.0.1:8000 (telnet/nc)
-- logger = "cirrus.log"        -- log file; default stdout
-- logpath = "log"
