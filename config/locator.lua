-- Locator node of the local cluster: places players on game nodes; starts standby game
-- nodes (game2, game3) when the running ones are full and stops them when idle.
include "cluster/common.lua"
nodename = "locator1"
cluster_role = "locator"
console_port = 8005
locator_standby = "$CIRRUS_STANDBY"          -- e.g. "game2:2,game3:3" (name:server id)
locator_start_cmd = "$CIRRUS_START_GAME"     -- e.g. "./start.sh config/game.lua"
locator_start_log = "log/"
locator_idle = 60
