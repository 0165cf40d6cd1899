-- wrk script: POSTs the JSON body in the file $BODY_FILE (written by
-- bench/run.sh from a recorded client request), with the proxy key.
local f = assert(io.open(os.getenv("BODY_FILE"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer bench-proxy-key"
wrk.headers["anthropic-version"] = "2023-06-01"
