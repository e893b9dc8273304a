//! Reading OTLP attributes: one span's (or resource's) key-value list as a look-up by name, and
//! each value read as the type a convention gives it.
//!
//! Invariant: only the first [`MAX_ATTRIBUTES`] attributes of a list are read, the first value of
//! a repeated key wins, and a value is never converted in a way that loses information (a token
//! count is a non-negative integer, given as an integer, an integral double or decimal digits).

use std::collections::HashMap;

use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::common::v1::KeyValue;

/// Attributes read per span or resource; the SDKs' own default limit is 128.
pub const MAX_ATTRIBUTES: usize = 1_024;

/// The largest token count accepted in one span: far above any real call, far below overflow in
/// pricing.
pub const MAX_TOKENS: u64 = 1_000_000_000_000;

/// The longest text value used (model, ids, attribution), in bytes.
pub const MAX_TEXT: usize = 256;

/// A key-value list, looked up by name.
pub struct Attributes<'a> {
    by_key: HashMap<&'a str, &'a Value>,
}

/// Why a value could not be used: the attribute's name and what was wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadValue {
    pub key: &'static str,
    pub problem: &'static str,
}

impl<'a> Attributes<'a> {
    pub fn new(list: &'a [KeyValue]) -> Self {
        let mut by_key = HashMap::with_capacity(list.len().min(MAX_ATTRIBUTES));
        for kv in list.iter().take(MAX_ATTRIBUTES) {
            if let Some(value) = kv.value.as_ref().and_then(|v| v.value.as_ref()) {
                by_key.entry(kv.key.as_str()).or_insert(value);
            }
        }
        Self { by_key }
    }

    /// The first of `keys` present as a non-empty string, trimmed, if it is printable text of at
    /// most [`MAX_TEXT`] bytes; otherwise an error naming the key.
    pub fn text(&self, keys: &[&'static str]) -> Result<Option<String>, BadValue> {
        for &key in keys {
            let Some(value) = self.by_key.get(key) else {
                continue;
            };
            let Value::StringValue(text) = value else {
                return Err(BadValue {
                    key,
                    problem: "is not a string",
                });
            };
            let text = text.trim();
            if text.is_empty() {
                continue;
            }
            if text.len() > MAX_TEXT || text.chars().any(char::is_control) {
                return Err(BadValue {
                    key,
                    problem: "is not printable text of at most 256 bytes",
                });
            }
            return Ok(Some(text.to_owned()));
        }
        Ok(None)
    }

    /// The first of `keys` present, as a token count.
    pub fn count(&self, keys: &[&'static str]) -> Result<Option<u64>, BadValue> {
        for &key in keys {
            if let Some(value) = self.by_key.get(key) {
                return count_of(value).map(Some).ok_or(BadValue {
                    key,
                    problem: "is not a whole number of tokens between 0 and 10^12",
                });
            }
        }
        Ok(None)
    }
}

/// A token count: an integer, an integral double or a string of decimal digits, in
/// `0..=MAX_TOKENS`.
fn count_of(value: &Value) -> Option<u64> {
    let n = match value {
        Value::IntValue(n) => u64::try_from(*n).ok()?,
        Value::DoubleValue(d) => {
            // Exactly integral and in range: the cast is then exact.
            if !(d.fract() == 0.0 && (0.0..=MAX_TOKENS as f64).contains(d)) {
                return None;
            }
            *d as u64
        }
        Value::StringValue(s) => {
            let s = s.trim();
            if s.is_empty() || s.len() > 13 || !s.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            s.parse().ok()?
        }
        _ => return None,
    };
    (n <= MAX_TOKENS).then_some(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::common::v1::AnyValue;

    fn kv(key: &str, value: Value) -> KeyValue {
        KeyValue {
            key: key.into(),
            value: Some(AnyValue { value: Some(value) }),
            ..Default::default()
        }
    }

    #[test]
    fn counts_are_read_from_each_numeric_form_and_refused_when_lossy() {
        let list = vec![
            kv("a", Value::IntValue(12)),
            kv("b", Value::DoubleValue(7.0)),
            kv("c", Value::StringValue("42".into())),
            kv("d", Value::IntValue(-1)),
            kv("e", Value::DoubleValue(1.5)),
            kv("f", Value::StringValue("1e3".into())),
            kv("g", Value::IntValue(i64::MAX)),
            kv("h", Value::BoolValue(true)),
        ];
        let attrs = Attributes::new(&list);
        assert_eq!(attrs.count(&["a"]), Ok(Some(12)));
        assert_eq!(attrs.count(&["b"]), Ok(Some(7)));
        assert_eq!(attrs.count(&["c"]), Ok(Some(42)));
        assert_eq!(attrs.count(&["missing", "a"]), Ok(Some(12)));
        assert_eq!(attrs.count(&["missing"]), Ok(None));
        for bad in ["d", "e", "f", "g", "h"] {
            let key: &'static str = Box::leak(bad.to_owned().into_boxed_str());
            assert_eq!(attrs.count(&[key]).unwrap_err().key, bad, "{bad}");
        }
    }

    #[test]
    fn text_is_trimmed_bounded_and_the_first_repeated_key_wins() {
        let list = vec![
            kv("m", Value::StringValue("  gpt-4o ".into())),
            kv("m", Value::StringValue("other".into())),
            kv("empty", Value::StringValue(" ".into())),
            kv("long", Value::StringValue("x".repeat(MAX_TEXT + 1))),
            kv("ctl", Value::StringValue("a\u{7}b".into())),
            kv("num", Value::IntValue(3)),
        ];
        let attrs = Attributes::new(&list);
        assert_eq!(attrs.text(&["m"]), Ok(Some("gpt-4o".into())));
        assert_eq!(attrs.text(&["empty", "m"]), Ok(Some("gpt-4o".into())));
        assert!(attrs.text(&["long"]).is_err());
        assert!(attrs.text(&["ctl"]).is_err());
        assert_eq!(attrs.text(&["num"]).unwrap_err().problem, "is not a string");
    }
}
