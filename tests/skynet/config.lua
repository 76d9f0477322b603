-- Runs skynet's own services (test/*.lua, examples/) from the skynet tree at $SKYNET_ROOT on
-- Cirrus, from that tree as the working directory (some read files by relative path): our
-- lualib and service/ ($CIRRUS_ROOT) come first, skynet's scripts after them. `start` comes from
-- $CIRRUS_START.
root = "$CIRRUS_ROOT/"
sk = "$SKYNET_ROOT/"
thread = 8
harbor = 0
start = "$CIRRUS_START"
-- skynet's programs see skynet's own "call failed" (docs/SKYNET.md)
call_errors = "skynet"
-- Cirrus's framework services first, then skynet's, then our game roles (service/NAME/main.lua:
-- watchdog, login... which skynet's examples also name)
luaservice = root .. "service/?.lua;" .. root .. "tests/skynet/?.lua;" .. sk .. "test/?.lua;" .. sk .. "examples/?.lua;" .. sk .. "test/?/init.lua;" .. root .. "service/?/main.lua"
lua_path = root .. "lualib/?.lua;" .. root .. "lualib/?/init.lua"
snax = sk .. "examples/?.lua;" .. sk .. "test/?.lua"
