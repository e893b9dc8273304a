//! The normalised counterparty: the name that groups one vendor's payments whatever the bank
//! appended to it.
//!
//! Invariant: pure and stable: lower case, one space between words, punctuation other than `&`
//! and `'` turned into spaces, and trailing tokens that carry digits (reference, store and card
//! numbers: `1234`, `#00123`, `*AB12CD`) dropped, so "AMAZON MKTPLACE PMTS 1234" and
//! "Amazon Mktplace Pmts" are the same vendor. A name that is nothing but such tokens is kept
//! whole rather than emptied.

/// The normalised form, or `None` when nothing readable is left.
pub fn normalize(given: &str) -> Option<String> {
    let cleaned: String = given
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '&' || c == '\'' {
                c.to_lowercase().next().unwrap_or(c)
            } else {
                ' '
            }
        })
        .collect();
    let words: Vec<&str> = cleaned.split_whitespace().collect();
    if words.is_empty() {
        return None;
    }
    let keep = words
        .iter()
        .rposition(|w| !w.chars().any(|c| c.is_ascii_digit()))
        .map_or(words.len(), |last| last + 1);
    let name = words[..keep].join(" ");
    // Bound what is stored in the clear and indexed.
    Some(name.chars().take(200).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bank_suffixes_do_not_split_a_vendor() {
        let a = normalize("AMAZON MKTPLACE PMTS 1234");
        assert_eq!(a.as_deref(), Some("amazon mktplace pmts"));
        assert_eq!(normalize("Amazon  Mktplace Pmts"), a);
        assert_eq!(normalize("AMAZON MKTPLACE PMTS #00123 *AB12CD"), a);
        assert_eq!(normalize("amazon.mktplace-pmts"), a);
    }

    #[test]
    fn names_keep_their_words_and_digits_inside() {
        assert_eq!(
            normalize("7-ELEVEN STORE").as_deref(),
            Some("7 eleven store")
        );
        assert_eq!(normalize("AT&T Wireless").as_deref(), Some("at&t wireless"));
        assert_eq!(normalize("Café Müller").as_deref(), Some("café müller"));
        assert_eq!(normalize("12345").as_deref(), Some("12345"));
        assert_eq!(normalize("  *** "), None);
    }
}
