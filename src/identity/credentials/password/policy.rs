//! The password policy: 12 to 128 characters (Unicode characters, not bytes), not one of the
//! ~30,000 most common passwords (the list shipped inside the `zxcvbn` crate), and not containing
//! the e-mail's local part, and not a trivially weak pattern (one character or a group of up to
//! three repeated, or a straight run such as `abcdefghijkl`). No composition rules. Pure.

use zxcvbn::matching::patterns::MatchPattern;

pub const MIN_CHARS: usize = 12;
pub const MAX_CHARS: usize = 128;

/// Which rule a password breaks; the message is safe to show and never repeats the password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyViolation {
    TooShort,
    TooLong,
    Common,
    ContainsEmail,
    Repetitive,
}

impl PolicyViolation {
    pub fn message(self) -> &'static str {
        match self {
            PolicyViolation::TooShort => "must be at least 12 characters",
            PolicyViolation::TooLong => "must be at most 128 characters",
            PolicyViolation::Common => "is one of the most common passwords; choose another",
            PolicyViolation::ContainsEmail => "must not contain your e-mail address's name",
            PolicyViolation::Repetitive => {
                "must not be one character or a short group repeated, or a run such as abcdef"
            }
        }
    }
}

/// `Ok` when `password` may be used by the account with `email`.
pub fn check_password(password: &str, email: &str) -> Result<(), PolicyViolation> {
    let chars = password.chars().count();
    if chars < MIN_CHARS {
        return Err(PolicyViolation::TooShort);
    }
    if chars > MAX_CHARS {
        return Err(PolicyViolation::TooLong);
    }
    let local = email.split('@').next().unwrap_or_default().to_lowercase();
    if local.chars().count() >= 3 && password.to_lowercase().contains(&local) {
        return Err(PolicyViolation::ContainsEmail);
    }
    if is_repetitive(password) {
        return Err(PolicyViolation::Repetitive);
    }
    if is_common(password) {
        return Err(PolicyViolation::Common);
    }
    Ok(())
}

/// The longest group whose repetition makes a password trivially weak.
const MAX_REPEATED_UNIT: usize = 3;

/// Whether the whole password (ignoring case) is one short group repeated (`aaaa…`, `ababab…`,
/// `abcabc…`) or a run of consecutive characters up or down (`abcdef…`, `zyxw…`).
fn is_repetitive(password: &str) -> bool {
    let chars: Vec<char> = password.to_lowercase().chars().collect();
    let repeated = (1..=MAX_REPEATED_UNIT).any(|unit| {
        chars.len() > unit
            && chars.len().is_multiple_of(unit)
            && chars.chunks(unit).all(|chunk| chunk == &chars[..unit])
    });
    let steps: Vec<i64> = chars
        .windows(2)
        .map(|w| i64::from(u32::from(w[1])) - i64::from(u32::from(w[0])))
        .collect();
    let run = steps
        .first()
        .is_some_and(|first| first.abs() == 1 && steps.iter().all(|step| step == first));
    repeated || run
}

/// Whether the whole password (ignoring case) is an entry of the common-passwords list.
fn is_common(password: &str) -> bool {
    let last = password.chars().count().saturating_sub(1);
    zxcvbn::zxcvbn(password, &[]).sequence().iter().any(|m| {
        m.i == 0
            && m.j == last
            && matches!(&m.pattern, MatchPattern::Dictionary(d)
                // The crate does not export its dictionary enum, only the field; its Debug name
                // is the stable way to tell the passwords list from names and English words.
                if format!("{:?}", d.dictionary_name) == "Passwords" && !d.reversed && !d.l33t)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_counts_characters_not_bytes() {
        assert_eq!(
            check_password("short-pass1", "a@x.io"),
            Err(PolicyViolation::TooShort)
        );
        assert_eq!(
            check_password("ééééééééééé", "a@x.io"),
            Err(PolicyViolation::TooShort),
            "11 chars, 22 bytes"
        );
        // 12 characters, 24 bytes (not one repeated: that is refused as repetitive).
        assert_eq!(check_password("éàüöçñøåæßîô", "a@x.io"), Ok(()));
        assert_eq!(
            check_password(&"x".repeat(129), "a@x.io"),
            Err(PolicyViolation::TooLong)
        );
        assert!(
            check_password(&"kq7!".repeat(32), "a@x.io").is_ok(),
            "exactly 128"
        );
    }

    #[test]
    fn common_passwords_are_refused_whatever_their_case() {
        for common in [
            "123qweasdzxc",
            "1q2w3e4r5t6y",
            "qwerty123456",
            "Qwerty123456",
            "mailcreated5240",
        ] {
            assert_eq!(
                check_password(common, "a@x.io"),
                Err(PolicyViolation::Common),
                "{common}"
            );
        }
        assert_eq!(
            check_password("correct horse battery staple", "a@x.io"),
            Ok(())
        );
    }

    #[test]
    fn the_email_name_may_not_be_part_of_the_password() {
        assert_eq!(
            check_password("Jane.Doe-2026-ok", "jane.doe@example.com"),
            Err(PolicyViolation::ContainsEmail)
        );
        assert_eq!(
            check_password("a perfectly fine one", "jo@example.com"),
            Ok(()),
            "too short a name to matter"
        );
    }

    #[test]
    fn repeated_characters_groups_and_runs_are_refused() {
        for weak in [
            "aaaaaaaaaaaa",
            "ZZZZZZZZZZZZZZZZ",
            "éééééééééééé",
            "abababababab",
            "AbAbabABabab",
            "xyzxyzxyzxyz",
            "121212121212",
            "abcdefghijklmn",
            "ponmlkjihgfedcba",
        ] {
            assert_eq!(
                check_password(weak, "a@x.io"),
                Err(PolicyViolation::Repetitive),
                "{weak}"
            );
        }
        for fine in [
            "abcdabcdabcdx",
            "aaaaaaaaaaab",
            "abcdefghijkm",
            "kq7!kq7!kq7!",
        ] {
            assert_eq!(check_password(fine, "a@x.io"), Ok(()), "{fine}");
        }
    }

    #[test]
    fn messages_never_repeat_the_password() {
        for v in [
            PolicyViolation::TooShort,
            PolicyViolation::TooLong,
            PolicyViolation::Common,
            PolicyViolation::ContainsEmail,
            PolicyViolation::Repetitive,
        ] {
            assert!(!v.message().contains("password1234"));
        }
    }
}
