-- wrk script: a non-streaming Gemini API request (generateContent), as Gemini
-- CLI and Google's GenAI SDKs send it, with the proxy key in x-goog-api-key,
-- to an OpenAI-compatible provider named in the path (translated both ways).
wrk.method = "POST"
wrk.body = '{"contents":[{"role":"user","parts":[{"text":"Say hello."}]}],"systemInstruction":{"role":"user","parts":[{"text":"You are terse."}]},"generationConfig":{"temperature":0.2}}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["x-goog-api-key"] = "bench-proxy-key"
