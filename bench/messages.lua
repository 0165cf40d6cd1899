-- wrk script: a non-streaming Anthropic Messages request, as the Anthropic SDK
-- sends it, to an OpenAI-compatible provider (translated both ways).
wrk.method = "POST"
wrk.body = '{"model":"openai/gpt-4o-mini","max_tokens":256,"system":"You are terse.","messages":[{"role":"user","content":"Say hello."}],"temperature":0.2}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer bench-proxy-key"
wrk.headers["anthropic-version"] = "2023-06-01"
