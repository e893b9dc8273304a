-- wrk script: a fixed-size flood where every request carries an X-Forwarded-For IPv4 address,
-- either a fresh random one per request (the server, trusting 127.0.0.1 as a proxy, sees a new
-- client on nearly every request) or one picked from a fixed pool (few clients, many requests each).
--
-- Usage: wrk -t T -c C -d <upper bound> -s bench/flood.lua http://127.0.0.1:PORT/api/v1/tenants -- TOTAL T ADDRESSES
--   TOTAL      requests to send in all (default 100000); each thread stops after ceil(TOTAL / T)
--   T          the same thread count as -t (wrk does not tell the script)
--   ADDRESSES  0 (default): a fresh random address per request;
--              N > 0: each request picks uniformly from a pool of N distinct random addresses,
--              the same pool in every thread (generated from a fixed seed)
--
-- Each thread prints FLOOD_THREAD_DONE when it has its share (see response()).
-- done() prints one machine-readable line:
--   FLOOD requests=N s401=N s429=N s2xx=N other=N other_codes=CODE:N,... duration_s=S rps=R addresses=N
-- Counters are plain numbers kept as globals in each thread's own Lua state and read back in
-- done() with thread:get(), the reliable way to get per-thread data out of wrk.

local threads = {}
local random, format = math.random, string.format

local POOL_SEED = 20240601  -- fixed: every thread's Lua state generates the same pool from it

function setup(thread)
   table.insert(threads, thread)
   thread:set("thread_no", #threads)
end

local function random_ipv4()
   local a = random(1, 223)  -- unicast, never 0.x or multicast
   if a == 127 then a = 126 end  -- never loopback (127.0.0.1 is the trusted proxy)
   return format("%d.%d.%d.%d", a, random(0, 255), random(0, 255), random(1, 254))
end

-- n distinct random addresses, from the generator as currently seeded.
local function make_pool(n)
   local list, seen = {}, {}
   -- Bounded: with ~2^31 possible addresses duplicates are rare; give up long before looping.
   for _ = 1, 10 * n + 1000 do
      if #list >= n then break end
      local ip = random_ipv4()
      if not seen[ip] then
         seen[ip] = true
         list[#list + 1] = ip
      end
   end
   if #list < n then error(format("flood.lua: could only generate %d of %d distinct addresses", #list, n)) end
   return list
end

function init(args)
   local total = tonumber(args[1]) or 100000
   local nthreads = tonumber(args[2]) or 1
   addresses = tonumber(args[3]) or 0
   if addresses < 0 or addresses ~= math.floor(addresses) then
      error("flood.lua: ADDRESSES must be a whole number >= 0, got " .. tostring(args[3]))
   end
   share = math.ceil(total / nthreads)
   count, s401, s429, s2xx, other = 0, 0, 0, 0, 0
   other_codes = ""          -- e.g. "500:3,404:1"; only touched on unexpected statuses (rare)
   other_by_code = {}
   if addresses > 0 then
      math.randomseed(POOL_SEED)
      pool = make_pool(addresses)
   end
   -- Then each thread gets its own sequence of addresses (or of picks from the pool).
   math.randomseed(os.time() * 1000 + (thread_no or 0) * 7919)
   path = wrk.path
end

function request()
   local ip
   if pool then
      ip = pool[random(1, addresses)]
   else
      ip = random_ipv4()
   end
   return wrk.format(nil, path, { ["X-Forwarded-For"] = ip })
end

function response(status, headers, body)
   count = count + 1
   if status == 401 then
      s401 = s401 + 1
   elseif status == 429 then
      s429 = s429 + 1
   elseif status >= 200 and status < 300 then
      s2xx = s2xx + 1
   else
      other = other + 1
      other_by_code[status] = (other_by_code[status] or 0) + 1
      local parts = {}
      for code, n in pairs(other_by_code) do parts[#parts + 1] = code .. ":" .. n end
      other_codes = table.concat(parts, ",")
   end
   if count >= share and not stopped then
      stopped = true
      -- wrk's main thread would still sleep out the whole -d; http.sh watches for this line and
      -- then sends wrk SIGINT, on which it prints its statistics and runs done() at once.
      io.write("FLOOD_THREAD_DONE\n")
      io.flush()
      wrk.thread:stop()
   end
end

function done(summary, latency, requests)
   local n, c401, c429, c2xx, cother = 0, 0, 0, 0, 0
   local codes = {}
   local naddr = 0
   for _, t in ipairs(threads) do
      n = n + (t:get("count") or 0)
      c401 = c401 + (t:get("s401") or 0)
      c429 = c429 + (t:get("s429") or 0)
      c2xx = c2xx + (t:get("s2xx") or 0)
      cother = cother + (t:get("other") or 0)
      naddr = t:get("addresses") or naddr
      for code, k in string.gmatch(t:get("other_codes") or "", "(%d+):(%d+)") do
         codes[code] = (codes[code] or 0) + tonumber(k)
      end
   end
   local parts = {}
   for code, k in pairs(codes) do parts[#parts + 1] = code .. ":" .. k end
   table.sort(parts)
   local secs = summary.duration / 1e6
   io.write(format("FLOOD requests=%d s401=%d s429=%d s2xx=%d other=%d other_codes=%s duration_s=%.3f rps=%.1f addresses=%d\n",
      n, c401, c429, c2xx, cother, (#parts > 0 and table.concat(parts, ",") or "-"), secs, n / secs, naddr))
end
