-- sproto inside services: schemas shared through sprotoloader, client packets decoded from
-- the kernel's message pointers, responses encoded back.
local skynet = require "skynet"
local sprotoparser = require "sprotoparser"
local sprotoloader = require "sprotoloader"
local core = require "skynet.core"
local T = require "testing"

T.case("an agent decodes a client packet from its message pointer", function()
	local function read(path)
		local f = assert(io.open(path)); local s = f:read("a"); f:close(); return s
	end
	sprotoloader.save(sprotoparser.parse(read("sproto/proto.c2s.sproto")), 1)
	sprotoloader.save(sprotoparser.parse(read("sproto/proto.s2c.sproto")), 2)
	local agent = skynet.newservice("svc_sproto_agent")
	-- the client side: a host over s2c that sends c2s requests
	local client = sprotoloader.load(2):host "package"
	local request = client:attach(sprotoloader.load(1))
	local pkt = request("auth_challenge", { account = "alice", client_nonce = "\0\1\2" }, 7)
	core.send(agent, skynet.PTYPE_CLIENT, 0, pkt)
	local last = skynet.call(agent, "lua", "last")
	T.eq(last.kind, "REQUEST")
	T.eq(last.name, "auth_challenge")
	T.eq(last.args.account, "alice")
	T.eq(last.args.client_nonce, "\0\1\2")
	-- the response the agent built decodes on the client as the answer to session 7
	local kind, session, resp = client:dispatch(last.reply)
	T.eq(kind, "RESPONSE")
	T.eq(session, 7)
	T.eq(resp.server_nonce, "n1")
end)

T.start()
