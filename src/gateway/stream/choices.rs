//! Recognising, in an event's raw bytes, that it cannot be OpenAI's usage chunk, so the tap
//! need not hold it back.
//!
//! Invariant: the answer depends only on the bytes in order, never on how they were chunked,
//! and once found it stays found (a longer prefix never un-proves it).

/// Finds `"choices"`, `:`, `[`, `{` (JSON whitespace between) in an event's raw bytes: proof
/// that its choices are not empty, so it is not the usage chunk and need not be held. Fed in
/// order, sticky once found, so the answer does not depend on how the bytes were chunked.
#[derive(Debug, Default)]
pub struct ChoicesMatcher {
    state: usize,
    /// The pattern was seen.
    pub found: bool,
}

impl ChoicesMatcher {
    const KEY: &'static [u8] = b"\"choices\"";

    pub fn feed(&mut self, raw: &[u8]) {
        let key = Self::KEY.len();
        for &b in raw {
            if self.found {
                return;
            }
            let ws = matches!(b, b' ' | b'\t' | b'\n' | b'\r');
            self.state = match (self.state, b) {
                (s, _) if s < key && Self::KEY.get(s) == Some(&b) => s + 1,
                (s, b':') if s == key => key + 1,
                (s, b'[') if s == key + 1 => key + 2,
                (s, b'{') if s == key + 2 => {
                    self.found = true;
                    s
                }
                (s, _) if s >= key && ws => s,
                (_, b'"') => 1,
                _ => 0,
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ChoicesMatcher;

    fn found(raw: &str) -> bool {
        let mut m = ChoicesMatcher::default();
        m.feed(raw.as_bytes());
        m.found
    }

    #[test]
    fn only_a_non_empty_choices_array_is_proof() {
        assert!(found(r#"data: {"id":"x","choices":[{"index":0}]}"#));
        assert!(found("data: {\"choices\" :\t[ \n{"));
        assert!(found(r#"{""choices":[{"#));
        assert!(!found(r#"data: {"id":"x","choices":[],"usage":{}}"#));
        assert!(!found(r#"data: {"text":"\"choices\":[{"}"#));
        assert!(!found(r#"data: {"choices":[1,{"#));
    }
}
