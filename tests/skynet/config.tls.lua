-- tests/skynet/config.lua with the certificate kernel/tests/skynet.rs made (rcgen), for the
-- https agents of examples/simpleweb.lua.
include "config.lua"
certfile = "$CIRRUS_TLS_CERT"
keyfile = "$CIRRUS_TLS_KEY"
