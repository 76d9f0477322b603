-- Node config of the client side of the game tests (kernel/tests/game.rs): the Lua suites
-- named in $CIRRUS_TESTS play against a game node on $CIRRUS_GAME_PORT.
root = "./"
thread = 2
harbor = 0
start = "runner"
luaservice = root .. "tests/?.lua;" .. root .. "tests/game/?.lua;" .. root .. "service/?.lua;" .. root .. "service/?/main.lua"
lua_path = root .. "tests/lualib/?.lua;" .. root .. "lualib/?.lua;" .. root .. "lualib/?/init.lua"
tests = "$CIRRUS_TESTS"
game_host = "127.0.0.1"
game_port = "$CIRRUS_GAME_PORT"
game_ws_port = "$CIRRUS_GAME_WS_PORT"
game_console = "$CIRRUS_GAME_CONSOLE"
game_push_port = "$CIRRUS_GAME_PUSH_PORT"
game_extra = "$CIRRUS_GAME_EXTRA" -- "key=value,..." for suites that need more (test_gates)
game_run = "$CIRRUS_GAME_RUN"  -- distinguishes device ids between runs
game_dir = "$CIRRUS_GAME_DIR"  -- the game node's data folder (files shared with the harness)
