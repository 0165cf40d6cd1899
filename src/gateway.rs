//! Cloudflare AI Gateway names.

/// Gateway names and account ids: `[A-Za-z0-9_-]{1,64}`.
pub fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

#[cfg(test)]
mod tests {
    #[test]
    fn names() {
        assert!(super::valid_name("my-gw_1"));
        for bad in ["", "a.b", "%2e%2e", "x@y", &"a".repeat(65)] {
            assert!(!super::valid_name(bad), "{bad}");
        }
    }
}
