//! Custom OpenAI-compatible endpoints from `CUSTOM_OPENAI_ENDPOINTS`: a JSON
//! array of `{name, baseUrl, apiKeys?, models?, chatCompletionPath?, modelsPath?,
//! embeddingsPath?}`.

use super::{spec, AuthStyle, Provider};
use crate::settings::{self, SettingError, SettingSource};
use crate::url::BaseUrl;
use serde_json::Value;

pub const SETTING: &str = "CUSTOM_OPENAI_ENDPOINTS";

/// Route names a custom endpoint may not take (the proxy's own routes).
const RESERVED: &[&str] = &[
    "ping",
    "status",
    "models",
    "chat",
    "embeddings",
    "v1",
    "key",
    "g",
    "compat",
];

#[derive(Debug, Clone, PartialEq)]
pub struct CustomEndpoint {
    pub name: String,
    pub base: BaseUrl,
    pub keys: Vec<String>,
    pub models: Option<Vec<String>>,
    pub chat_path: String,
    pub models_path: String,
    pub embeddings_path: String,
}

impl CustomEndpoint {
    pub fn into_provider(self) -> Provider {
        Provider {
            key_setting: format!("{SETTING}[{}].apiKeys", self.name),
            name: self.name,
            spec: None,
            base: self.base,
            auth: AuthStyle::Bearer,
            default_headers: Vec::new(),
            chat_path: Some(self.chat_path),
            messages_path: None,
            models_path: Some(self.models_path),
            embeddings_path: Some(self.embeddings_path),
            keys: self.keys,
            keys_required: false,
            static_models: self.models,
            credentials: Vec::new(),
            cloud: None,
            check_path: None,
        }
    }
}

/// The valid endpoints, and one error per invalid entry (which is skipped).
pub fn endpoints(src: &dyn SettingSource) -> (Vec<CustomEndpoint>, Vec<SettingError>) {
    let Some(raw) = settings::value(src, SETTING) else {
        return (Vec::new(), Vec::new());
    };
    let err = |message: String| SettingError {
        setting: SETTING.to_string(),
        message,
    };
    let entries = match serde_json::from_str::<Value>(raw.trim()) {
        Ok(Value::Array(entries)) => entries,
        Ok(_) => return (Vec::new(), vec![err("must be a JSON array".into())]),
        Err(e) => {
            let why = settings::json_problem(&e);
            return (
                Vec::new(),
                vec![err(format!("must be a JSON array ({why})"))],
            );
        }
    };
    let mut out: Vec<CustomEndpoint> = Vec::new();
    let mut errors = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        match parse_entry(entry) {
            Ok(e) if out.iter().any(|o| o.name == e.name) => errors.push(err(format!(
                "entry {i}: 'name' is used by an earlier entry"
            ))),
            Ok(e) => out.push(e),
            Err(m) => errors.push(err(format!("entry {i}: {m}"))),
        }
    }
    (out, errors)
}

/// One entry. Its errors (which the caller prefixes with the entry's index)
/// name fields, never what is in them: not even the endpoint's name, which
/// may be anything that fits `[A-Za-z0-9._-]`, a key included.
fn parse_entry(entry: &Value) -> Result<CustomEndpoint, String> {
    let name = entry
        .get("name")
        .and_then(Value::as_str)
        .map(str::trim)
        .ok_or("needs a string 'name'")?;
    let name_ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.');
    if !name_ok || name.starts_with('.') {
        return Err("'name' must match [A-Za-z0-9._-]{1,64}".into());
    }
    if spec(name).is_some() || RESERVED.contains(&name) {
        return Err("'name' is taken by a built-in route".into());
    }
    let base_url = entry
        .get("baseUrl")
        .and_then(Value::as_str)
        .ok_or("needs a string 'baseUrl'")?;
    let base = BaseUrl::parse(base_url).map_err(|m| format!("'baseUrl' {m}"))?;
    let keys = match entry.get("apiKeys") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(s)) => {
            settings::parse_key_list(s).map_err(|m| format!("'apiKeys' {m}"))?
        }
        Some(Value::Array(items)) => items
            .iter()
            .map(|k| k.as_str().map(|s| s.trim().to_string()))
            .collect::<Option<Vec<_>>>()
            .ok_or("'apiKeys' must be strings")?
            .into_iter()
            .filter(|k| !k.is_empty())
            .collect(),
        Some(_) => return Err("'apiKeys' must be an array of strings".into()),
    };
    let models = match entry.get("models") {
        None | Some(Value::Null) => None,
        Some(Value::Array(items)) => Some(
            items
                .iter()
                .map(|m| m.as_str().map(str::to_string))
                .collect::<Option<Vec<_>>>()
                .ok_or("'models' must be strings")?,
        ),
        Some(_) => return Err("'models' must be an array of strings".into()),
    };
    let path = |field: &str, default: &str| -> Result<String, String> {
        match entry.get(field) {
            None | Some(Value::Null) => Ok(default.to_string()),
            Some(Value::String(p))
                if p.starts_with('/')
                    && crate::url::check_rest(p.split('?').next().unwrap_or("")).is_ok() =>
            {
                Ok(p.clone())
            }
            Some(_) => Err(format!("'{field}' must be a path starting with '/'")),
        }
    };
    Ok(CustomEndpoint {
        name: name.to_string(),
        base,
        keys,
        models,
        chat_path: path("chatCompletionPath", "/chat/completions")?,
        models_path: path("modelsPath", "/models")?,
        embeddings_path: path("embeddingsPath", "/embeddings")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn src(v: &str) -> HashMap<String, String> {
        HashMap::from([(SETTING.to_string(), v.to_string())])
    }

    #[test]
    fn parses_full_and_minimal_entries() {
        let (eps, errs) = endpoints(&src(
            r#"[{"name":"local","baseUrl":"http://127.0.0.1:8000/v1","apiKeys":["a"," b "],
                 "models":["m1"],"chatCompletionPath":"/chat","modelsPath":"/m","embeddingsPath":"/emb"},
                {"name":"bare","baseUrl":"https://llm.example.com"}]"#,
        ));
        assert!(errs.is_empty(), "{errs:?}");
        assert_eq!(eps[0].keys, vec!["a", "b"]);
        assert_eq!(eps[0].models.as_deref(), Some(&["m1".to_string()][..]));
        assert_eq!(eps[0].chat_path, "/chat");
        assert_eq!(eps[1].chat_path, "/chat/completions");
        assert_eq!(eps[1].models_path, "/models");
        assert_eq!(eps[0].embeddings_path, "/emb");
        assert_eq!(eps[1].embeddings_path, "/embeddings");
        assert!(eps[1].keys.is_empty());
    }

    #[test]
    fn invalid_entries_are_reported_and_skipped_without_echoing_keys() {
        let (eps, errs) = endpoints(&src(r#"[{"name":"openai","baseUrl":"http://x"},
                {"name":"ok","baseUrl":"http://x","apiKeys":"k1,k2"},
                {"name":"bad url","baseUrl":"http://x"},
                {"name":"nourl","apiKeys":["sk-secret"]},
                {"name":"ok","baseUrl":"http://y"},
                {"name":"p","baseUrl":"http://y","chatCompletionPath":"/../x"}]"#));
        assert_eq!(eps.len(), 1);
        assert_eq!(eps[0].keys, vec!["k1", "k2"]);
        assert_eq!(errs.len(), 5, "{errs:?}");
        assert!(errs.iter().all(|e| !e.message.contains("sk-secret")));
        let (_, errs) = endpoints(&src(r#"[{"name":"embeddings","baseUrl":"http://x"}]"#));
        assert!(errs[0].message.contains("taken"), "{errs:?}");
        let (eps, errs) = endpoints(&src("{nope"));
        assert!(eps.is_empty() && errs.len() == 1);
    }
}
