-- The modules and API added for skynet programs (docs/SKYNET.md): snax, datacenter, multicast,
-- stm/sharemap, skynet.service, request/select, global names, trace, stat "time", crypt
-- errors. skynet's own tests run side by side in kernel/tests/skynet.rs; these check our
-- code without a skynet tree.
local skynet = require "skynet"
require "skynet.manager"
local snax = require "skynet.snax"
local datacenter = require "skynet.datacenter"
local multicast = require "skynet.multicast"
local stm = require "skynet.stm"
local service = require "skynet.service"
local crypt = require "skynet.crypt"
local T = require "testing"

T.case("snax: init, post, req, hotfix keeps state, profile, exit", function()
	local c = snax.newservice("snax_counter", "first", 10)
	T.eq(select(2, c.req.get()), 10)
	c.post.add(5)
	local n, v = c.req.get()
	T.eq(n, "first")
	T.eq(v, 15)
	T.raises(function() return c.req.nosuch() end, "request snax_counter:nosuch no exist")
	T.raises(function() return c.post.nosuch() end, "post snax_counter:nosuch no exist")
	-- the patch's `local count` joins the running service's count
	local old = snax.hotfix(c, [[
local count
function accept.add(n)
	count = count + 2 * n
end
function hotfix(x)
	return count + x
end
]], 1)
	T.eq(old, 16)
	c.post.add(1)
	T.eq(select(2, c.req.get()), 17)
	local prof = snax.profile_info(c)
	T.eq(prof.get.count, 3)
	T.eq(prof.add.count, 2)
	T.ok(prof.get.time >= 0)
	T.eq(tostring(c), string.format("[snax_counter:%x]", c.handle))
	snax.kill(c, "bye")
	T.raises(function() return c.req.get() end, "")
end)

T.case("snax: uniqueservice starts once, queryservice finds it", function()
	local a = snax.uniqueservice("snax_counter", "uniq", 1)
	local b = snax.uniqueservice("snax_counter", "ignored", 2)
	T.eq(a.handle, b.handle)
	T.eq(snax.queryservice("snax_counter").handle, a.handle)
	T.eq(select(2, b.req.get()), 1)
end)

T.case("datacenter: set, get, wait for a leaf, a branch fails its waiters", function()
	T.eq(datacenter.set("compat", "a", 1), nil)
	T.eq(datacenter.set("compat", "a", 2), 1)
	T.eq(datacenter.get("compat", "a"), 2)
	T.eq(datacenter.get("compat").a, 2)
	local got
	skynet.fork(function()
		got = datacenter.wait("compat", "later")
	end)
	skynet.sleep(2)
	T.eq(got, nil)
	datacenter.set("compat", "later", "here")
	skynet.sleep(2)
	T.eq(got, "here")
	local ok
	skynet.fork(function()
		ok = pcall(datacenter.wait, "branch")
	end)
	skynet.sleep(2)
	datacenter.set("branch", "leaf", 1)
	skynet.sleep(2)
	T.eq(ok, false)
end)

T.case("skynet.service: one service per name, query, close", function()
	local a = service.new("compat_echo", function()
		local skynet = require "skynet"
		skynet.start(function()
			skynet.dispatch("lua", function(_, _, ...)
				skynet.retpack(...)
			end)
		end)
	end)
	T.eq(service.new("compat_echo", function() end), a)
	T.eq(service.query("compat_echo"), a)
	T.eq(skynet.call(a, "lua", "x", 2), "x")
	T.eq(service.close("compat_echo"), true)
	T.raises(function() service.new("bad", function() return T end) end, "only use globals")
end)

T.case("multicast: every subscriber gets a publish, none after unsubscribe", function()
	local ch = multicast.new()
	local subs = {}
	for i = 1, 2 do
		subs[i] = service.new("compat_sub" .. i, function()
			local skynet = require "skynet"
			local multicast = require "skynet.multicast"
			local got = {}
			local c
			skynet.start(function()
				skynet.dispatch("lua", function(_, _, cmd, id)
					if cmd == "sub" then
						c = multicast.new { channel = id, dispatch = function(_, _, ...)
							got[#got + 1] = table.concat({ ... }, ",")
						end }
						c:subscribe()
					elseif cmd == "unsub" then
						c:unsubscribe()
					end
					skynet.retpack(got)
				end)
			end)
		end)
		skynet.call(subs[i], "lua", "sub", ch.channel)
	end
	ch:publish("hello", 1)
	skynet.sleep(5)
	T.same(skynet.call(subs[1], "lua", "get"), { "hello,1" })
	T.same(skynet.call(subs[2], "lua", "get"), { "hello,1" })
	skynet.call(subs[2], "lua", "unsub")
	ch:publish("again", 2)
	skynet.sleep(5)
	T.same(skynet.call(subs[1], "lua", "get"), { "hello,1", "again,2" })
	T.same(skynet.call(subs[2], "lua", "get"), { "hello,1" })
	ch:delete()
end)

T.case("stm: a reader in another service sees each new value once", function()
	local w = stm.new(skynet.pack(1, 2))
	local reader = service.new("compat_stm", function()
		local skynet = require "skynet"
		local stm = require "skynet.stm"
		local r
		skynet.start(function()
			skynet.dispatch("lua", function(_, _, cmd, copy)
				if cmd == "init" then
					r = stm.newcopy(copy)
					return skynet.retpack(true)
				end
				skynet.retpack(r(skynet.unpack))
			end)
		end)
	end)
	skynet.call(reader, "lua", "init", stm.copy(w))
	T.same({ skynet.call(reader, "lua", "read") }, { true, 1, 2 })
	T.same({ skynet.call(reader, "lua", "read") }, { false })
	w(skynet.pack("x"))
	T.same({ skynet.call(reader, "lua", "read") }, { true, "x" })
	T.raises(function() stm.newcopy(123456789) end, "not a copy")
end)

T.case("request/select: responses as they come, failures as false, a timeout", function()
	local slow = service.new("compat_slow", function()
		local skynet = require "skynet"
		skynet.start(function()
			skynet.dispatch("lua", function(_, _, ti)
				if ti == "boom" then
					error "boom"
				end
				skynet.sleep(ti)
				skynet.retpack(ti)
			end)
		end)
	end)
	local order = {}
	for _, resp in skynet.request { slow, "lua", 6 } { slow, "lua", 2 } { slow, "lua", "boom" }:select() do
		order[#order + 1] = resp and resp[1] or false
	end
	T.same(order, { false, 2, 6 })
	local reqs = skynet.request()
	reqs:add { slow, "lua", 1, token = "fast" }
	reqs:add { slow, "lua", 300, token = "slow" }
	local seen = {}
	for req, resp in reqs:select(20) do
		seen[#seen + 1] = req.token .. "=" .. resp[1]
	end
	T.same(seen, { "fast=1" })
	T.eq(reqs.timeout, true)
end)

T.case("global names: register and call without a dot", function()
	local echo = service.new("compat_named", function()
		local skynet = require "skynet"
		require "skynet.manager"
		skynet.start(function()
			skynet.register "COMPATNAME"
			skynet.dispatch("lua", function(_, _, v)
				skynet.retpack(v * 2)
			end)
		end)
	end)
	T.eq(skynet.localname "COMPATNAME", echo)
	T.eq(skynet.call("COMPATNAME", "lua", 21), 42)
end)

T.case("trace tags, stat time, trace_timeout in skynet.task", function()
	T.eq(skynet.tracetag(), nil)
	skynet.trace "compat"
	T.eq(skynet.tracetag(), string.format(":%08x-1", skynet.self()))
	local t0 = tonumber(skynet.stat "time")
	local x = 0
	for i = 1, 200000 do
		x = x + i
	end
	T.ok(tonumber(skynet.stat "time") > t0, "time grows while a message runs")
	skynet.trace_timeout(true)
	skynet.timeout(1000, function() end)
	local tasks = {}
	skynet.task(tasks)
	local found
	for k, v in pairs(tasks) do
		if k:find "session: " and v:find "TIMER %d+%+1000" then
			found = true
		end
	end
	T.ok(found, "a timer's task shows where it was set")
	skynet.trace_timeout(false)
end)

T.case("skynet.crypt raises plain string errors and does the login handshake", function()
	local ok, err = pcall(crypt.desdecode, "12345678", "short")
	T.eq(ok, false)
	T.eq(type(err), "string")
	T.ok(err:find("Invalid des crypt text length 5", 1, true), err)
	ok, err = pcall(crypt.hexdecode)
	T.ok(err:find("bad argument #1 to 'hexdecode'", 1, true), err)
	local ck, sk = crypt.randomkey(), crypt.randomkey()
	local s1 = crypt.dhsecret(crypt.dhexchange(sk), ck)
	local s2 = crypt.dhsecret(crypt.dhexchange(ck), sk)
	T.eq(s1, s2)
	local token = "user@server:password"
	T.eq(crypt.desdecode(s1, crypt.desencode(s2, token)), token)
	T.eq(crypt.base64decode(crypt.base64encode(token)), token)
	T.eq(crypt.hmac_hash(s1, "text"), crypt.hmac64(crypt.hashkey "text", s1))
end)

T.case("sharetable: load, query, queryall, update in place", function()
	local sharetable = require "skynet.sharetable"
	sharetable.loadtable("compat_t", { x = 1, list = { "a" } })
	sharetable.loadstring("compat_s", "return { sum = select(1, ...) + select(2, ...) }", 2, 3)
	local t = sharetable.query "compat_t"
	T.eq(t.x, 1)
	T.eq(t.list[1], "a")
	T.eq(sharetable.query("compat_s").sum, 5)
	local all = sharetable.queryall { "compat_t", "compat_s" }
	T.eq(all.compat_s.sum, 5)
	T.eq(sharetable.query "nothing", nil)
	sharetable.loadtable("compat_t", { x = 2 })
	T.eq(t.x, 1, "a queried table stays until update")
	sharetable.update "compat_t"
	T.eq(t.x, 2)
	T.eq(t.list, nil)
end)

T.case("datasheet: a reader's table is patched in place on update", function()
	local builder = require "skynet.datasheet.builder"
	local datasheet = require "skynet.datasheet"
	builder.new("compat_sheet", { a = 1, c = { 3 } })
	local t = datasheet.query "compat_sheet"
	local c = t.c
	T.eq(t.a, 1)
	builder.update("compat_sheet", { a = 2, c = { 5, 6 } })
	skynet.sleep(5)
	T.eq(t.a, 2)
	T.ok(t.c == c, "a table that stays a table keeps its identity")
	T.same(c, { 5, 6 })
	T.eq(datasheet.query "compat_sheet", t)
	T.eq(datasheet.query "no_sheet", nil)
end)

T.case("harbor: queryname waits for a global name, globalname registers one", function()
	local harbor = require "skynet.harbor"
	local got
	skynet.fork(function()
		got = harbor.queryname "COMPATLATER"
	end)
	skynet.sleep(3)
	T.eq(got, nil)
	harbor.globalname("COMPATLATER")
	skynet.sleep(3)
	T.eq(got, skynet.self())
	local other
	skynet.fork(function()
		other = harbor.queryname "COMPATREG"
	end)
	skynet.sleep(2)
	skynet.register "COMPATREG"
	skynet.sleep(5)
	T.eq(other, skynet.self())
	harbor.link(0)
end)

T.case("dns: asks the server over UDP, caches, knows IP literals and /etc/hosts", function()
	local dns = require "skynet.dns"
	local socket = require "skynet.socket"
	-- a small DNS server: every A query answers 10.1.2.N, N counting the queries
	local asked = 0
	local srv, port
	local function answer(msg, from)
		asked = asked + 1
		local id = string.unpack(">I2", msg)
		local question = msg:sub(13)
		socket.sendto(srv, from, string.pack(">I2I2I2I2I2I2", id, 0x8180, 1, 1, 0, 0) .. question
			.. string.pack(">I2I2I2I4I2", 0xc00c, 1, 1, 60, 4) .. string.char(10, 1, 2, asked))
	end
	for _ = 1, 20 do
		port = math.random(40000, 60000)
		local ok, id = pcall(socket.udp, answer, "127.0.0.1", port)
		if ok then
			srv = id
			break
		end
	end
	dns.server("127.0.0.1", port)
	dns.flush()
	local ip, ips = dns.resolve "game.compat"
	T.eq(ip, "10.1.2.1")
	T.same(ips, { "10.1.2.1" })
	T.eq(dns.resolve "GAME.compat", "10.1.2.1", "cached (names are case-blind)")
	T.eq(asked, 1)
	T.eq(dns.resolve "other.compat", "10.1.2.2")
	T.eq(dns.resolve "127.0.0.9", "127.0.0.9")
	T.eq(dns.resolve "localhost", "127.0.0.1")
	T.eq(select(2, dns.resolve "bad name!"), "illegal name")
	socket.close(srv)
	dns.flush()
	T.raises(function() dns.resolve "gone.compat" end, "timeout or no answer")
end)

T.case("socketchannel: order and session modes, errors, reconnect", function()
	local socketchannel = require "skynet.socketchannel"
	local socket = require "skynet.socket"
	-- a line server: "n text" answers "n TEXT" (session mode reads the number)
	local lid, _, port = socket.listen("127.0.0.1", 0)
	local conns = 0
	socket.start(lid, function(fd)
		conns = conns + 1
		skynet.fork(function()
			socket.start(fd)
			while true do
				local line = socket.readline(fd)
				if not line or line == "quit" then
					break
				end
				socket.write(fd, line:upper() .. "\n")
			end
			socket.close(fd)
		end)
	end)
	local ordered = socketchannel.channel { host = "127.0.0.1", port = port }
	T.eq(ordered:connect(true), true)
	local function line(sock)
		return true, sock:readline()
	end
	local replies = {}
	for i = 1, 3 do
		skynet.fork(function()
			replies[i] = ordered:request("a" .. i .. "\n", line)
		end)
	end
	skynet.sleep(5)
	T.same(replies, { "A1", "A2", "A3" })
	-- the server hangs up: the waiting request fails, the next one reconnects
	T.raises(function() ordered:request("quit\n", line) end, "")
	T.eq(ordered:request("again\n", line), "AGAIN")
	T.eq(conns, 2)
	ordered:close()
	local bysession = socketchannel.channel {
		host = "127.0.0.1", port = port,
		response = function(sock)
			local n, text = sock:readline():match "^(%d+) (.*)$"
			return tonumber(n), true, text
		end,
	}
	local got = {}
	for i = 1, 2 do
		skynet.fork(function()
			got[i] = bysession:request(i .. " s" .. i .. "\n", i)
		end)
	end
	skynet.sleep(5)
	T.same(got, { "S1", "S2" })
	bysession:close()
	local dead = socketchannel.channel { host = "127.0.0.1", port = 1 }
	T.eq(dead:connect(true), false)
	socket.close(lid)
end)

T.case("http.websocket: handshake, echo, binary, ping, close with a reason", function()
	local socket = require "skynet.socket"
	local websocket = require "http.websocket"
	local events = {}
	local handle = {
		handshake = function(_, header, url)
			events[#events + 1] = "handshake " .. url .. " " .. header.upgrade
		end,
		message = function(id, msg, kind)
			events[#events + 1] = kind .. " " .. msg
			websocket.write(id, msg:upper(), kind)
		end,
		ping = function() events[#events + 1] = "ping" end,
		close = function(_, code, reason)
			events[#events + 1] = "close " .. tostring(code) .. " " .. tostring(reason)
		end,
	}
	local lid, _, port = socket.listen("127.0.0.1", 0)
	socket.start(lid, function(fd, addr)
		skynet.fork(websocket.accept, fd, handle, "ws", addr)
	end)
	local ws = websocket.connect("ws://127.0.0.1:" .. port .. "/chat")
	websocket.write(ws, "hello")
	T.eq(websocket.read(ws), "HELLO")
	websocket.write(ws, string.rep("b", 70000), "binary")
	T.eq(websocket.read(ws), string.rep("B", 70000))
	websocket.ping(ws)
	websocket.write(ws, "after ping")
	T.eq(websocket.read(ws), "AFTER PING", "the pong is skipped")
	websocket.close(ws, 1000, "done")
	skynet.sleep(5)
	T.same(events, { "handshake /chat websocket", "text hello", "binary " .. string.rep("b", 70000),
		"ping", "text after ping", "close 1000 done" })
	T.raises(function() websocket.connect("wsx://127.0.0.1:1/") end, "invalid protocol")
	T.raises(function() websocket.connect("wss://127.0.0.1:1/") end, "Socket Error") -- nothing listens
	socket.close(lid)
end)

T.case("skynet.coroutine.close closes a suspended skynet coroutine", function()
	local skynetco = require "skynet.coroutine"
	local co = skynetco.create(function() skynetco.yield(1) end)
	T.same({ skynetco.resume(co) }, { true, 1 })
	T.eq(skynetco.status(co), "suspended")
	T.eq(skynetco.close(co), true)
	T.eq(skynetco.status(co), "dead")
end)

T.case("skynet.profile counts the CPU time a coroutine runs, not the time it waits", function()
	local profile = require "skynet.profile"
	local function spin(seconds)
		local t = os.clock()
		while os.clock() - t < seconds do end
	end
	-- a request handler that waits 30 cs between two bursts of ~20 ms of work
	profile.start()
	spin(0.02)
	skynet.sleep(30)
	spin(0.02)
	local ti = profile.stop()
	T.ok(ti >= 0.03, "both bursts counted: " .. ti)
	T.ok(ti < 0.2, "the 0.3 s sleep left out: " .. ti)
	T.raises(function() profile.stop() end, "profile.start")
	-- profile.wrap: time only while the wrapped coroutine runs
	local f = profile.wrap(function()
		profile.start()
		spin(0.01)
		coroutine.yield()
		spin(0.01)
		return profile.stop()
	end)
	f()
	spin(0.05) -- not the wrapped coroutine's time
	local w = f()
	T.ok(w >= 0.015 and w < 0.05, "wrapped: " .. w)
end)

T.start()
