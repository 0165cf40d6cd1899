//! The OpenAI Responses ⇄ chat completions pair (a client such as Codex or
//! the OpenAI SDK's `responses` speaking to a provider that has chat
//! completions): the [`request`] mapper, the [`response`] mapper (whole
//! answers) and the [`stream`] translator (chat chunks → Responses events).
//! Chained with the other pairs, it reaches Anthropic (Messages) and
//! Bedrock (Converse) too.

pub mod request;
pub mod response;
pub mod stream;

#[cfg(test)]
mod tests;

/// A tool as the client declared it, and the name the provider sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolName {
    /// The function name sent to the provider.
    pub flat: String,
    /// The tool's own name.
    pub name: String,
    /// The namespace it was declared in (`namespace` tools are flattened).
    pub namespace: Option<String>,
    /// A `custom` tool: free-form text input, its call a `custom_tool_call`.
    pub custom: bool,
}

/// The client's tools by the names the provider sees, so that calls map
/// back to the client's names and kinds.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ToolNames(pub Vec<ToolName>);

/// `namespace__name`, cut to what OpenAI-compatible providers accept
/// (`[A-Za-z0-9_-]`, at most 64 characters).
fn flatten(name: &str, namespace: Option<&str>) -> String {
    let joined = match namespace {
        Some(ns) if !ns.is_empty() => format!("{ns}__{name}"),
        _ => return name.to_string(),
    };
    joined
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect()
}

impl ToolNames {
    /// Records a function tool; returns the name the provider sees.
    pub fn function(&mut self, name: &str, namespace: Option<&str>) -> String {
        let flat = flatten(name, namespace);
        self.0.push(ToolName {
            flat: flat.clone(),
            name: name.to_string(),
            namespace: namespace.map(str::to_string),
            custom: false,
        });
        flat
    }

    /// Records a custom (free-form) tool.
    pub fn custom(&mut self, name: &str) {
        self.0.push(ToolName {
            flat: name.to_string(),
            name: name.to_string(),
            namespace: None,
            custom: true,
        });
    }

    /// The provider-side name of a client's tool.
    pub fn flat_name(&self, name: &str, namespace: Option<&str>) -> String {
        self.0
            .iter()
            .find(|t| t.name == name && t.namespace.as_deref() == namespace)
            .map_or_else(|| flatten(name, namespace), |t| t.flat.clone())
    }

    /// The client's tool behind a provider-side name.
    pub fn back(&self, flat: &str) -> Option<&ToolName> {
        self.0.iter().find(|t| t.flat == flat)
    }
}
