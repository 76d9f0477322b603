-- Node config for tests/bench/cluster.sh.
root = "./"
thread = $CIRRUS_THREADS
nodename = "$CIRRUS_NODE"
start = "$CIRRUS_START"
cluster = "$CIRRUS_CLUSTER_FILE"
luaservice = root .. "tests/bench/?.lua;" .. root .. "service/?.lua"
lua_path = root .. "lualib/?.lua"
