//! The grant's verdicts, one by one (the property over whole requests is in
//! `tests/properties.rs`).

use super::*;
use crate::client_keys::{self, ClientKey};
use crate::settings::from_pairs;
use std::collections::HashMap;

fn key(models: &[&str], gateways: &[&str], pass_through: &[&str]) -> Caller {
    Caller::client(ClientKey {
        name: "k".into(),
        sha256: [0; 32],
        models: models.iter().map(|s| s.to_string()).collect(),
        gateways: gateways.iter().map(|s| s.to_string()).collect(),
        pass_through: pass_through.iter().map(|s| s.to_string()).collect(),
        rpm: None,
        tpm: None,
        daily_tokens: None,
        expires: None,
    })
}

fn settings() -> HashMap<String, String> {
    from_pairs(&[
        ("OPENAI_API_KEY", "sk"),
        ("OPENAI_BASE_URL", "http://127.0.0.1:9"),
        ("ANTHROPIC_API_KEY", "sk"),
        ("GEMINI_API_KEY", "g"),
        ("AWS_BEARER_TOKEN_BEDROCK", "b"),
        ("AZURE_OPENAI_API_KEY", "a"),
        ("AZURE_OPENAI_RESOURCE", "res"),
        ("VERTEX_ACCESS_TOKEN", "t"),
        ("VERTEX_PROJECT", "ours"),
        ("CLOUDFLARE_ACCOUNT_ID", "acc"),
        ("CLOUDFLARE_API_KEY", "cf"),
    ])
}

fn provider(name: &str) -> Provider {
    providers::resolve(name, &settings()).unwrap_or_else(|_| panic!("{name}"))
}

fn endpoint_of(name: &str, method: &str, rest: &str) -> Option<Endpoint> {
    endpoint(&provider(name), method, rest, &settings())
}

#[test]
fn inference_and_model_lists_are_known_per_provider() {
    use Endpoint::*;
    for (p, m, rest, want) in [
        ("openai", "POST", "/v1/chat/completions", Some(Chat)),
        ("openai", "POST", "/chat/completions", Some(Chat)),
        ("openai", "POST", "/v1/completions", Some(Completions)),
        ("openai", "POST", "/v1/responses", Some(Generate)),
        ("openai", "POST", "/v1/responses/input_tokens", Some(Count)),
        ("openai", "POST", "/v1/embeddings", Some(Embed)),
        ("openai", "GET", "/v1/models", Some(Models)),
        ("openai", "GET", "/v1/models/gpt-4o", Some(Models)),
        ("openai", "HEAD", "/v1/models", Some(Models)),
        ("google-ai-studio", "HEAD", "/v1beta/models/g:generateContent", None),
        // The account's objects.
        ("openai", "GET", "/v1/files", None),
        ("openai", "DELETE", "/v1/files/file-abc", None),
        ("openai", "GET", "/v1/batches", None),
        ("openai", "POST", "/v1/batches", None),
        ("openai", "GET", "/v1/chat/completions", None),
        ("openai", "GET", "/v1/chat/completions/chatcmpl-1", None),
        ("openai", "POST", "/v1/chat/completions/chatcmpl-1", None),
        ("openai", "GET", "/v1/responses/resp_abc", None),
        ("openai", "DELETE", "/v1/models/ft:gpt-4o:org:x", None),
        ("openai", "POST", "/v1/threads/t/messages", None),
        ("openai", "POST", "/v1/fine_tuning/jobs", None),
        ("openai", "GET", "/v1/organization/users", None),
        // Written otherwise: not the same path.
        ("openai", "POST", "/v1/chat/completions/", None),
        ("openai", "POST", "/v1//chat/completions", None),
        ("openai", "POST", "/v1/chat%2Fcompletions", None),
        ("openai", "POST", "/v1/%63hat/completions", None),
        ("openai", "GET", "/v1/models/a%2F..%2Ffiles", None),
        ("anthropic", "POST", "/v1/messages", Some(Generate)),
        ("anthropic", "POST", "/v1/messages/count_tokens", Some(Count)),
        ("anthropic", "POST", "/v1/messages/batches", None),
        ("anthropic", "GET", "/v1/messages/batches", None),
        ("anthropic", "GET", "/v1/models", Some(Models)),
        ("anthropic", "GET", "/v1/files", None),
        ("google-ai-studio", "POST", "/v1beta/models/gemini-2.5-flash:generateContent", Some(Generate)),
        ("google-ai-studio", "POST", "/v1/models/gemini-2.5-flash:streamGenerateContent", Some(Generate)),
        ("google-ai-studio", "POST", "/v1beta/models/g:countTokens", Some(Count)),
        ("google-ai-studio", "POST", "/v1beta/models/e:batchEmbedContents", Some(Embed)),
        ("google-ai-studio", "POST", "/v1beta/models/g:batchGenerateContent", None),
        ("google-ai-studio", "POST", "/v1beta/openai/chat/completions", Some(Chat)),
        ("google-ai-studio", "GET", "/v1beta/models", Some(Models)),
        ("google-ai-studio", "GET", "/v1beta/models/gemini-2.5-flash", Some(Models)),
        ("google-ai-studio", "GET", "/v1beta/files", None),
        ("google-ai-studio", "POST", "/v1beta/cachedContents", None),
        ("google-ai-studio", "GET", "/v1beta/tunedModels", None),
        ("aws-bedrock", "POST", "/model/anthropic.claude-v2/converse", Some(Generate)),
        ("aws-bedrock", "POST", "/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A1%3Ainference-profile%2Fus.x/converse-stream", Some(Generate)),
        ("aws-bedrock", "POST", "/model/m/invoke", Some(Opaque)),
        ("aws-bedrock", "POST", "/model/m/count-tokens", Some(Count)),
        ("aws-bedrock", "POST", "/async-invoke", None),
        ("azure-openai", "POST", "/openai/deployments/gpt4/chat/completions", Some(Chat)),
        ("azure-openai", "POST", "/openai/deployments/e/embeddings", Some(Embed)),
        ("azure-openai", "POST", "/openai/v1/chat/completions", Some(Chat)),
        ("azure-openai", "POST", "/openai/v1/responses", Some(Generate)),
        ("azure-openai", "GET", "/openai/files", None),
        ("azure-openai", "POST", "/openai/deployments/d/extensions/chat/completions", None),
        ("google-vertex-ai", "POST", "/v1/projects/ours/locations/us-central1/publishers/google/models/gemini-2.5-pro:generateContent", Some(Generate)),
        ("google-vertex-ai", "POST", "/v1/projects/ours/locations/us-east5/publishers/anthropic/models/claude:rawPredict", Some(Opaque)),
        ("google-vertex-ai", "POST", "/v1/projects/ours/locations/us-central1/endpoints/openapi/chat/completions", Some(Chat)),
        // Another project, through the operator's service account.
        ("google-vertex-ai", "POST", "/v1/projects/theirs/locations/us-central1/publishers/google/models/g:generateContent", None),
        ("google-vertex-ai", "GET", "/v1/projects/ours/locations/us-central1/datasets", None),
        ("workers-ai", "POST", "/run/@cf/meta/llama-3-8b-instruct", Some(Opaque)),
        ("workers-ai", "POST", "/v1/chat/completions", Some(Chat)),
        ("workers-ai", "GET", "/finetunes", None),
    ] {
        assert_eq!(endpoint_of(p, m, rest), want, "{m} /{p}{rest}");
    }
}

#[test]
fn a_client_key_reaches_inference_with_a_wildcard_and_more_only_by_grant() {
    let src = settings();
    let openai = provider("openai");
    let reach = |c: &Caller, m: &str, rest: &str| pass_through(c, &openai, m, rest, &src);
    let wildcard = key(&["openai/*"], &[], &[]);
    assert_eq!(
        reach(&wildcard, "POST", "/v1/chat/completions"),
        Ok(Endpoint::Chat)
    );
    let e = reach(&wildcard, "GET", "/v1/files").unwrap_err();
    assert_eq!((e.status, e.code), (403, "endpoint_not_allowed"));
    assert!(e.message.contains("pass_through"), "{}", e.message);
    // A model of the provider is not the provider's API.
    let one = key(&["openai/gpt-4o"], &[], &[]);
    let e = reach(&one, "POST", "/v1/chat/completions").unwrap_err();
    assert_eq!(e.code, "model_not_allowed");
    // `pass_through` opens a path and what is below it, nothing beside it.
    let files = key(&["anthropic/*"], &[], &["/openai/v1/files"]);
    assert_eq!(reach(&files, "GET", "/v1/files"), Ok(Endpoint::Granted));
    assert_eq!(
        reach(&files, "DELETE", "/v1/files/file-1"),
        Ok(Endpoint::Granted)
    );
    assert!(reach(&files, "GET", "/v1/files-other").is_err());
    assert!(reach(&files, "GET", "/v1/batches").is_err());
    assert!(reach(&files, "POST", "/v1/chat/completions").is_err());
    let whole = key(&["anthropic/*"], &[], &["/openai"]);
    assert_eq!(reach(&whole, "GET", "/v1/batches"), Ok(Endpoint::Granted));
    assert_eq!(
        reach(&whole, "POST", "/v1/chat/completions"),
        Ok(Endpoint::Chat)
    );
    // The all-access key reaches everything; nobody sends TRACE.
    let all = Caller::all_access();
    assert_eq!(reach(&all, "GET", "/v1/files"), Ok(Endpoint::Granted));
    assert_eq!(
        reach(&all, "POST", "/v1/chat/completions"),
        Ok(Endpoint::Granted)
    );
    for m in ["TRACE", "CONNECT", "PROPFIND", "FOO"] {
        let e = reach(&all, m, "/v1/models").unwrap_err();
        assert_eq!((e.status, e.allow), (405, Some(ALLOW)));
    }
}

#[test]
fn what_spends_unreadable_tokens() {
    assert!(Endpoint::Opaque.usage_unreadable("POST"));
    assert!(Endpoint::Granted.usage_unreadable("POST"));
    assert!(!Endpoint::Granted.usage_unreadable("GET"));
    assert!(!Endpoint::Chat.usage_unreadable("POST"));
    assert!(Endpoint::Count.free("POST") && Endpoint::Models.free("GET"));
    assert!(!Endpoint::Embed.free("POST"));
}

#[test]
fn gateways_routes_and_models() {
    let k = key(&["openai/*", "smart"], &["team-gw"], &[]);
    assert!(gateway(&k, "team-gw", None).is_ok());
    let e = gateway(&k, "other", None).unwrap_err();
    assert_eq!((e.status, e.code), (403, "gateway_not_allowed"));
    // The default gateway applies to everyone: naming it opens nothing new.
    assert!(gateway(&k, "main", Some("main")).is_ok());
    assert!(gateway(&k, "other", Some("main")).is_err());
    assert!(gateway(&Caller::all_access(), "other", None).is_ok());
    assert!(route(&k, "smart").is_ok());
    // A route is opened by its exact name only: `openai/*` is not it.
    assert_eq!(
        route(&k, "openai/gpt-4o").unwrap_err().code,
        "model_not_allowed"
    );
    assert!(route(&key(&["*"], &[], &[]), "openai/gpt-4o").is_ok());
    assert!(model(&k, "gpt-4o", "openai/gpt-4o").is_ok());
    assert!(model(&k, "claude", "anthropic/claude").is_err());
    let or = key(&["openrouter/anthropic/claude-sonnet-4.5"], &[], &[]);
    assert!(body_models(&or, "openrouter", &["anthropic/claude-sonnet-4.5".into()]).is_ok());
    let e = body_models(&or, "openrouter", &["openai/gpt-4o".into()]).unwrap_err();
    assert!(
        e.message.contains("openrouter/openai/gpt-4o"),
        "{}",
        e.message
    );
    // Routes whose body names providers and endpoints: the operator's.
    let star = key(&["*"], &[], &[]);
    assert_eq!(
        operator_only(&star, "/compat").unwrap_err().code,
        "endpoint_not_allowed"
    );
    assert!(operator_only(&Caller::all_access(), "/compat").is_ok());
}

#[test]
fn a_client_keys_account_and_gateway_headers_are_dropped_and_named() {
    let h = RequestHead::new(
        "POST",
        "/v1/chat/completions",
        [
            ("OpenAI-Organization", "org-other"),
            ("openai-project", "proj"),
            ("x-goog-user-project", "p"),
            ("cf-aig-collect-log", "false"),
            ("cf-aig-custom-cost", "{}"),
            ("cf-aig-cache-key", "theirs"),
            ("cf-aig-authorization", "Bearer x"),
            ("cf-aig-cache-ttl", "60"),
            ("cf-aig-skip-cache", "true"),
            ("content-type", "application/json"),
        ]
        .iter()
        .map(|(n, v)| (n.to_string(), v.as_bytes().to_vec()))
        .collect(),
    );
    let client = key(&["*"], &[], &[]);
    let (kept, dropped) = head(&client, &h).unwrap();
    let names: Vec<&str> = kept.headers.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        ["cf-aig-cache-ttl", "cf-aig-skip-cache", "content-type"]
    );
    assert_eq!(
        dropped,
        [
            "openai-organization",
            "openai-project",
            "x-goog-user-project",
            "cf-aig-collect-log",
            "cf-aig-custom-cost",
            "cf-aig-cache-key",
            "cf-aig-authorization"
        ]
    );
    assert_eq!(trust(&client, &h), Trust::Client);
    // The all-access key keeps them, and its auth failures are then its own.
    assert!(head(&Caller::all_access(), &h).is_none());
    assert_eq!(trust(&Caller::all_access(), &h), Trust::OperatorAccount);
    let plain = RequestHead::new("GET", "/v1/models", vec![]);
    assert_eq!(trust(&Caller::all_access(), &plain), Trust::Operator);
    assert!(head(&client, &plain).is_none());
}

#[test]
fn who_blames_the_key_and_who_sees_account_headers() {
    assert!(Trust::Operator.blames_key(401) && Trust::Operator.blames_key(403));
    assert!(!Trust::OperatorAccount.blames_key(401));
    assert!(!Trust::OperatorAccount.blames_key(403));
    assert!(Trust::OperatorAccount.blames_key(429));
    assert!(Trust::Client.blames_key(401) && !Trust::Client.blames_key(403));
    for h in ACCOUNT_RESPONSE_HEADERS {
        assert!(!Trust::Client.shows(h) && Trust::Operator.shows(h));
    }
    assert!(Trust::Client.shows("x-ratelimit-remaining-requests"));
}

#[test]
fn entries_grant_gateways_and_paths_and_refuse_an_empty_model_list() {
    let sha = "0".repeat(64);
    let parse =
        |extra: &str| client_keys::parse(&format!(r#"[{{"name":"a","sha256":"{sha}"{extra}}}]"#));
    let k = parse(r#","gateways":["gw-1"],"pass_through":["/openai/v1/files/"]"#).unwrap();
    assert_eq!(k[0].gateways, ["gw-1"]);
    assert_eq!(k[0].pass_through, ["/openai/v1/files"]);
    assert!(parse(r#","models":[]"#)
        .unwrap_err()
        .contains("'models' is empty"));
    for bad in [
        r#","gateways":["a.b"]"#,
        r#","pass_through":["openai/v1"]"#,
        r#","pass_through":["/openai/../x"]"#,
        r#","pass_through":["/openai/%2e"]"#,
        r#","pass_through":["/"]"#,
        r#","pass_through":["/openai/*"]"#,
    ] {
        assert!(parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn stored_objects_of_the_shared_account_need_a_grant() {
    let named = |body: &str| stored_objects(&key(&["*"], &[], &[]), &["openai"], body.as_bytes());
    for body in [
        r#"{"previous_response_id":"resp_1","input":"hi"}"#,
        r#"{"conversation" : {"id":"conv_1"}}"#,
        r#"{"messages":[{"content":[{"type":"file","file":{"file_id":"file-1"}}]}]}"#,
        r#"{"tools":[{"type":"file_search","vector_store_ids":["vs_1"]}]}"#,
        r#"{"cachedContent":"cachedContents/abc"}"#,
        r#"{"contents":[{"parts":[{"fileData":{"fileUri":"https://generativelanguage.googleapis.com/v1beta/files/x"}}]}]}"#,
        r#"{"contents":[{"parts":[{"file_data":{"file_uri":"gs://their-bucket/a.pdf"}}]}]}"#,
        r#"{"tools":[{"type":"code_interpreter","container":"cntr_1"}]}"#,
        r#"{"prompt":{"id":"pmpt_1","version":"2"},"input":"hi"}"#,
        r#"{"conversation":"conv_1","input":"hi"}"#,
        // A new container's settings name no stored container, but its files.
        r#"{"tools":[{"type":"code_interpreter","container":{"type":"auto","file_ids":["file-1"]}}]}"#,
        // A Responses input item's file, a tool output's file.
        r#"{"input":[{"role":"user","content":[{"type":"input_file","file_id":"file-1"}]}]}"#,
        r#"{"input":[{"type":"function_call_output","call_id":"c","output":[{"type":"input_file","file_id":"file-1"}]}]}"#,
        // An Anthropic document from the Files API.
        r#"{"messages":[{"role":"user","content":[{"type":"document","source":{"type":"file","file_id":"file_011"}}]}]}"#,
        // A stored response's item, a previous audio answer; a key spelled
        // with an escape is the same key.
        r#"{"input":[{"type":"item_reference","id":"msg_1"},{"role":"user","content":"hi"}]}"#,
        r#"{"messages":[{"role":"assistant","audio":{"id":"audio_1"}},{"role":"user","content":"hi"}]}"#,
        r#"{"messages":[{"content":[{"type":"file","file":{"file\u005fid":"file-1"}}]}]}"#,
        // Found in review: a container (and its skills) by id, Responses items
        // looked up by id, a hosted shell's container, file search stores,
        // RAG corpora and search data stores, the account's buckets, a
        // countTokens request's cached content, Vertex predict's output.
        r#"{"container":{"id":"container_1","skills":[{"type":"custom","skill_id":"skill_1"}]},"messages":[]}"#,
        r#"{"skills":[{"skill_id":"skill_1"}]}"#,
        r#"{"input":[{"id":"msg_1"}]}"#,
        r#"{"input":[{"type":"reasoning","id":"rs_1","summary":[]},{"role":"user","content":"go on"}]}"#,
        r#"{"input":[{"type":"image_generation_call","id":"ig_1"}]}"#,
        r#"{"tools":[{"type":"shell","environment":{"type":"container_reference","container_id":"cntr_1"}}],"input":"ls"}"#,
        r#"{"tools":[{"fileSearch":{"fileSearchStoreNames":["fileSearchStores/x"]}}]}"#,
        r#"{"tools":[{"file_search":{"file_search_store_names":["fileSearchStores/x"]}}]}"#,
        r#"{"tools":[{"retrieval":{"vertexRagStore":{"ragResources":[{"ragCorpus":"projects/p/locations/l/ragCorpora/1"}]}}}]}"#,
        r#"{"tools":[{"retrieval":{"vertexAiSearch":{"datastore":"projects/p/locations/l/collections/c/dataStores/d"}}}]}"#,
        r#"{"messages":[{"role":"user","content":[{"document":{"format":"pdf","name":"d","source":{"s3Location":{"uri":"s3://b/k.pdf"}}}}]}]}"#,
        r#"{"instances":[{"image":{"gcsUri":"gs://b/i.png"}}]}"#,
        r#"{"instances":[{"prompt":"x"}],"parameters":{"storageUri":"gs://b/out/"}}"#,
        r#"{"generateContentRequest":{"model":"models/g","cachedContent":"cachedContents/x","contents":[]}}"#,
        r#"{"contents":[{"parts":[{"fileData":{"fileUri":"https://GenerativeLanguage.googleapis.com/v1beta/files/x"}}]}]}"#,
        r#"{"contents":[{"parts":[{"fileData":{"fileUri":"http://generativelanguage.googleapis.com/v1beta/files/x"}}]}]}"#,
    ] {
        let e = named(body).unwrap_err();
        assert_eq!(
            (e.status, e.code),
            (403, "stored_object_not_allowed"),
            "{body}"
        );
    }
    for body in [
        r#"{"previous_response_id":null,"input":"hi"}"#,
        r#"{"tools":[{"type":"file_search","vector_store_ids":[ ]}]}"#,
        r#"{"tools":[{"type":"code_interpreter","container":{"type":"auto"}}]}"#,
        r#"{"contents":[{"parts":[{"fileData":{"fileUri":"https://www.youtube.com/watch?v=x"}}]}]}"#,
        // Text that mentions a field is no field.
        r#"{"messages":[{"content":"set \"file_id\": \"file-1\" in the request"}]}"#,
        r#"{"messages":[{"content":"previous_response_id"}]}"#,
        r#"{"model":"gpt-3.5-turbo-instruct","prompt":"Say hi"}"#,
        r#"{"prompt":["a","b"]}"#,
        // A tool's schema, a tool call's input or arguments and a
        // function's response are the client's own: parameters named like
        // the fields (Claude Code's Task tool has a `prompt`) name nothing.
        r#"{"tools":[{"name":"Task","input_schema":{"type":"object","properties":{"prompt":{"type":"string"},"file_id":{"type":"string"},"conversation":{"type":"object"}}}}]}"#,
        r#"{"tools":[{"type":"function","function":{"name":"f","parameters":{"properties":{"container":{"type":"string"}}}}}]}"#,
        r#"{"messages":[{"role":"assistant","content":[{"type":"tool_use","id":"t","name":"f","input":{"file_id":"file-1","conversation":"c"}}]}]}"#,
        r#"{"contents":[{"parts":[{"functionCall":{"name":"f","args":{"fileUri":"gs://x/y"}}},{"functionResponse":{"name":"f","response":{"file_id":"x"}}}]}]}"#,
        r#"{"tools":[{"functionDeclarations":[{"name":"f","parametersJsonSchema":{"properties":{"prompt":{"type":"object"}}}}]}]}"#,
        r#"{"metadata":{"file_id":"mine"}}"#,
        // The output audio's settings; an item of the client's own with an id.
        r#"{"audio":{"voice":"alloy","format":"wav"},"messages":[]}"#,
        r#"{"input":[{"type":"message","id":"msg_1","role":"user","content":"hi"}]}"#,
        // What Codex sends back: reasoning with its encrypted content, a
        // message with its content, a finished image generation call.
        r#"{"input":[{"type":"reasoning","id":"rs_1","summary":[],"encrypted_content":"gAAA"},{"type":"message","id":"msg_1","role":"assistant","content":[{"type":"output_text","text":"x"}]},{"type":"image_generation_call","id":"ig_1","result":"iVBOR"}]}"#,
        // A new container's settings; a function's own parameters.
        r#"{"container":{"skills":[]},"messages":[]}"#,
        r#"{"tools":[{"functionDeclarations":[{"name":"f","parameters":{"type":"object","properties":{"storageUri":{"type":"string"}}}}]}]}"#,
        // Only at the top level: a message's own `conversation` or `prompt`.
        r#"{"messages":[{"role":"user","content":"hi","conversation":{"id":"c"}}]}"#,
    ] {
        assert!(named(body).is_ok(), "{body}");
    }
    // JSON the reader cannot walk goes nowhere; a body that is no JSON at
    // all is scanned for any mention of a field.
    assert_eq!(named(r#"{"file_id":"file-1","#).unwrap_err().status, 400);
    let deep = format!(
        r#"{}{{"file_id":"file-1"}}{}"#,
        "[".repeat(200),
        "]".repeat(200)
    );
    assert_eq!(named(&deep).unwrap_err().status, 400);
    let surrogate =
        r#"{"messages":[{"content":"\ud800"},{"role":"assistant","audio":{"id":"a"}}]}"#;
    assert_eq!(named(surrogate).unwrap_err().status, 400);
    assert_eq!(named("RIFF....\"file_id\": 1").unwrap_err().status, 403);
    assert!(named("RIFF....WAVE").is_ok());
    // A grant for the kind (or the whole API) opens it; for every provider.
    let body = br#"{"messages":[{"content":[{"file":{"file_id":"file-1"}}]}]}"#;
    let files = key(&["*"], &[], &["/openai/v1/files"]);
    assert!(stored_objects(&files, &["openai"], body).is_ok());
    assert!(stored_objects(&files, &["openai", "anthropic"], body).is_err());
    assert!(stored_objects(&key(&["*"], &[], &["/openai"]), &["openai"], body).is_ok());
    assert!(stored_objects(&Caller::all_access(), &["openai"], body).is_ok());
}

#[test]
fn a_client_keys_account_and_credential_query_parameters_are_dropped() {
    let h = RequestHead::new(
        "POST",
        "/v1beta/models/g:generateContent?alt=sse&%24userProject=theirs&userProject=p&access_token=t&key=proxy-key&$key=k",
        vec![],
    );
    let (kept, dropped) = head(&key(&["*"], &[], &[]), &h).unwrap();
    assert_eq!(kept.query, "alt=sse");
    assert_eq!(
        dropped,
        ["?$userProject", "?userProject", "?access_token", "?$key"]
    );
    assert!(head(&Caller::all_access(), &h).is_none());
}
