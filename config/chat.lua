-- Chat node of the local cluster: the five chat scopes.
include "cluster/common.lua"
nodename = "chat1"
cluster_role = "chat"
console_port = 8004
