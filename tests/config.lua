-- Config for the Lua test suite: `tests` (comma list) comes from $CIRRUS_TESTS.
root = "./"
thread = $CIRRUS_THREADS
harbor = 0
start = "runner"
luaservice = root .. "tests/?.lua;" .. root .. "tests/core/?.lua;" .. root .. "tests/game/?.lua;" .. root .. "tests/net/?.lua;" .. root .. "tests/store/?.lua;" .. root .. "tests/bench/?.lua;" .. root .. "service/?.lua;" .. root .. "service/?/main.lua"
lua_path = root .. "tests/lualib/?.lua;" .. root .. "tests/store/?.lua;" .. root .. "lualib/?.lua;" .. root .. "lualib/?/init.lua"
tests = "$CIRRUS_TESTS"
snax = root .. "tests/core/?.lua"
console_port = $CIRRUS_CONSOLE_PORT
test_greeting = "hello from config"
