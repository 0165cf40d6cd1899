-- wrk script: bench/post.lua's chat completion with the proxy key in
-- $TEAM_KEY (default: the all-access key) and the model in $TEAM_MODEL
-- (default openai/gpt-4o-mini; a model route's name for the route rows).
local key = os.getenv("TEAM_KEY") or ""
local model = os.getenv("TEAM_MODEL") or ""
if key == "" then key = "bench-proxy-key" end
if model == "" then model = "openai/gpt-4o-mini" end
wrk.method = "POST"
wrk.body = '{"model":"' .. model .. '","messages":[{"role":"system","content":"You are terse."},{"role":"user","content":"Say hello."}],"temperature":0.2}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. key
