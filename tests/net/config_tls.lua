-- Node for kernel/tests/tls.rs: tests/net/tls_node.lua with the certificate the test made.
root = "./"
thread = 2
harbor = 0
start = "tls_node"
certfile = "$CIRRUS_TLS_CERT"
keyfile = "$CIRRUS_TLS_KEY"
luaservice = root .. "tests/net/?.lua;" .. root .. "service/?.lua"
lua_path = root .. "tests/lualib/?.lua;" .. root .. "lualib/?.lua;" .. root .. "lualib/?/init.lua"
