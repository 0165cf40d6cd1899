//! STUB (replaced by the `usage` branch): `MODEL_PRICES`.
use crate::usage::Usage;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Price {
    pub input: f64,
    pub output: f64,
    pub cached_input: Option<f64>,
}

pub fn parse(_raw: &str) -> Result<Vec<(String, Price)>, String> {
    Ok(Vec::new())
}

pub fn find<'a>(prices: &'a [(String, Price)], target: &str) -> Option<&'a Price> {
    prices.iter().find(|(m, _)| m == target).map(|(_, p)| p)
}

pub fn cost_micros(price: &Price, u: &Usage) -> u64 {
    let fresh = u.input.saturating_sub(u.cached) as f64;
    let c = fresh * price.input
        + u.cached as f64 * price.cached_input.unwrap_or(price.input)
        + u.output as f64 * price.output;
    c.round() as u64
}
