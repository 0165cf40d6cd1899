//! Model prices (issue 20): `MODEL_PRICES`, a JSON object from
//! `"provider/model"` (or a bare model name) to
//! `{"input": 2.0, "output": 8.0, "cached_input": 0.5}`, USD per million
//! tokens; and an answer's cost in micro-dollars. Pure.

use crate::usage::Usage;
use serde_json::Value;

/// USD per million tokens.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Price {
    pub input: f64,
    pub output: f64,
    /// Cached input tokens; the input price when not given.
    pub cached_input: Option<f64>,
}

fn amount(
    model: &str,
    o: &serde_json::Map<String, Value>,
    field: &str,
) -> Result<Option<f64>, String> {
    match o.get(field) {
        None => Ok(None),
        Some(v) => match v.as_f64() {
            Some(x) if x.is_finite() && x >= 0.0 => Ok(Some(x)),
            _ => Err(format!(
                "price of '{model}': '{field}' must be a non-negative number (USD per million tokens)"
            )),
        },
    }
}

fn price(model: &str, v: &Value) -> Result<Price, String> {
    let Value::Object(o) = v else {
        return Err(format!(
            "price of '{model}' must be an object {{\"input\": .., \"output\": .., \"cached_input\"?: ..}}"
        ));
    };
    // An unknown field is not named: it may be a pasted key.
    if o.keys()
        .any(|k| !matches!(k.as_str(), "input" | "output" | "cached_input"))
    {
        return Err(format!(
            "price of '{model}': unknown field (input, output, cached_input are known)"
        ));
    }
    let input =
        amount(model, o, "input")?.ok_or_else(|| format!("price of '{model}' needs 'input'"))?;
    let output =
        amount(model, o, "output")?.ok_or_else(|| format!("price of '{model}' needs 'output'"))?;
    Ok(Price {
        input,
        output,
        cached_input: amount(model, o, "cached_input")?,
    })
}

/// Parses `MODEL_PRICES` (a blank setting is no prices); the error names the
/// model and what is wrong with its price, never anything else of the
/// setting. A valid model name is said: it is what clients send, not a
/// secret, and the only handle on an entry of an object (serde_json keeps
/// no order); a name that is not valid is not said.
pub fn parse(raw: &str) -> Result<Vec<(String, Price)>, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(Vec::new());
    }
    let v: Value = serde_json::from_str(raw).map_err(|e| {
        format!(
            "must be a JSON object of prices ({})",
            crate::settings::json_problem(&e)
        )
    })?;
    let Value::Object(o) = v else {
        return Err("must be a JSON object of prices".into());
    };
    o.iter()
        .map(|(name, v)| {
            if name.trim().is_empty() || name.contains(char::is_whitespace) {
                return Err("a model name is empty or has spaces".into());
            }
            let model = crate::errors::printable(name);
            Ok((name.clone(), price(&model, v)?))
        })
        .collect()
}

/// The price of `target` (`provider/model`): the exact name first, else the
/// bare model (the part after the first `/`).
pub fn find<'a>(prices: &'a [(String, Price)], target: &str) -> Option<&'a Price> {
    let exact = prices.iter().find(|(name, _)| name == target);
    exact
        .or_else(|| {
            let (_, bare) = target.split_once('/')?;
            prices.iter().find(|(name, _)| name == bare)
        })
        .map(|(_, p)| p)
}

/// What `u` costs at `price`, in micro-dollars (rounded, saturating):
/// uncached input at the input price, cached input at the cached price (or
/// the input price), output at the output price.
pub fn cost_micros(price: &Price, u: &Usage) -> u64 {
    let cached = u.cached.min(u.input);
    let uncached = u.input - cached;
    // Prices are per million tokens, the result in millionths of a dollar:
    // tokens × price is already micro-dollars.
    let micros = uncached as f64 * price.input
        + cached as f64 * price.cached_input.unwrap_or(price.input)
        + u.output as f64 * price.output;
    // `as` saturates (and NaN, impossible with parsed prices, is 0).
    micros.round() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage(input: u64, output: u64, cached: u64) -> Usage {
        Usage {
            input,
            output,
            cached,
            reasoning: 0,
        }
    }

    #[test]
    fn parses_prices_with_and_without_a_cached_price() {
        let p = parse(
            r#"{"openai/gpt-4.1": {"input": 2.0, "output": 8, "cached_input": 0.5},
                "claude-sonnet-4-5": {"input": 3, "output": 15}}"#,
        )
        .unwrap();
        assert_eq!(
            p,
            vec![
                (
                    "claude-sonnet-4-5".to_string(),
                    Price {
                        input: 3.0,
                        output: 15.0,
                        cached_input: None
                    }
                ),
                (
                    "openai/gpt-4.1".to_string(),
                    Price {
                        input: 2.0,
                        output: 8.0,
                        cached_input: Some(0.5)
                    }
                ),
            ]
        );
        assert_eq!(parse("").unwrap(), vec![]);
        assert_eq!(parse("  {} ").unwrap(), vec![]);
        // Free is a price.
        assert!(parse(r#"{"local/llama3": {"input": 0, "output": 0}}"#).is_ok());
    }

    #[test]
    fn refuses_bad_prices_naming_the_model_not_the_value() {
        let cases = [
            ("[1, 2]", "must be a JSON object of prices"),
            (
                "{\"a\": ",
                "must be a JSON object of prices (the JSON ends early, at line 1",
            ),
            (r#"{"m": 2}"#, "price of 'm' must be an object"),
            (r#"{"m": {"output": 1}}"#, "price of 'm' needs 'input'"),
            (r#"{"m": {"input": 1}}"#, "price of 'm' needs 'output'"),
            (
                r#"{"m": {"input": -1, "output": 1}}"#,
                "price of 'm': 'input' must be a non-negative number",
            ),
            (
                r#"{"m": {"input": "secret-ish-2.0", "output": 1}}"#,
                "price of 'm': 'input' must be a non-negative number",
            ),
            (
                r#"{"m": {"input": 1, "output": 1, "cached_input": null}}"#,
                "price of 'm': 'cached_input' must be",
            ),
            (
                r#"{"m": {"input": 1, "output": 1, "cache": 0.5}}"#,
                "price of 'm': unknown field",
            ),
            (
                r#"{"": {"input": 1, "output": 1}}"#,
                "a model name is empty",
            ),
            (
                r#"{"a b": {"input": 1, "output": 1}}"#,
                "a model name is empty or has spaces",
            ),
        ];
        for (raw, want) in cases {
            let err = parse(raw).unwrap_err();
            assert!(err.starts_with(want), "{raw}: {err}");
            assert!(!err.contains("secret-ish"), "{err}");
        }
        // Not finite: JSON has no such number; serde_json refuses 1e999.
        assert!(parse(r#"{"m": {"input": 1e999, "output": 1}}"#).is_err());
    }

    #[test]
    fn finds_the_exact_name_first_then_the_bare_model() {
        let p = parse(
            r#"{"openai/gpt-4.1": {"input": 2, "output": 8},
                "gpt-4.1": {"input": 1, "output": 1},
                "claude-sonnet-4-5": {"input": 3, "output": 15},
                "meta-llama/llama-3": {"input": 0.1, "output": 0.2}}"#,
        )
        .unwrap();
        assert_eq!(find(&p, "openai/gpt-4.1").unwrap().input, 2.0);
        assert_eq!(find(&p, "azure/gpt-4.1").unwrap().input, 1.0);
        assert_eq!(find(&p, "anthropic/claude-sonnet-4-5").unwrap().input, 3.0);
        // The part after the first `/` only.
        assert_eq!(
            find(&p, "openrouter/meta-llama/llama-3").unwrap().input,
            0.1
        );
        assert_eq!(find(&p, "openrouter/llama-3"), None);
        assert_eq!(find(&p, "gpt-4.1").unwrap().input, 1.0);
        assert_eq!(find(&p, "openai/gpt-4o"), None);
        assert_eq!(find(&[], "openai/gpt-4o"), None);
    }

    #[test]
    fn costs_in_micro_dollars() {
        let p = Price {
            input: 2.0,
            output: 8.0,
            cached_input: Some(0.5),
        };
        // 1000 uncached × 2 + 0 + 500 × 8 = 6000 µUSD.
        assert_eq!(cost_micros(&p, &usage(1000, 500, 0)), 6000);
        // 600 uncached × 2 + 400 cached × 0.5 + 500 × 8 = 1200 + 200 + 4000.
        assert_eq!(cost_micros(&p, &usage(1000, 500, 400)), 5400);
        // Without a cached price cached tokens cost the input price.
        let q = Price {
            cached_input: None,
            ..p
        };
        assert_eq!(cost_micros(&q, &usage(1000, 500, 400)), 6000);
        // Rounded to the nearest micro-dollar.
        let r = Price {
            input: 0.15,
            output: 0.6,
            cached_input: Some(0.075),
        };
        assert_eq!(cost_micros(&r, &usage(3, 1, 0)), 1); // 0.45 + 0.6 = 1.05
        assert_eq!(cost_micros(&r, &usage(1, 0, 0)), 0); // 0.15
        assert_eq!(cost_micros(&r, &usage(0, 0, 0)), 0);
        // Matches the /usage example: 120 in, 40 out at 2 / 8 → 560 µUSD.
        assert_eq!(cost_micros(&q, &usage(120, 40, 0)), 560);
        // Cached above input (a provider's odd count) is held to the input.
        assert_eq!(cost_micros(&p, &usage(100, 0, 400)), 50);
        // Saturating.
        let huge = Price {
            input: 1e300,
            output: 1e300,
            cached_input: None,
        };
        assert_eq!(cost_micros(&huge, &usage(u64::MAX, u64::MAX, 0)), u64::MAX);
    }
}
