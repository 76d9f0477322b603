-- All-in-one node: every game role in one process, on embedded stores (no servers needed):
-- online state in-process, records in SQLite under data/. `./start.sh` starts it; then play
-- with `cirrus-bench robot --bots 4 --scenario play`, or connect a client to 8888 (TCP) or
-- 8889 (WebSocket). Read like a skynet config: globals become skynet.getenv keys; a dollar
-- sign before a name expands that environment variable (also inside comments, as in skynet).

root = "./"
thread = 2
harbor = 0
start = "gamenode"             -- service/gamenode.lua: starts the roles below
nodename = "node"
cluster_role = "all"           -- gate, auth, login, hall, locator, game, chat
luaservice = root .. "service/?.lua;" .. root .. "service/?/main.lua"
lua_path = root .. "lualib/?.lua;" .. root .. "lualib/?/init.lua"
console_port = 8000            -- debug console on 127.0.0.1:8000 (telnet/nc)
-- metrics_port = 9100          -- Prometheus text at http://127.0.0.1:9100/metrics (docs/OPS.md)
-- logger = "cirrus.log"        -- log file; default stdout
-- logpath = "log"

-- Stores. Point these at servers for a real deployment (lualib/store.lua, service/db).
online_store = "memory"        -- "memory" (in-process) or "redis"
redis_host = "127.0.0.1"       -- Redis, when online_store = "redis"
redis_port = 6379
redis_db = 0
-- redis_auth = "secret"
-- store_prefix = "game1:"      -- prepended to every online-store key and channel
sql_url = "sqlite://data/cirrus.db"   -- or mysql://user:pass@host:3306/db, postgres://user@host/db
sql_pool = 2                   -- SQL connections per db service instance
db_instances = 4               -- db service instances; requests route by key (lualib/dbhelper.lua)
migrations = root .. "migrations/"    -- schema migrations, one folder per backend, applied at start

-- Gate tier (service/watchdog)
gate_port = 8888               -- TCP, 2-byte big-endian frames
ws_port = 8889                 -- WebSocket, one binary message per packet
gate_address = "0.0.0.0"
maxclient = 20000
watchdog_workers = 2           -- sessions spread over this many services
idle_timeout = 15              -- no packet for this long: the connection is closed, the player offline
replay_window = 128            -- packets kept per player for the replay on reconnect
freeze_timeout = 20            -- a frozen game node's room requests wait at the gate this long
freeze_buffer = 1000           -- at most this many of them per gate node (then BUSY)
shutdown_timeout = 30          -- SIGTERM: wait this long for open flows, then exit 3
snapshot_file = "cirrus.snapshot" -- SIGHUP / console freeze writes it, --restore reads it
push_http_port = 8090          -- POST /push {uids, proto, body} (docs/PROTOCOL.md)
push_http_host = "127.0.0.1"
push_secret = "dev-push-secret" -- the x-push-secret header: change it outside a dev box

-- Login (service/auth, service/login; docs/PROTOCOL.md)
max_online = 20000             -- past this, logins wait in the queue
login_rate = 5000              -- admissions per second
queue_max = 50000
queue_push_interval = 3        -- seconds between queue_wait pushes
auth_kdf_iterations = 10000    -- PBKDF2-HMAC-SHA256 iterations for new accounts
start_gold = 10000             -- gold of a new player
reconnect_window = 300         -- seconds a disconnected player keeps the session

-- Game (service/locator, service/room; rooms in config/rooms.lua)
rooms_file = root .. "config/rooms.lua"
game_server_id = 1             -- this node's game server id
game_rooms = "1,2"             -- room kinds it hosts
locator_standby = "2"          -- server ids started in this process when server 1 is full
locator_idle = 60              -- seconds an empty standby server lives on

-- Chat (service/chat)
chat_burst = 5                 -- messages at once, then one per chat_interval seconds
chat_interval = 1
