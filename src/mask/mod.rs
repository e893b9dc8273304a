//! Masking of sensitive values for display and logs, and the scrubber that the logging layer
//! runs over every line as a safety net.
//!
//! Invariant: a masked value keeps only what identifies it to its owner (last four digits, a
//! public key prefix, the first letter and domain of an e-mail), never enough to use it.

mod scrub;

pub use scrub::{scrub, ScrubbingWriter};

/// The character that stands for hidden characters.
pub const DOT: char = '•';
const HIDDEN: &str = "••••";

/// `••••1234`: the last four digits of an account or card number (fewer digits: none shown).
pub fn account_number(value: &str) -> String {
    let digits: Vec<char> = value.chars().filter(char::is_ascii_digit).collect();
    if digits.len() <= 4 {
        return HIDDEN.to_owned();
    }
    let last: String = digits[digits.len() - 4..].iter().collect();
    format!("{HIDDEN}{last}")
}

/// API keys and tokens show only their public prefix: `ap_<public id>_••••`, `sk-ant-••••`,
/// `sk-proj-••••`, `sk-••••`; a token without a known public part shows nothing.
pub fn api_key(value: &str) -> String {
    if let Some(rest) = value.strip_prefix("ap_") {
        if let Some((public, _secret)) = rest.split_once('_') {
            if !public.is_empty() && public.chars().all(|c| c.is_ascii_alphanumeric()) {
                return format!("ap_{public}_{HIDDEN}");
            }
        }
    }
    for prefix in ["sk-ant-", "sk-proj-", "sk-"] {
        if value.starts_with(prefix) {
            return format!("{prefix}{HIDDEN}");
        }
    }
    HIDDEN.to_owned()
}

/// `j•••@example.com`: the first character of the local part and the domain.
pub fn email(value: &str) -> String {
    match value.split_once('@') {
        Some((local, domain)) if !local.is_empty() && !domain.is_empty() => {
            let first: String = local.chars().take(1).collect();
            format!("{first}•••@{domain}")
        }
        _ => HIDDEN.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_and_card_numbers_keep_the_last_four_digits() {
        assert_eq!(account_number("DE89 3704 0044 0532 0130 00"), "••••3000");
        assert_eq!(account_number("4111-1111-1111-1234"), "••••1234");
        assert_eq!(account_number("1234"), "••••");
    }

    #[test]
    fn keys_keep_only_their_public_prefix() {
        assert_eq!(api_key("ap_7Kq2mX_s3cr3tS3cr3tS3cr3t"), "ap_7Kq2mX_••••");
        assert_eq!(api_key("sk-ant-api03-abcdefghijklmnop"), "sk-ant-••••");
        assert_eq!(api_key("sk-proj-abcdefghijklmnop"), "sk-proj-••••");
        assert_eq!(api_key("sk-abcdefghijklmnop"), "sk-••••");
        assert_eq!(api_key("access-sandbox-1234-abcd"), "••••");
        assert_eq!(api_key("ap__secret"), "••••");
    }

    #[test]
    fn emails_keep_the_first_letter_and_domain() {
        assert_eq!(email("jane.doe@example.com"), "j•••@example.com");
        assert_eq!(email("ébène@example.fr"), "é•••@example.fr");
        assert_eq!(email("not-an-email"), "••••");
    }
}
