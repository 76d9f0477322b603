-- A node of the cluster tests: name, start service and cluster table come from the env.
root = "./"
thread = 2
nodename = "$CIRRUS_NODE"
start = "$CIRRUS_START"
cluster = "$CIRRUS_CLUSTER_FILE"
cluster_timeout = 1000
metrics_port = "$CIRRUS_METRICS_PORT"
tests = "test_cluster"
luaservice = root .. "tests/cluster/?.lua;" .. root .. "tests/?.lua;" .. root .. "tests/core/?.lua;" .. root .. "service/?.lua"
lua_path = root .. "tests/lualib/?.lua;" .. root .. "lualib/?.lua"
