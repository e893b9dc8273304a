//! Secret values: anything that must never reach a log line, an error body or a `Debug` print.
//!
//! Invariant: `Debug` and `Display` of a [`Secret`] print `[REDACTED]`, whatever it holds, and the
//! value is zeroized when dropped. Reading it takes an explicit [`Secret::expose`].

use std::fmt;

use zeroize::{Zeroize, Zeroizing};

/// What every redacted value prints as.
pub const REDACTED: &str = "[REDACTED]";

/// A value that is never printed and is wiped from memory when dropped.
#[derive(Clone, Default)]
pub struct Secret<T: Zeroize>(Zeroizing<T>);

impl<T: Zeroize> Secret<T> {
    pub fn new(value: T) -> Self {
        Self(Zeroizing::new(value))
    }

    /// The secret value itself. Call sites are where secrets flow; keep them few and obvious.
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T: Zeroize> From<T> for Secret<T> {
    fn from(value: T) -> Self {
        Self::new(value)
    }
}

impl<T: Zeroize> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl<T: Zeroize> fmt::Display for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

/// Secrets arrive in request bodies (passwords, codes); they are never serialized back out.
impl<'de, T: Zeroize + serde::Deserialize<'de>> serde::Deserialize<'de> for Secret<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        T::deserialize(deserializer).map(Self::new)
    }
}

/// A secret string, the common case (passwords, tokens, URLs with credentials).
pub type SecretString = Secret<String>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_never_show_the_value() {
        let secret = SecretString::new("hunter2-very-secret".to_owned());
        assert_eq!(format!("{secret:?}"), REDACTED);
        assert_eq!(format!("{secret}"), REDACTED);
        assert_eq!(
            format!("{:#?}", Some(&secret)),
            format!("Some(\n    {REDACTED},\n)")
        );
        assert_eq!(secret.expose(), "hunter2-very-secret");
    }

    #[test]
    fn secrets_inside_derived_debug_structs_stay_redacted() {
        #[derive(Debug)]
        #[allow(dead_code)]
        struct Holder {
            name: &'static str,
            key: Secret<Vec<u8>>,
        }
        let holder = Holder {
            name: "k1",
            key: Secret::new(b"raw-key-bytes".to_vec()),
        };
        let printed = format!("{holder:?}");
        assert!(printed.contains("k1"));
        assert!(!printed.contains("raw"), "{printed}");
        assert!(!printed.contains("114"), "bytes leaked: {printed}");
    }
}
