-- A node of the discovery test: no static cluster table; nodes find each other in Redis.
root = "./"
thread = 2
nodename = "$CIRRUS_NODE"
start = "$CIRRUS_START"
cluster_redis = "$CIRRUS_REDIS_URL"
cluster_nodes_key = "$CIRRUS_NODES_KEY"
cluster_events_channel = "$CIRRUS_NODES_KEY:events"
cluster_ttl = 1500
cluster_timeout = 1000
tests = "test_discovery"
luaservice = root .. "tests/cluster/?.lua;" .. root .. "tests/?.lua;" .. root .. "tests/core/?.lua;" .. root .. "service/?.lua"
lua_path = root .. "tests/lualib/?.lua;" .. root .. "lualib/?.lua"
