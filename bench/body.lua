-- wrk script: POSTs the JSON body in the file $BODY_FILE (written by
-- bench/run.sh from a recorded client request), with the proxy key: as a
-- bearer token, or in the header $KEY_HEADER when set (x-goog-api-key, as
-- Gemini's clients send it).
local f = assert(io.open(os.getenv("BODY_FILE"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
local key_header = os.getenv("KEY_HEADER")
if key_header and key_header ~= "" then
  wrk.headers[key_header] = "bench-proxy-key"
else
  wrk.headers["Authorization"] = "Bearer bench-proxy-key"
  wrk.headers["anthropic-version"] = "2023-06-01"
end
