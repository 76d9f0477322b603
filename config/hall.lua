-- Hall node of the local cluster: profiles, the room list, entry to rooms.
include "cluster/common.lua"
nodename = "hall1"
cluster_role = "hall"
console_port = 8003
