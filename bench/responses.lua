-- wrk script: a non-streaming Responses API request, as Codex and the OpenAI
-- SDK send it, to an OpenAI-compatible provider (translated both ways).
wrk.method = "POST"
wrk.body = '{"model":"groq/llama-3.3-70b","instructions":"You are terse.","input":[{"type":"message","role":"user","content":[{"type":"input_text","text":"Say hello."}]}],"store":false,"temperature":0.2}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer bench-proxy-key"
