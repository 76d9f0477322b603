-- The skynet API for Cirrus services: coroutines, sessions, call/response and dispatch.
-- Semantics follow skynet's lualib/skynet.lua so existing scripts run unmodified; the
-- primitives underneath (send, timers, serialization) are Rust, in `skynet.core`.

local c = require "skynet.core"

local tostring = tostring
local coroutine = coroutine
local assert = assert
local pairs = pairs
local pcall = pcall
local select = select
local table = table
local tremove = table.remove
local tinsert = table.insert
local traceback = debug.traceback

local cresume = coroutine.resume
local coroutine_yield = coroutine.yield
local coroutine_create = coroutine.create
local coroutine_running = coroutine.running

-- skynet.profile's books (lualib/skynet/profile.lua): coroutine -> the thread CPU clock when it
-- last started running, coroutine -> seconds counted so far, and how many are profiled. The
-- dispatcher keeps them: a profiled coroutine's clock restarts on the worker that resumes it
-- (coroutine_resume) and what it ran is added when it yields back (suspend), so the time it
-- waits is left out, as in skynet.
local profiling = {
	start = setmetatable({}, { __mode = "k" }),
	total = setmetatable({}, { __mode = "k" }),
	active = 0,
}
local pstart, ptotal = profiling.start, profiling.total

local proto = {}
local skynet = {
	-- read skynet.h
	PTYPE_TEXT = 0,
	PTYPE_RESPONSE = 1,
	PTYPE_MULTICAST = 2,
	PTYPE_CLIENT = 3,
	PTYPE_SYSTEM = 4,
	PTYPE_HARBOR = 5,
	PTYPE_SOCKET = 6,
	PTYPE_ERROR = 7,
	PTYPE_QUEUE = 8,
	PTYPE_DEBUG = 9,
	PTYPE_LUA = 10,
	PTYPE_SNAX = 11,
	PTYPE_TRACE = 12,
}

-- code cache compatibility (skynet.codecache); Cirrus caches bytecode natively
package.loaded["skynet.codecache"] = { clear = function() end, mode = function() return "ON" end }

function skynet.register_protocol(class)
	local name = class.name
	local id = class.id
	assert(proto[name] == nil and proto[id] == nil, "protocol already registered: " .. tostring(name))
	assert(type(name) == "string" and type(id) == "number" and id >= 0 and id <= 255)
	proto[name] = class
	proto[id] = class
end

local session_id_coroutine = {}      -- session -> coroutine waiting for it ("BREAK" once woken)
local session_coroutine_id = {}      -- coroutine -> session of the request it serves
local session_coroutine_address = {} -- coroutine -> source of that request
local unresponse = {}                -- deferred response closures -> address
local wakeup_queue = {}
local sleep_session = {}             -- token -> session
local watching_session = {}          -- session -> address we wait on
local error_queue = {}               -- sessions to fail, with their messages
local fork_queue = { h = 1, t = 0 }

local running_thread = nil
local init_thread = nil
local session_coroutine_tracetag = {} -- coroutine -> trace tag (false: tracing forced off)
local trace_source = {}               -- source -> tag for its next request (PTYPE_TRACE)

-- skynet's trace log line: `<TRACE tag> nanotime what : file:line ...` for up to three frames
-- from `level` (a number, or a coroutine then a level); no frames without a level.
local function ctrace(tag, user, a, b)
	local line = string.format("<TRACE %s> %d %s", tag, c.hpc(), user)
	if a ~= nil then
		local co, level
		if type(a) == "thread" then
			co, level = a, b or 1
		else
			level = a + 1
		end
		local frames = {}
		while #frames < 3 do
			local info
			if co then
				info = debug.getinfo(co, level, "Sl")
			else
				info = debug.getinfo(level, "Sl")
			end
			if not info then
				break
			end
			level = level + 1
			if info.currentline >= 0 then
				frames[#frames + 1] = info.source .. ":" .. info.currentline
			end
		end
		if #frames > 0 then
			line = line .. " : " .. table.concat(frames, " ")
		end
	end
	c.error(line)
end

-- every resume records which coroutine runs, so ret/response know whose session it is
local function coroutine_resume(co, ...)
	running_thread = co
	if profiling.active > 0 and pstart[co] then
		pstart[co] = c.thread_time()
	end
	return cresume(co, ...)
end

local function dispatch_error_queue()
	if error_queue[1] == nil then
		return
	end
	local session = tremove(error_queue, 1)
	if session then
		local msg = tremove(error_queue, 1)
		local co = session_id_coroutine[session]
		session_id_coroutine[session] = nil
		return skynet._suspend(co, coroutine_resume(co, false, msg, nil, session))
	end
end

local function _error_dispatch(error_session, error_source, msg)
	skynet.ignoreret() -- don't return for error
	if error_session == 0 then
		-- error_source is down: forget its pending responses and fail calls to it
		for resp, address in pairs(unresponse) do
			if error_source == address then
				unresponse[resp] = nil
			end
		end
		for session, srv in pairs(watching_session) do
			if srv == error_source then
				tinsert(error_queue, session)
				tinsert(error_queue, msg or "service exited")
			end
		end
	else
		-- capture an error for error_session
		if watching_session[error_session] then
			tinsert(error_queue, error_session)
			tinsert(error_queue, msg)
		end
	end
end

-- coroutine reuse

local coroutine_pool = setmetatable({}, { __mode = "kv" })
-- a pooled coroutine handed out again -> the function it runs (so reuse costs no extra
-- resume to pass the function in); kept until the function returns
local coroutine_job = setmetatable({}, { __mode = "k" })

local function run_job(co, ...)
	return coroutine_job[co](...)
end

local function co_create(f)
	local n = #coroutine_pool
	local co
	if n > 0 then
		co = coroutine_pool[n]
		coroutine_pool[n] = nil
	end
	if co == nil then
		co = coroutine_create(function(...)
			f(...)
			while true do
				local session = session_coroutine_id[co]
				if session and session ~= 0 then
					-- the dispatch function returned without answering: fail the caller
					local source = debug.getinfo(coroutine_job[co] or f, "S")
					local address = session_coroutine_address[co]
					skynet.error(string.format("Maybe forgot response session %s from %s : %s:%d",
						session, skynet.address(address), source.source, source.linedefined))
					c.send(address, skynet.PTYPE_ERROR, session, "no response (service returned without skynet.ret)")
				end
				local tag = session_coroutine_tracetag[co]
				if tag ~= nil then
					if tag then ctrace(tag, "end") end
					session_coroutine_tracetag[co] = nil
				end
				session_coroutine_id[co] = nil
				session_coroutine_address[co] = nil
				-- recycle co into pool; co_create gives it its next function
				f = nil
				coroutine_job[co] = nil
				coroutine_pool[#coroutine_pool + 1] = co
				run_job(co, coroutine_yield "SUSPEND")
			end
		end)
	else
		coroutine_job[co] = f
	end
	return co
end

local function dispatch_wakeup()
	while wakeup_queue[1] ~= nil do
		local token = tremove(wakeup_queue, 1)
		if token then
			local session = sleep_session[token]
			if session then
				local co = session_id_coroutine[session]
				local tag = session_coroutine_tracetag[co]
				if tag then ctrace(tag, "resume") end
				session_id_coroutine[session] = "BREAK"
				return skynet._suspend(co, coroutine_resume(co, false, "BREAK", nil, session))
			end
		else
			break
		end
	end
	return dispatch_error_queue()
end

-- suspend is the place where a coroutine yields back to the dispatcher
local function suspend(co, result, command)
	if profiling.active > 0 then
		local t = pstart[co]
		if t then
			local now = c.thread_time()
			ptotal[co] = ptotal[co] + (now - t)
			pstart[co] = now
		end
	end
	if not result then
		local session = session_coroutine_id[co]
		if session then -- coroutine may fork by others (session is nil)
			local addr = session_coroutine_address[co]
			if session ~= 0 then
				local tag = session_coroutine_tracetag[co]
				if tag then ctrace(tag, "error") end
				-- tell the caller why its call failed
				c.send(addr, skynet.PTYPE_ERROR, session, tostring(command))
			end
			session_coroutine_id[co] = nil
		end
		session_coroutine_address[co] = nil
		session_coroutine_tracetag[co] = nil
		skynet.fork(function() end) -- trigger command "SUSPEND"
		local tb = traceback(co, tostring(command))
		coroutine.close(co)
		error(tb)
	end
	if command == "SUSPEND" then
		if wakeup_queue[1] == nil and error_queue[1] == nil then
			return
		end
		return dispatch_wakeup()
	elseif command == "QUIT" then
		coroutine.close(co)
		-- service exit
		return
	elseif command == "USER" then
		-- See skynet.coroutine for detail
		error("Call skynet.coroutine.yield out of skynet.coroutine.resume\n" .. traceback(co))
	elseif command == nil then
		-- debug trace
		return
	else
		error("Unknown command : " .. command .. "\n" .. traceback(co))
	end
end
skynet._suspend = suspend
skynet._profiling = profiling

-- timers

local co_create_for_timeout = co_create
local timeout_traceback -- coroutine -> where its timer was set (skynet.trace_timeout)

-- With tracing on, skynet.task reports where each pending timer was set.
function skynet.trace_timeout(on)
	if on then
		timeout_traceback = timeout_traceback or {}
		co_create_for_timeout = function(func, ti)
			local co
			co = co_create(function()
				timeout_traceback[co] = nil
				func()
			end)
			timeout_traceback[co] = traceback(string.format("TIMER %d+%d : ", skynet.now(), ti), 3)
			return co
		end
	else
		timeout_traceback = nil
		co_create_for_timeout = co_create
	end
end

function skynet.timeout(ti, func)
	local session = c.timeout(ti)
	assert(session)
	local co = co_create_for_timeout(func, ti)
	assert(session_id_coroutine[session] == nil)
	session_id_coroutine[session] = co
	return co -- for debug
end

local function suspend_sleep(session, token)
	session_id_coroutine[session] = running_thread
	assert(sleep_session[token] == nil, "token duplicative")
	sleep_session[token] = session
	return coroutine_yield "SUSPEND"
end

function skynet.sleep(ti, token)
	local tag = session_coroutine_tracetag[running_thread]
	if tag then ctrace(tag, "sleep", 2) end
	local session = c.timeout(ti)
	assert(session)
	token = token or coroutine_running()
	local succ, ret = suspend_sleep(session, token)
	sleep_session[token] = nil
	if succ then
		return
	end
	if ret == "BREAK" then
		return "BREAK"
	else
		error(ret)
	end
end

function skynet.yield()
	return skynet.sleep(0)
end

function skynet.wait(token)
	local session = c.genid()
	token = token or coroutine_running()
	suspend_sleep(session, token)
	sleep_session[token] = nil
	session_id_coroutine[session] = nil
end

function skynet.wakeup(token)
	if sleep_session[token] then
		tinsert(wakeup_queue, token)
		return true
	end
end

-- addresses and time

function skynet.self()
	return c.self()
end

function skynet.localname(name)
	return c.addresscommand("QUERY", name)
end

skynet.now = c.now
skynet.hpc = c.hpc

local traceid = 0
-- Trace the current request: its calls, the requests they make elsewhere, responses, sleeps
-- and resumes are logged as `<TRACE :addr-id> ...` lines (as skynet does).
function skynet.trace(info)
	c.error("TRACE", session_coroutine_tracetag[running_thread])
	if session_coroutine_tracetag[running_thread] == false then
		-- force off trace log
		return
	end
	traceid = traceid + 1
	local tag = string.format(":%08x-%d", skynet.self(), traceid)
	session_coroutine_tracetag[running_thread] = tag
	if info then
		ctrace(tag, "trace " .. info)
	else
		ctrace(tag, "trace")
	end
end

function skynet.tracetag()
	return session_coroutine_tracetag[running_thread]
end

skynet.tracelog = function(tag, user, ...)
	return ctrace(tag, user, ...)
end

local starttime

function skynet.starttime()
	if not starttime then
		starttime = c.intcommand("STARTTIME")
	end
	return starttime
end

function skynet.time()
	return skynet.now() / 100 + (starttime or skynet.starttime())
end

function skynet.exit()
	fork_queue = { h = 1, t = 0 } -- no fork coroutine can be executed after skynet.exit
	skynet.send(".launcher", "lua", "REMOVE", skynet.self(), false)
	skynet._fail_pending("service " .. skynet.address(skynet.self()) .. " exited")
	for session, co in pairs(session_id_coroutine) do
		if type(co) == "thread" and co ~= running_thread then
			coroutine.close(co)
		end
	end
	c.callback(function(prototype, msg, sz, session, source)
		if session ~= 0 and source ~= 0 and prototype ~= 1 and prototype ~= 7 then
			c.send(source, skynet.PTYPE_ERROR, session, "service " .. skynet.address(skynet.self()) .. " exited")
		end
	end)
	c.command("EXIT")
	-- quit service
	coroutine_yield "QUIT"
end

-- Fail every caller still waiting on this service, and release calls it made (skynet.exit
-- and kill both come here, so a caller never waits on a dead service).
function skynet._fail_pending(why)
	for co, session in pairs(session_coroutine_id) do
		local address = session_coroutine_address[co]
		if session ~= 0 and address then
			c.send(address, skynet.PTYPE_ERROR, session, why)
		end
	end
	session_coroutine_id = setmetatable({}, getmetatable(session_coroutine_id))
	for resp in pairs(unresponse) do
		resp(false, why)
	end
	-- report the sources I call but haven't returned
	local tmp = {}
	for session, address in pairs(watching_session) do
		tmp[address] = true
	end
	for address in pairs(tmp) do
		c.send(address, skynet.PTYPE_ERROR, 0, "")
	end
end

c.exithook(function()
	skynet._fail_pending("service " .. skynet.address(skynet.self()) .. " killed")
end)

function skynet.getenv(key)
	return c.command("GETENV", key)
end

function skynet.setenv(key, value)
	assert(c.command("GETENV", key) == nil, "Can't setenv exist key : " .. key)
	c.command("SETENV", key .. " " .. value)
end

local sendpack = c.sendpack

function skynet.send(addr, typename, ...)
	local p = proto[typename]
	if p.pack == skynet.pack then
		return sendpack(addr, p.id, 0, ...)
	end
	return c.send(addr, p.id, 0, p.pack(...))
end

function skynet.rawsend(addr, typename, msg, sz)
	local p = proto[typename]
	return c.send(addr, p.id, 0, msg, sz)
end

skynet.genid = assert(c.genid)

skynet.redirect = function(dest, source, typename, ...)
	return c.redirect(dest, source, proto[typename].id, ...)
end

skynet.pack = assert(c.pack)
skynet.packstring = assert(c.packstring)
skynet.unpack = assert(c.unpack)
skynet.tostring = assert(c.tostring)
skynet.trash = assert(c.trash)

-- Cirrus's call errors name the callee and the reason; config `call_errors = "skynet"` raises
-- skynet's own bare "call failed" instead, for code that matches on skynet's text.
local skynet_call_errors

local function call_failed(service, why)
	if skynet_call_errors == nil then
		skynet_call_errors = c.command("GETENV", "call_errors") == "skynet"
	end
	if skynet_call_errors then
		error "call failed"
	end
	if type(why) ~= "string" or why == "" then
		why = "call failed"
	end
	error(string.format("call %s failed: %s", skynet.address(service), why), 0)
end

local function yield_call(service, session)
	watching_session[session] = service
	session_id_coroutine[session] = running_thread
	local succ, msg, sz = coroutine_yield "SUSPEND"
	watching_session[session] = nil
	if not succ then
		call_failed(service, msg)
	end
	return msg, sz
end

local function trace_call(addr)
	local tag = session_coroutine_tracetag[running_thread]
	if tag then
		ctrace(tag, "call", 3)
		c.send(addr, skynet.PTYPE_TRACE, 0, tag)
	end
end

function skynet.call(addr, typename, ...)
	if session_coroutine_tracetag[running_thread] then
		trace_call(addr)
	end
	local p = proto[typename]
	if p == nil then
		error("unknown protocol " .. tostring(typename), 2)
	end
	local session
	if p.pack == skynet.pack then
		session = sendpack(addr, p.id, nil, ...)
	else
		session = c.send(addr, p.id, nil, p.pack(...))
	end
	if session == nil then
		error("call to invalid address " .. skynet.address(addr), 2)
	end
	return p.unpack(yield_call(addr, session))
end

function skynet.rawcall(addr, typename, msg, sz)
	trace_call(addr)
	local p = proto[typename]
	local session = c.send(addr, p.id, nil, msg, sz)
	if session == nil then
		error("call to invalid address " .. skynet.address(addr), 2)
	end
	return yield_call(addr, session)
end

-- Wait for a session started by a Rust IO binding (Redis, SQL, sockets...): returns the
-- unpacked reply, or raises with the error text.
function skynet.await(session, what)
	return skynet.unpack(yield_call(what or 0, session))
end

-- Like skynet.await but returns the raw (msg, sz) pair.
function skynet.rawawait(session, what)
	return yield_call(what or 0, session)
end

---- skynet.request { addr, typename, ... } { ... } :select([timeout]): make several calls at
---- once and take the responses as they come (`for req, resp in reqs:select() do`); resp is
---- false for a call that failed; with a timeout, reqs.timeout tells whether it expired.
do
	local function send_requests(self)
		local sessions = {}
		self._sessions = sessions
		local request_n = 0
		local err
		for i = 1, #self do
			local req = self[i]
			local addr = req[1]
			local p = proto[req[2]]
			assert(p.unpack)
			trace_call(addr)
			local session = c.send(addr, p.id, nil, p.pack(table.unpack(req, 3, req.n)))
			if session == nil then
				err = err or {}
				err[#err + 1] = req
			else
				sessions[session] = req
				watching_session[session] = addr
				session_id_coroutine[session] = self._thread
				request_n = request_n + 1
			end
		end
		self._request = request_n
		return err
	end

	local function request_thread(self)
		while true do
			local succ, msg, sz, session = coroutine_yield "SUSPEND"
			if session == self._timeout then
				self._timeout = nil
				self.timeout = true
			else
				watching_session[session] = nil
				local req = self._sessions[session]
				local p = proto[req[2]]
				if succ then
					self._resp[session] = table.pack(p.unpack(msg, sz))
				else
					self._resp[session] = false
				end
			end
			skynet.wakeup(self)
		end
	end

	local function request_iter(self)
		return function()
			if self._error then
				-- invalid address
				local e = tremove(self._error)
				if e then
					return e
				end
				self._error = nil
			end
			local session, resp = next(self._resp)
			if session == nil then
				if self._request == 0 or self.timeout then
					return
				end
				skynet.wait(self)
				if self.timeout then
					return
				end
				session, resp = next(self._resp)
			end
			self._request = self._request - 1
			local req = self._sessions[session]
			self._resp[session] = nil
			self._sessions[session] = nil
			return req, resp
		end
	end

	local request_meta = {}
	request_meta.__index = request_meta

	function request_meta:add(obj)
		assert(type(obj) == "table" and not self._thread)
		self[#self + 1] = obj
		return self
	end

	request_meta.__call = request_meta.add

	function request_meta:close()
		if self._request > 0 then
			local resp = self._resp
			for session in pairs(self._sessions) do
				if not resp[session] then
					session_id_coroutine[session] = "BREAK"
					watching_session[session] = nil
				end
			end
			self._request = 0
		end
		if self._timeout then
			session_id_coroutine[self._timeout] = "BREAK"
			self._timeout = nil
		end
	end

	request_meta.__close = request_meta.close

	function request_meta:select(timeout)
		assert(self._thread == nil)
		self._thread = coroutine_create(request_thread)
		self._error = send_requests(self)
		self._resp = {}
		if timeout then
			self._timeout = c.timeout(timeout)
			session_id_coroutine[self._timeout] = self._thread
		end
		local running = running_thread
		coroutine_resume(self._thread, self)
		running_thread = running
		return request_iter(self), nil, nil, self
	end

	function skynet.request(obj)
		local ret = setmetatable({}, request_meta)
		if obj then
			return ret(obj)
		end
		return ret
	end
end

function skynet.ret(msg, sz)
	msg = msg or ""
	local tag = session_coroutine_tracetag[running_thread]
	if tag then ctrace(tag, "response") end
	local co_session = session_coroutine_id[running_thread]
	if co_session == nil then
		error "No session"
	end
	session_coroutine_id[running_thread] = nil
	if co_session == 0 then
		if sz ~= nil then
			c.trash(msg, sz)
		end
		return false -- send don't need ret
	end
	local co_address = session_coroutine_address[running_thread]
	local ret = c.send(co_address, skynet.PTYPE_RESPONSE, co_session, msg, sz)
	if ret then
		return true
	end
	return false
end

function skynet.context()
	local co_session = session_coroutine_id[running_thread]
	local co_address = session_coroutine_address[running_thread]
	return co_session, co_address
end

function skynet.ignoreret()
	-- We use session for other uses
	session_coroutine_id[running_thread] = nil
end

function skynet.response(pack)
	pack = pack or skynet.pack

	local co_session = assert(session_coroutine_id[running_thread], "no session")
	session_coroutine_id[running_thread] = nil
	local co_address = session_coroutine_address[running_thread]
	if co_session == 0 then
		-- do not response when session == 0 (send)
		return function() end
	end
	local function response(ok, ...)
		if ok == "TEST" then
			return unresponse[response] ~= nil
		end
		if not pack then
			error "Can't response more than once"
		end

		local ret
		if unresponse[response] then
			if ok then
				ret = c.send(co_address, skynet.PTYPE_RESPONSE, co_session, pack(...))
			else
				ret = c.send(co_address, skynet.PTYPE_ERROR, co_session, tostring((...) or ""))
			end
			unresponse[response] = nil
			ret = ret ~= nil
		else
			ret = false
		end
		pack = nil
		return ret
	end
	unresponse[response] = co_address

	return response
end

function skynet.retpack(...)
	return skynet.ret(skynet.pack(...))
end

function skynet.dispatch(typename, func)
	local p = proto[typename]
	if func then
		local ret = p.dispatch
		p.dispatch = func
		return ret
	else
		return p and p.dispatch
	end
end

local function unknown_request(session, address, msg, sz, prototype)
	skynet.error(string.format("Unknown request (%s): %s", prototype, c.tostring(msg, sz)))
	error(string.format("Unknown session : %d from %x", session, address))
end

function skynet.dispatch_unknown_request(unknown)
	local prev = unknown_request
	unknown_request = unknown
	return prev
end

local function unknown_response(session, address, msg, sz)
	skynet.error(string.format("Response message : %s", c.tostring(msg, sz)))
	error(string.format("Unknown session : %d from %x", session, address))
end

function skynet.dispatch_unknown_response(unknown)
	local prev = unknown_response
	unknown_response = unknown
	return prev
end

function skynet.fork(func, ...)
	local n = select("#", ...)
	local co
	if n == 0 then
		co = co_create(func)
	else
		local args = { ... }
		co = co_create(function() func(table.unpack(args, 1, n)) end)
	end
	local t = fork_queue.t + 1
	fork_queue.t = t
	fork_queue[t] = co
	return co
end

local function raw_dispatch_message(prototype, msg, sz, session, source)
	-- skynet.PTYPE_RESPONSE = 1, read skynet.h
	if prototype == 1 then
		local co = session_id_coroutine[session]
		if co == "BREAK" then
			session_id_coroutine[session] = nil
		elseif co == nil then
			unknown_response(session, source, msg, sz)
		else
			local tag = session_coroutine_tracetag[co]
			if tag then ctrace(tag, "resume") end
			session_id_coroutine[session] = nil
			suspend(co, coroutine_resume(co, true, msg, sz, session))
		end
	elseif prototype == 7 and session ~= 0 and session_id_coroutine[session] ~= nil then
		-- a call, timer-independent IO wait or sleep we own failed: resume it with the reason
		local co = session_id_coroutine[session]
		session_id_coroutine[session] = nil
		if co ~= "BREAK" then
			watching_session[session] = nil
			suspend(co, coroutine_resume(co, false, c.tostring(msg, sz), nil, session))
		end
	else
		local p = proto[prototype]
		if p == nil then
			if prototype == 12 then
				-- PTYPE_TRACE: trace the next request from this source
				trace_source[source] = c.tostring(msg, sz)
			elseif session ~= 0 then
				c.send(source, skynet.PTYPE_ERROR, session, "unknown protocol " .. tostring(prototype))
			else
				unknown_request(session, source, msg, sz, prototype)
			end
			return
		end

		local f = p.dispatch
		if f then
			local co = co_create(f)
			session_coroutine_id[co] = session
			session_coroutine_address[co] = source
			local traceflag = p.trace
			if traceflag == false then
				-- force off
				trace_source[source] = nil
				session_coroutine_tracetag[co] = false
			else
				local tag = trace_source[source]
				if tag then
					trace_source[source] = nil
					ctrace(tag, "request")
					session_coroutine_tracetag[co] = tag
				elseif traceflag then
					-- running_thread is the request's coroutine while skynet.trace names it
					running_thread = co
					skynet.trace()
				end
			end
			suspend(co, coroutine_resume(co, session, source, p.unpack(msg, sz)))
		else
			trace_source[source] = nil
			if session ~= 0 then
				c.send(source, skynet.PTYPE_ERROR, session, "no dispatch function for protocol " .. p.name)
			else
				unknown_request(session, source, msg, sz, p.name)
			end
		end
	end
end

function skynet.dispatch_message(prototype, msg, sz, session, source)
	local succ, err = pcall(raw_dispatch_message, prototype, msg, sz, session, source)
	while true do
		if fork_queue.h > fork_queue.t then
			-- queue is empty
			fork_queue.h = 1
			fork_queue.t = 0
			break
		end
		-- pop queue
		local h = fork_queue.h
		local co = fork_queue[h]
		fork_queue[h] = nil
		fork_queue.h = h + 1

		local fork_succ, fork_err = pcall(suspend, co, coroutine_resume(co))
		if not fork_succ then
			if succ then
				succ = false
				err = tostring(fork_err)
			else
				err = tostring(err) .. "\n" .. tostring(fork_err)
			end
		end
	end
	if not succ then
		-- as assert(succ, err) would: with this line as position, which skynet prints too
		error(tostring(err))
	end
end

-- services

function skynet.newservice(name, ...)
	return skynet.call(".launcher", "lua", "LAUNCH", "snlua", name, ...)
end

function skynet.uniqueservice(isglobal, ...)
	if isglobal == true then
		return assert(skynet.call(".service", "lua", "GLAUNCH", ...))
	else
		return assert(skynet.call(".service", "lua", "LAUNCH", isglobal, ...))
	end
end

function skynet.queryservice(isglobal, ...)
	if isglobal == true then
		return assert(skynet.call(".service", "lua", "GQUERY", ...))
	else
		return assert(skynet.call(".service", "lua", "QUERY", isglobal, ...))
	end
end

function skynet.address(addr)
	if type(addr) == "number" then
		return string.format(":%08x", addr)
	else
		return tostring(addr)
	end
end

function skynet.harbor(addr)
	return c.harbor(addr)
end

skynet.error = c.error

-- true: force on
-- false: force off
-- nil: optional (use skynet.trace() to trace one message)
function skynet.traceproto(prototype, flag)
	local p = assert(proto[prototype])
	p.trace = flag
end

----- register protocol
do
	local REG = skynet.register_protocol

	REG {
		name = "lua",
		id = skynet.PTYPE_LUA,
		pack = skynet.pack,
		unpack = skynet.unpack,
	}

	REG {
		name = "response",
		id = skynet.PTYPE_RESPONSE,
	}

	REG {
		name = "error",
		id = skynet.PTYPE_ERROR,
		unpack = function(msg, sz) return c.tostring(msg, sz) end,
		dispatch = function(session, source, msg) _error_dispatch(session, source, msg) end,
	}
end

skynet.init = nil
local init_func = {}

function skynet.init(f, name)
	assert(type(f) == "function")
	if init_func == nil then
		f()
	else
		tinsert(init_func, f)
		if name then
			assert(type(name) == "string")
			assert(init_func[name] == nil)
			init_func[name] = f
		end
	end
end

local function init_all()
	local funcs = init_func
	init_func = nil
	if funcs then
		for _, f in ipairs(funcs) do
			f()
		end
	end
end

local function ret(f, ...)
	f()
	return ...
end

local function init_template(start, ...)
	init_all()
	init_func = {}
	return ret(init_all, start(...))
end

function skynet.pcall(start, ...)
	return xpcall(init_template, traceback, start, ...)
end

function skynet.init_service(start)
	local ok, err = skynet.pcall(start)
	if not ok then
		skynet.error("init service failed: " .. tostring(err))
		skynet.send(".launcher", "lua", "ERROR", tostring(err))
		skynet.exit()
	else
		skynet.send(".launcher", "lua", "LAUNCHOK")
	end
end

local service_start -- kept for hotfix (lualib/skynet/hotfix.lua) of the main file

function skynet.start(start_func)
	service_start = start_func
	c.callback(skynet.dispatch_message)
	init_thread = skynet.timeout(0, function()
		skynet.init_service(start_func)
		init_thread = nil
	end)
end

function skynet.endless()
	return (c.intcommand("STAT", "endless") == 1)
end

function skynet.mqlen()
	return c.intcommand("STAT", "mqlen")
end

function skynet.stat(what)
	if what == "task" then
		return skynet.task()
	end
	return c.intcommand("STAT", what)
end

local function task_traceback(co)
	if co == "BREAK" then
		return co
	elseif timeout_traceback and timeout_traceback[co] then
		return timeout_traceback[co]
	else
		return traceback(co)
	end
end

function skynet.task(ret)
	if ret == nil then
		local t = 0
		for _, co in pairs(session_id_coroutine) do
			if type(co) == "thread" then
				t = t + 1
			end
		end
		return t
	end
	if ret == "init" then
		if init_thread then
			return traceback(init_thread)
		else
			return
		end
	end
	local tt = type(ret)
	if tt == "table" then
		for session, co in pairs(session_id_coroutine) do
			local key = string.format("%s session: %d", tostring(co), session)
			ret[key] = task_traceback(co)
		end
		return
	elseif tt == "number" then
		local co = session_id_coroutine[ret]
		if co then
			return task_traceback(co)
		else
			return "No session"
		end
	elseif tt == "thread" then
		for session, co in pairs(session_id_coroutine) do
			if co == ret then
				return session
			end
		end
		return
	end
end

function skynet.uniqtask()
	local stacks = {}
	for session, co in pairs(session_id_coroutine) do
		local stack = task_traceback(co)
		local info = stacks[stack] or { count = 0, sessions = {} }
		info.count = info.count + 1
		if info.count < 10 then
			info.sessions[#info.sessions + 1] = session
		end
		stacks[stack] = info
	end
	return stacks
end

-- Graceful shutdown hooks (SIGTERM, console `shutdown`): run once every open flow
-- (skynet.flow) of the node has finished, before SQL pools and Redis close. Flush state here;
-- the hooks may call other services and stores. An error is logged and the next hook runs.
local shutdown_hooks = {}
function skynet.onshutdown(fn)
	assert(type(fn) == "function", "skynet.onshutdown needs a function")
	shutdown_hooks[#shutdown_hooks + 1] = fn
end

local function run_shutdown_hooks()
	local hooks = shutdown_hooks
	shutdown_hooks = {}
	local failed = 0
	for _, fn in ipairs(hooks) do
		local ok, err = xpcall(fn, traceback)
		if not ok then
			failed = failed + 1
			skynet.error("onshutdown hook failed: " .. tostring(err))
		end
	end
	return #hooks, failed
end

-- Freeze and restore (SIGHUP / console `freeze`, then `cirrus CONFIG --restore`): the
-- freeze hook returns this service's state (values skynet.pack takes); it runs once every
-- open flow of the node has finished, and the node exits after writing the snapshot. On a
-- restored node, skynet.restore(fn) calls fn(state...) with what the hook of the service
-- launched the same way returned, and returns true; false when there is nothing to restore.
local freeze_hook
function skynet.freeze(fn)
	assert(type(fn) == "function", "skynet.freeze needs a function")
	freeze_hook = fn
end

local function run_freeze_hook()
	if not freeze_hook then
		return nil
	end
	local r = table.pack(xpcall(freeze_hook, traceback))
	if not r[1] then
		skynet.error("freeze hook failed: " .. tostring(r[2]))
		return false, tostring(r[2])
	end
	local ok, state = pcall(skynet.packstring, table.unpack(r, 2, r.n))
	if not ok then
		skynet.error("freeze hook: state cannot be packed: " .. tostring(state))
		return false, tostring(state)
	end
	return true, state
end

function skynet.restore(fn)
	assert(type(fn) == "function", "skynet.restore needs a function")
	local state = require("cirrus.snapshot").take()
	if state == nil then
		return false
	end
	fn(skynet.unpack(state))
	return true
end

function skynet.term(service)
	return _error_dispatch(0, service)
end

-- Cap this service's Lua memory: allocations past the limit raise "not enough memory".
function skynet.memlimit(bytes)
	c.memlimit(bytes)
	skynet.memlimit = nil -- set only once
end

-- The debug protocol (console mem/gc/stat/ping...) loads its module on first use, so idle
-- services don't carry it.
local info_func
function skynet.info_func(func)
	info_func = func
end

skynet.register_protocol {
	name = "debug",
	id = skynet.PTYPE_DEBUG,
	pack = skynet.pack,
	unpack = skynet.unpack,
	dispatch = function(...)
		local dbg = require "skynet.debug"
		local f = dbg.init(skynet, {
			dispatch = skynet.dispatch_message,
			suspend = suspend,
			resume = coroutine_resume,
			info = function() return info_func end,
			start = function() return service_start end,
			proto = proto, -- skynet.lua is loaded stripped: no upvalue names to find it by
			shutdown = run_shutdown_hooks,
			freeze = run_freeze_hook,
		})
		proto.debug.dispatch = f
		return f(...)
	end,
}

return skynet
