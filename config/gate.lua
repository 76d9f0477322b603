-- Gate node of the local cluster (./start.sh cluster up): client connections and sessions.
include "cluster/common.lua"
nodename = "gate1"
cluster_role = "gate"
gate_port = 8888
ws_port = 8889
gate_address = "0.0.0.0"
maxclient = 20000
watchdog_workers = 2
console_port = 8001
push_http_port = 8090
push_http_host = "127.0.0.1"
push_secret = "dev-push-secret"
