-- A game node of the local cluster: room instances of `game_rooms` as game server
-- $CIRRUS_SERVER_ID, named $CIRRUS_NODE, so several game nodes start from this one file:
--   CIRRUS_NODE=game1 CIRRUS_SERVER_ID=1 ./start.sh config/game.lua
include "cluster/common.lua"
nodename = "$CIRRUS_NODE"
cluster_role = "game"
game_server_id = "$CIRRUS_SERVER_ID"
console_port = 8010 + "$CIRRUS_SERVER_ID"   -- game1 on 8011, game2 on 8012, ...
snapshot_file = "run/$CIRRUS_NODE.snapshot"  -- SIGHUP / console freeze writes it, --restore reads it
