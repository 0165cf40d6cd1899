//! Choosing one provider key per request (SPEC §7): the `/key/{sel}/` prefix
//! or a uniformly random key. Randomness is passed in.

/// A `/key/{sel}/` selection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySelection {
    /// `i`: key `i` modulo the number of keys.
    Index(usize),
    /// `i-j`, `i-`, `-j`: a uniformly random key in the inclusive range,
    /// clamped to the key count.
    Range(Option<usize>, Option<usize>),
}

impl KeySelection {
    /// Parses `sel`; `None` when it is not one of the four forms.
    pub fn parse(sel: &str) -> Option<KeySelection> {
        let num = |s: &str| -> Option<Option<usize>> {
            if s.is_empty() {
                Some(None)
            } else if s.bytes().all(|b| b.is_ascii_digit()) && s.len() <= 9 {
                s.parse().ok().map(Some)
            } else {
                None
            }
        };
        match sel.split_once('-') {
            None => num(sel)?.map(KeySelection::Index),
            Some((a, b)) => {
                let (lo, hi) = (num(a)?, num(b)?);
                if lo.is_none() && hi.is_none() {
                    return None;
                }
                if let (Some(l), Some(h)) = (lo, hi) {
                    if l > h {
                        return None;
                    }
                }
                Some(KeySelection::Range(lo, hi))
            }
        }
    }

    /// The inclusive index range this selection allows among `n > 0` keys.
    pub fn bounds(self, n: usize) -> (usize, usize) {
        let last = n.saturating_sub(1);
        match self {
            KeySelection::Index(i) => (i % n.max(1), i % n.max(1)),
            KeySelection::Range(lo, hi) => {
                let lo = lo.unwrap_or(0).min(last);
                let hi = hi.unwrap_or(last).min(last);
                (lo, hi.max(lo))
            }
        }
    }
}

/// Picks a key index among `n > 0` keys from `random`, within `selection`.
pub fn choose(selection: Option<KeySelection>, n: usize, random: u64) -> usize {
    let (lo, hi) = match selection {
        Some(s) => s.bounds(n),
        None => (0, n.saturating_sub(1)),
    };
    let span = (hi - lo + 1) as u64;
    lo + (random % span) as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use KeySelection::*;

    #[test]
    fn parses_the_four_forms() {
        assert_eq!(KeySelection::parse("2"), Some(Index(2)));
        assert_eq!(KeySelection::parse("1-3"), Some(Range(Some(1), Some(3))));
        assert_eq!(KeySelection::parse("1-"), Some(Range(Some(1), None)));
        assert_eq!(KeySelection::parse("-3"), Some(Range(None, Some(3))));
        for bad in [
            "",
            "-",
            "a",
            "1-2-3",
            "3-1",
            "+1",
            " 1",
            "1e3",
            "99999999999",
        ] {
            assert_eq!(KeySelection::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn index_wraps_and_ranges_clamp() {
        assert_eq!(Index(5).bounds(3), (2, 2));
        assert_eq!(Range(Some(1), Some(9)).bounds(3), (1, 2));
        assert_eq!(Range(Some(7), None).bounds(3), (2, 2));
        assert_eq!(Range(None, Some(0)).bounds(3), (0, 0));
    }

    #[test]
    fn choice_stays_in_range_and_covers_it() {
        let mut seen = [0usize; 4];
        for r in 0..400u64 {
            let i = choose(
                Some(Range(Some(1), Some(2))),
                4,
                r.wrapping_mul(0x9e3779b97f4a7c15),
            );
            assert!((1..=2).contains(&i));
            seen[i] += 1;
        }
        assert!(seen[1] > 100 && seen[2] > 100, "{seen:?}");
        let all: std::collections::HashSet<_> = (0..64).map(|r| choose(None, 3, r)).collect();
        assert_eq!(all.len(), 3);
    }
}
