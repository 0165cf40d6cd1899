//! STUB (replaced by the `usage` branch): token usage seen in an answer.

/// Tokens one answer used (input includes cached, output reasoning).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    pub input: u64,
    pub output: u64,
    pub cached: u64,
    pub reasoning: u64,
}

impl Usage {
    pub fn total(&self) -> u64 {
        self.input.saturating_add(self.output)
    }
}

/// Watches an answer's bytes for usage.
#[derive(Default)]
pub struct UsageTap;

impl UsageTap {
    pub fn new() -> UsageTap {
        UsageTap
    }
    pub fn push(&mut self, _chunk: &[u8]) {}
    pub fn usage(&self) -> Option<Usage> {
        None
    }
}

/// Takes the usage-only chunk out of an OpenAI chat stream.
pub struct StripUsage;

impl StripUsage {
    pub fn new() -> StripUsage {
        StripUsage
    }
}

impl crate::translate::BodyTransform for StripUsage {
    fn push(&mut self, chunk: &[u8], out: &mut Vec<u8>) {
        out.extend_from_slice(chunk);
    }
    fn finish(&mut self, _complete: bool, _out: &mut Vec<u8>) {}
}
