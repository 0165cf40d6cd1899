//! spin.toml declares every setting the proxy reads, maps each to the
//! component, marks keys secret, and lets the component reach every provider.

use llm_proxy::providers::{base_url_setting, PROVIDERS};
use llm_proxy::settings::GENERAL_SETTINGS;

const MANIFEST: &str = include_str!("../spin.toml");

fn all_settings() -> Vec<String> {
    let mut names: Vec<String> = GENERAL_SETTINGS.iter().map(|s| s.to_string()).collect();
    for p in PROVIDERS {
        names.extend(p.key_settings.iter().map(|s| s.to_string()));
        names.extend(p.extra_settings.iter().map(|s| s.to_string()));
        names.push(base_url_setting(p.route));
    }
    names
}

#[test]
fn every_setting_is_an_application_and_component_variable() {
    for name in all_settings() {
        let n = name.to_ascii_lowercase();
        // Optional; the regions default to the code's defaults (they template
        // allowed_outbound_hosts, which an empty value would break).
        let default = match n.as_str() {
            "vertex_region" => "us-central1",
            "aws_region" => "us-east-1",
            _ => "",
        };
        assert!(
            MANIFEST
                .lines()
                .any(|l| l.starts_with(&format!("{n} = {{ default = \"{default}\""))),
            "[variables] lacks {n} (optional, default {default:?})"
        );
        assert!(
            MANIFEST.contains(&format!("{n} = \"{{{{ {n} }}}}\"")),
            "[component.llm-proxy.variables] lacks {n}"
        );
        let secret = name.ends_with("_API_KEY")
            || name.ends_with("_TOKEN")
            || name.contains("SECRET")
            || name == "VERTEX_SERVICE_ACCOUNT_JSON"
            || name == "AWS_ACCESS_KEY_ID"
            || name == "AWS_BEARER_TOKEN_BEDROCK";
        if secret && name != "VERTEX_TOKEN_URI" {
            assert!(
                MANIFEST.contains(&format!("{n} = {{ default = \"\", secret = true }}")),
                "{n} must be secret"
            );
        }
    }
}

#[test]
fn every_provider_host_and_the_gateway_are_allowed_outbound() {
    let hosts: Vec<String> = PROVIDERS
        .iter()
        .map(|p| {
            let rest = p.base_url.split_once("://").unwrap().1;
            let host = rest
                .split('/')
                .next()
                .unwrap()
                .replace("{resource}", "*")
                .replace("{region}-aiplatform", "{{ vertex_region }}-aiplatform")
                .replace(
                    "bedrock-runtime.{region}",
                    "bedrock-runtime.{{ aws_region }}",
                );
            format!("\"https://{host}\"")
        })
        .chain([
            "\"https://gateway.ai.cloudflare.com\"".to_string(),
            "\"https://oauth2.googleapis.com\"".to_string(),
        ])
        .collect();
    let section = MANIFEST
        .split("allowed_outbound_hosts = [")
        .nth(1)
        .unwrap()
        .split(']')
        .next()
        .unwrap();
    for h in hosts {
        assert!(section.contains(&h), "allowed_outbound_hosts lacks {h}");
    }
    assert!(section.contains("{{ extra_outbound_host }}"));
}
