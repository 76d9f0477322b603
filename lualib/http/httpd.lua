-- http.httpd: skynet's HTTP/1.x request reader and response writer over read/write functions
-- (http.sockethelper's, or any with the same shape).
--   local code, url, method, header, body = httpd.read_request(read, bodylimit)
--       code 200, or 400 / 413 / 501 / 505; nil, err when reading failed
--   local ok, err = httpd.write_response(write, code, body_string_or_function, header)
local httpd = {}

local HEADER_LIMIT = 8192

local STATUS = {
	[100] = "Continue", [101] = "Switching Protocols", [200] = "OK", [201] = "Created",
	[202] = "Accepted", [204] = "No Content", [206] = "Partial Content",
	[301] = "Moved Permanently", [302] = "Found", [304] = "Not Modified",
	[400] = "Bad Request", [401] = "Unauthorized", [403] = "Forbidden", [404] = "Not Found",
	[405] = "Method Not Allowed", [408] = "Request Time-out", [411] = "Length Required",
	[413] = "Request Entity Too Large", [414] = "Request-URI Too Large",
	[500] = "Internal Server Error", [501] = "Not Implemented", [502] = "Bad Gateway",
	[503] = "Service Unavailable", [505] = "HTTP Version not supported",
}

-- read until the blank line; returns the header lines and what came after, or nil if too long
local function read_head(read, pending)
	local buf = pending or ""
	while true do
		local e = buf:find("\r\n\r\n", 1, true)
		if e then
			local lines = {}
			for line in buf:sub(1, e + 1):gmatch "(.-)\r\n" do
				lines[#lines + 1] = line
			end
			return lines, buf:sub(e + 4)
		end
		if #buf > HEADER_LIMIT then
			return nil
		end
		buf = buf .. read()
	end
end

local function parse_header(lines, from, header)
	local name
	for i = from, #lines do
		local line = lines[i]
		if line:byte(1) == 9 then -- a continuation line
			if not name then
				return nil
			end
			header[name] = header[name] .. line:sub(2)
		else
			local n, v = line:match "^(.-):%s*(.*)"
			if not n then
				return nil
			end
			name = n:lower()
			local old = header[name]
			if old == nil then
				header[name] = v
			elseif type(old) == "table" then
				old[#old + 1] = v
			else
				header[name] = { old, v }
			end
		end
	end
	return header
end

-- read n bytes, taking `pending` first; returns them and what is left of pending
local function take(read, pending, n)
	if #pending >= n then
		return pending:sub(1, n), pending:sub(n + 1)
	end
	return pending .. read(n - #pending), ""
end

local function read_line(read, pending)
	while true do
		local e = pending:find("\r\n", 1, true)
		if e then
			return pending:sub(1, e - 1), pending:sub(e + 2)
		end
		pending = pending .. read()
	end
end

local function read_chunked(read, pending, bodylimit, header)
	local parts, size = {}, 0
	while true do
		local line
		line, pending = read_line(read, pending)
		local n = tonumber(line:match "^%s*(%x+)", 16)
		if not n then
			return nil
		end
		if n == 0 then
			break
		end
		size = size + n
		if bodylimit and size > bodylimit then
			return nil
		end
		local chunk
		chunk, pending = take(read, pending, n + 2)
		parts[#parts + 1] = chunk:sub(1, n)
	end
	-- trailer fields, up to an empty line
	local trailers = {}
	while true do
		local line
		line, pending = read_line(read, pending)
		if line == "" then
			break
		end
		trailers[#trailers + 1] = line
	end
	if not parse_header(trailers, 1, header) then
		return nil
	end
	return table.concat(parts), header
end

local function read_all(read, bodylimit)
	local lines, rest = read_head(read)
	if not lines then
		return 413
	end
	local method, url, version = (lines[1] or ""):match "^(%a+)%s+(.-)%s+HTTP/([%d%.]+)$"
	assert(method and url and version, "bad request line")
	version = tonumber(version)
	if version < 1.0 or version > 1.1 then
		return 505
	end
	local header = parse_header(lines, 2, {})
	if not header then
		return 400
	end
	local mode = header["transfer-encoding"]
	if mode and mode ~= "identity" and mode ~= "chunked" then
		return 501
	end
	local body
	if mode == "chunked" then
		body, header = read_chunked(read, rest, bodylimit, header)
		if not body then
			return 413
		end
	else
		local length = tonumber(header["content-length"])
		if length then
			if bodylimit and length > bodylimit then
				return 413
			end
			body = take(read, rest, length)
		else
			body = rest
		end
	end
	return 200, url, method, header, body
end

function httpd.read_request(read, bodylimit)
	local ok, code, url, method, header, body = pcall(read_all, read, bodylimit)
	if ok then
		return code, url, method, header, body
	end
	return nil, code
end

local function write_all(write, code, body, header)
	write(string.format("HTTP/1.1 %03d %s\r\n", code, STATUS[code] or ""))
	for k, v in pairs(header or {}) do
		if type(v) == "table" then
			for _, one in ipairs(v) do
				write(string.format("%s: %s\r\n", k, one))
			end
		else
			write(string.format("%s: %s\r\n", k, v))
		end
	end
	local t = type(body)
	if t == "string" then
		write(string.format("content-length: %d\r\n\r\n", #body))
		write(body)
	elseif t == "function" then
		write "transfer-encoding: chunked\r\n"
		while true do
			local s = body()
			if not s then
				write "\r\n0\r\n\r\n"
				break
			elseif s ~= "" then
				write(string.format("\r\n%x\r\n", #s))
				write(s)
			end
		end
	else
		assert(t == "nil", "body must be a string or a function")
		write "\r\n"
	end
end

function httpd.write_response(write, code, body, header)
	return pcall(write_all, write, code, body, header)
end

return httpd
