-- wrk script: requests as browsers send them, from the fixed table in browser_heads.txt (64
-- heads of 550-900 bytes with 12-16 fields: User-Agent, Accept*, a Cookie of 100-300 bytes,
-- Referer, sec-ch-ua and Sec-Fetch-*; varied paths, query strings and Host spellings). Each
-- request is the next head of the table, so no two requests in a row on a connection are the
-- same and no cache of the last head or target helps. The heads are built once (init);
-- request() only picks one. done() is stats.lua's (the WRKJSON line run.sh reads).
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "../stats.lua")

-- The heads of browser_heads.txt (LF-separated lines, a blank line between heads) in
-- HTTP's CRLF form.
function load_heads(path)
  local f = assert(io.open(path, "rb"))
  local text = f:read("*a")
  f:close()
  local heads = {}
  for block in (text .. "\n\n"):gmatch("(.-)\n\n+") do
    if #block > 0 then heads[#heads + 1] = block:gsub("\n", "\r\n") .. "\r\n\r\n" end
  end
  return heads
end

local heads = load_heads(here .. "browser_heads.txt")
local next_head = 1

request = function()
  local h = heads[next_head]
  next_head = next_head % #heads + 1
  return h
end
