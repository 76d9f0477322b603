-- skynet's examples/login (a snax.loginserver and a snax.msgserver) on Cirrus; see config.lua.
include "config.lua"
start = "main"
luaservice = root .. "service/?.lua;" .. sk .. "examples/login/?.lua"
