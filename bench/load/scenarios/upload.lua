-- wrk script: uploads. Every request is a POST of the same body to the URL's path:
--   WRK_UPLOAD_BYTES=65536 [WRK_UPLOAD_CHUNK=8192] wrk ... -s upload.lua URL
-- WRK_UPLOAD_BYTES: the body's size [1024]; WRK_UPLOAD_CHUNK: send it chunked
-- (Transfer-Encoding: chunked) in chunks of this many bytes; unset or 0: with Content-Length.
-- Read at load time because wrk decides then whether a script is static: with Content-Length
-- it is (wrk sends its built request with no Lua call per request); chunked, request()
-- returns the one string built here. done() is stats.lua's.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "../stats.lua")

local size = tonumber(os.getenv("WRK_UPLOAD_BYTES") or "") or 1024
local chunk = tonumber(os.getenv("WRK_UPLOAD_CHUNK") or "") or 0
local body = string.rep("0123456789abcdef", math.ceil(size / 16)):sub(1, size)

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/octet-stream"
if chunk <= 0 then
  wrk.body = body
else
  local req
  local parts = {}
  for at = 1, size, chunk do
    local piece = body:sub(at, at + chunk - 1)
    parts[#parts + 1] = string.format("%x\r\n%s\r\n", #piece, piece)
  end
  parts[#parts + 1] = "0\r\n\r\n"
  local chunks = table.concat(parts)
  init = function(args)
    -- no body for wrk.format, so no Content-Length: the chunks follow the head
    wrk.headers["Transfer-Encoding"] = "chunked"
    req = wrk.format("POST", wrk.path) .. chunks
  end
  request = function() return req end
end
