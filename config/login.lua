-- Login node of the local cluster: registration, the handshake, the login queue, sessions.
include "cluster/common.lua"
nodename = "login1"
cluster_role = "auth,login"
console_port = 8002
