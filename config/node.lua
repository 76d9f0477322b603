-- All-in-one node: every role in one process, on embedded defaults (no servers needed).
-- Read like a skynet config: globals become skynet.getenv keys; a dollar sign before a name
-- expands that environment variable (also inside comments, as in skynet).

root = "./"
thread = 2
harbor = 0
start = "main"                 -- examples/main.lua (the game node replaces it)
luaservice = root .. "service/?.lua;" .. root .. "service/?/main.lua;" .. root .. "examples/?.lua"
lua_path = root .. "lualib/?.lua;" .. root .. "lualib/?/init.lua"
console_port = 8000            -- debug console on 127.0.0.1:8000 (telnet/nc)
-- logger = "cirrus.log"        -- log file; default stdout
-- logpath = "log"

-- Stores. The all-in-one node keeps online state in-process and records in SQLite under data/;
-- point these at servers for a real deployment (lualib/store.lua, service/db).
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
