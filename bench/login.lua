-- bench/login.lua: wrk script that POSTs a login for every request and counts the answers.
-- Arguments after `--`: e-mail and password of an existing user.
-- Prints one line at the end: `LOGIN requests=… s200=… s401=… s429=… other=…`.

local counts = {}
local threads = {}

function setup(thread)
    thread:set("s200", 0)
    thread:set("s401", 0)
    thread:set("s429", 0)
    thread:set("other", 0)
    table.insert(threads, thread)
end

function init(args)
    local email = args[1] or "bench@example.com"
    local password = args[2] or ""
    wrk.method = "POST"
    wrk.headers["Content-Type"] = "application/json"
    wrk.body = string.format('{"email":"%s","password":"%s"}', email, password)
    s200, s401, s429, other = 0, 0, 0, 0
end

function response(status, headers, body)
    if status == 200 then
        s200 = s200 + 1
    elseif status == 401 then
        s401 = s401 + 1
    elseif status == 429 then
        s429 = s429 + 1
    else
        other = other + 1
    end
end

function done(summary, latency, requests)
    local t = { s200 = 0, s401 = 0, s429 = 0, other = 0 }
    for _, thread in ipairs(threads) do
        for k, _ in pairs(t) do
            t[k] = t[k] + (thread:get(k) or 0)
        end
    end
    io.write(string.format("LOGIN requests=%d s200=%d s401=%d s429=%d other=%d\n",
        summary.requests, t.s200, t.s401, t.s429, t.other))
end
