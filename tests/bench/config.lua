-- Benchmark node: `bench` names the benchmark service (tests/bench/bench_*.lua).
root = "./"
thread = $CIRRUS_THREADS
harbor = 0
start = "$CIRRUS_BENCH"
bench_n = "$CIRRUS_BENCH_N"
luaservice = root .. "tests/bench/?.lua;" .. root .. "service/?.lua"
lua_path = root .. "tests/lualib/?.lua;" .. root .. "lualib/?.lua;" .. root .. "lualib/?/init.lua"
