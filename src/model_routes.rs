//! Model routes (issue 20, not yet routed): `MODEL_ROUTES`, a JSON object
//! naming models by role — `smart`, `fast`, or an alias such as
//! `claude-sonnet-4-5` — each an ordered list of `provider/model` targets or
//! `{"targets": [...], "strategy": "fallback" | "round-robin" | "weighted",
//! "weights": [...]}`. Pure: parsing and the order in which a request tries
//! the targets; the counter and the random draw come from the caller.

use serde_json::Value;

/// How a route orders its targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// In the order given; the next on failure.
    Fallback,
    /// Starting one further each request (a counter shared through the
    /// store), the rest after it in order.
    RoundRobin,
    /// The first drawn by weight, the rest after it in order.
    Weighted,
}

/// One named route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelRoute {
    pub name: String,
    /// `provider/model`, at least one.
    pub targets: Vec<String>,
    pub strategy: Strategy,
    /// One per target (weighted only), each > 0.
    pub weights: Vec<u64>,
}

/// Target `i` of route `route` (its name, already printable).
fn target(i: usize, v: &Value, route: &str) -> Result<String, String> {
    let t = v
        .as_str()
        .ok_or_else(|| format!("route '{route}': target {i} must be a string 'provider/model'"))?
        .trim();
    match t.split_once('/') {
        Some((p, m)) if !p.is_empty() && !m.is_empty() => Ok(t.to_string()),
        _ => Err(format!(
            "route '{route}': target {i} must be 'provider/model'"
        )),
    }
}

fn bad_strategy(route: &str) -> String {
    format!("route '{route}': 'strategy' must be \"fallback\", \"round-robin\" or \"weighted\"")
}

/// The route `name`. Its errors say the route's name — a model name that
/// clients send, not a secret, and the only handle on an entry of an object
/// (serde_json keeps no order) — but nothing else of the setting: not a
/// target, a strategy, an unknown field's name, nor a name that is not
/// valid (any of them may be a pasted key).
fn route(name: &str, v: &Value) -> Result<ModelRoute, String> {
    if name.is_empty() || name.contains(char::is_whitespace) {
        return Err("a route name is empty or has spaces".into());
    }
    let who = &crate::errors::printable(name);
    let (targets, strategy, weights) = match v {
        Value::Array(items) => (items.as_slice(), "fallback", None),
        Value::Object(o) => {
            if o.keys()
                .any(|k| !matches!(k.as_str(), "targets" | "strategy" | "weights"))
            {
                return Err(format!(
                    "route '{who}': unknown field (targets, strategy, weights are known)"
                ));
            }
            let targets = o
                .get("targets")
                .and_then(Value::as_array)
                .ok_or_else(|| format!("route '{who}': 'targets' must be an array"))?;
            let strategy = match o.get("strategy") {
                None => "fallback",
                Some(s) => s.as_str().ok_or_else(|| bad_strategy(who))?,
            };
            (targets.as_slice(), strategy, o.get("weights"))
        }
        _ => {
            return Err(format!(
                "route '{who}' must be a list of targets or an object with 'targets'"
            ))
        }
    };
    if targets.is_empty() {
        return Err(format!("route '{who}' has no targets"));
    }
    let targets = targets
        .iter()
        .enumerate()
        .map(|(i, t)| target(i, t, who))
        .collect::<Result<Vec<_>, _>>()?;
    let strategy = match strategy {
        "fallback" => Strategy::Fallback,
        "round-robin" => Strategy::RoundRobin,
        "weighted" => Strategy::Weighted,
        _ => return Err(bad_strategy(who)),
    };
    let weights = match (strategy, weights) {
        (Strategy::Weighted, Some(Value::Array(w))) => {
            let w: Option<Vec<u64>> = w.iter().map(|x| x.as_u64().filter(|&n| n > 0)).collect();
            match w {
                Some(w) if w.len() == targets.len() => w,
                _ => {
                    return Err(format!(
                        "route '{who}': 'weights' must be one positive integer per target"
                    ))
                }
            }
        }
        (Strategy::Weighted, _) => {
            return Err(format!(
                "route '{who}': a weighted route needs 'weights', one per target"
            ))
        }
        (_, Some(_)) => {
            return Err(format!(
                "route '{who}': 'weights' only go with \"strategy\": \"weighted\""
            ))
        }
        (_, None) => Vec::new(),
    };
    Ok(ModelRoute {
        name: name.to_string(),
        targets,
        strategy,
        weights,
    })
}

/// Parses `MODEL_ROUTES`; the error names the route and what is wrong with
/// it (never more of the setting than its valid names, see [`route`]).
pub fn parse(raw: &str) -> Result<Vec<ModelRoute>, String> {
    let v: Value = serde_json::from_str(raw.trim()).map_err(|e| {
        format!(
            "must be a JSON object of routes ({})",
            crate::settings::json_problem(&e)
        )
    })?;
    let Value::Object(o) = v else {
        return Err("must be a JSON object of routes".into());
    };
    o.iter().map(|(name, v)| route(name, v)).collect()
}

/// The route named `model`, if any.
pub fn find<'a>(routes: &'a [ModelRoute], model: &str) -> Option<&'a ModelRoute> {
    routes.iter().find(|r| r.name == model)
}

impl ModelRoute {
    /// The order in which one request tries the targets (indexes into
    /// `targets`): `counter` is the route's round-robin counter, `random`
    /// a random draw (weighted); each is read only by its strategy.
    pub fn order(&self, counter: u64, random: u64) -> Vec<usize> {
        let n = self.targets.len();
        let first = match self.strategy {
            Strategy::Fallback => 0,
            Strategy::RoundRobin => (counter % n as u64) as usize,
            Strategy::Weighted => {
                let total: u64 = self.weights.iter().fold(0u64, |a, w| a.saturating_add(*w));
                let mut draw = random % total.max(1);
                let mut pick = 0;
                for (i, w) in self.weights.iter().enumerate() {
                    if draw < *w {
                        pick = i;
                        break;
                    }
                    draw -= w;
                }
                pick
            }
        };
        (0..n).map(|i| (first + i) % n).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_objects_and_aliases() {
        let routes = parse(
            r#"{"smart": ["anthropic/claude-sonnet-4-5", "openai/gpt-4.1"],
                "fast": {"targets": ["groq/llama-3.3-70b", "cerebras/llama3.1-8b"], "strategy": "round-robin"},
                "split": {"targets": ["a/x", "b/y"], "strategy": "weighted", "weights": [3, 1]},
                "claude-sonnet-4-5": ["openrouter/anthropic/claude-sonnet-4.5"]}"#,
        )
        .unwrap();
        let smart = find(&routes, "smart").unwrap();
        assert_eq!(smart.strategy, Strategy::Fallback);
        assert_eq!(smart.order(7, 7), vec![0, 1]);
        let fast = find(&routes, "fast").unwrap();
        assert_eq!(fast.order(0, 0), vec![0, 1]);
        assert_eq!(fast.order(1, 0), vec![1, 0]);
        assert_eq!(fast.order(u64::MAX, 0), vec![1, 0]);
        let split = find(&routes, "split").unwrap();
        let firsts: Vec<usize> = (0..4).map(|r| split.order(0, r)[0]).collect();
        assert_eq!(firsts, vec![0, 0, 0, 1]);
        assert_eq!(split.order(0, 3), vec![1, 0]);
        // An alias: one target, the model part keeping its own slashes.
        let alias = find(&routes, "claude-sonnet-4-5").unwrap();
        assert_eq!(alias.targets, ["openrouter/anthropic/claude-sonnet-4.5"]);
        assert!(find(&routes, "nope").is_none());
    }

    #[test]
    fn mistakes_are_named() {
        for (raw, needle) in [
            ("[]", "JSON object"),
            ("{", "JSON object"),
            (r#"{"a": []}"#, "no targets"),
            (r#"{"a": ["gpt-4o"]}"#, "provider/model"),
            (r#"{"a": [3]}"#, "string"),
            (
                r#"{"a": {"targets": ["p/m"], "strategy": "random"}}"#,
                "'strategy' must be",
            ),
            (
                r#"{"a": {"targets": ["p/m"], "strategy": "weighted"}}"#,
                "needs 'weights'",
            ),
            (
                r#"{"a": {"targets": ["p/m"], "strategy": "weighted", "weights": [0]}}"#,
                "positive",
            ),
            (
                r#"{"a": {"targets": ["p/m", "q/n"], "strategy": "weighted", "weights": [1]}}"#,
                "one positive integer per target",
            ),
            (
                r#"{"a": {"targets": ["p/m"], "weights": [1]}}"#,
                "only go with",
            ),
            (
                r#"{"a": {"targets": ["p/m"], "retries": 2}}"#,
                "unknown field",
            ),
            (r#"{"a b": ["p/m"]}"#, "empty or has spaces"),
            (r#"{"a": "p/m"}"#, "list of targets"),
        ] {
            let e = parse(raw).unwrap_err();
            assert!(e.contains(needle), "{raw}: {e}");
        }
    }
}
