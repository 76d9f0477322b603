-- Shared by the role nodes of the local cluster (config/*.lua includes this): every node on
-- Redis (online state, discovery) and MariaDB (records). Override the servers with the
-- environment: CIRRUS_REDIS (host:port of Redis), CIRRUS_SQL (SQL URL); ./start.sh cluster
-- sets defaults for them.
root = "./"
thread = 2
harbor = 0
start = "gamenode"
luaservice = root .. "service/?.lua;" .. root .. "service/?/main.lua"
lua_path = root .. "lualib/?.lua;" .. root .. "lualib/?/init.lua"

cluster_redis = "redis://$CIRRUS_REDIS/0"   -- discovery: the cluster_nodes hash, cluster_events
cluster_listen = "127.0.0.1:0"
online_store = "redis"
redis_host = "127.0.0.1"
redis_port = 6379
store_prefix = "$CIRRUS_STORE_PREFIX"       -- keeps two clusters on one Redis apart
cluster_nodes_key = "$CIRRUS_STORE_PREFIX" .. "cluster_nodes"
cluster_events_channel = "$CIRRUS_STORE_PREFIX" .. "cluster_events"
sql_url = "$CIRRUS_SQL"
sql_pool = 4
db_instances = 2
migrations = root .. "migrations/"

rooms_file = root .. "config/rooms.lua"
game_rooms = "1,2"
start_gold = 10000
max_online = 20000
login_rate = 5000
auth_kdf_iterations = 10000
reconnect_window = 300
idle_timeout = 15
replay_window = 128
chat_burst = 5
chat_interval = 1
