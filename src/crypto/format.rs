//! The self-describing ciphertext format, shared by sealed fields and wrapped data keys:
//!
//! `format version (1 byte) | key version (u32, big-endian) | nonce (12 bytes) | ciphertext | tag (16 bytes)`
//!
//! The key version names the tenant data key that sealed a field (or, for a wrapped data key, its
//! own version). The header is authenticated too: it is part of the associated data.
//!
//! Invariant: parsing never panics; unknown versions and truncated input are errors.

use crate::error::{Error, Result};

/// The only format written today.
pub const FORMAT_V1: u8 = 1;
pub const HEADER_LEN: usize = 1 + 4;
pub const NONCE_LEN: usize = 12;
pub const TAG_LEN: usize = 16;
/// Bytes a ciphertext has beyond its plaintext.
pub const OVERHEAD: usize = HEADER_LEN + NONCE_LEN + TAG_LEN;

/// The cleartext header of a ciphertext.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub key_version: u32,
}

impl Header {
    pub fn to_bytes(self) -> [u8; HEADER_LEN] {
        let mut bytes = [FORMAT_V1, 0, 0, 0, 0];
        bytes[1..].copy_from_slice(&self.key_version.to_be_bytes());
        bytes
    }
}

/// A ciphertext split into its parts, borrowing the input.
#[derive(Debug)]
pub struct Parsed<'a> {
    pub header: Header,
    pub header_bytes: &'a [u8],
    pub nonce: &'a [u8],
    /// Ciphertext followed by the tag.
    pub sealed: &'a [u8],
}

pub fn parse(bytes: &[u8]) -> Result<Parsed<'_>> {
    if bytes.len() < OVERHEAD {
        return Err(Error::Crypto("ciphertext is truncated".to_owned()));
    }
    let (header_bytes, rest) = bytes.split_at(HEADER_LEN);
    if header_bytes[0] != FORMAT_V1 {
        return Err(Error::Crypto(format!(
            "unknown ciphertext format version {}",
            header_bytes[0]
        )));
    }
    let mut version = [0u8; 4];
    version.copy_from_slice(&header_bytes[1..]);
    let (nonce, sealed) = rest.split_at(NONCE_LEN);
    Ok(Parsed {
        header: Header {
            key_version: u32::from_be_bytes(version),
        },
        header_bytes,
        nonce,
        sealed,
    })
}

/// The key version named by a ciphertext's header, read without decrypting.
pub fn key_version(bytes: &[u8]) -> Result<u32> {
    parse(bytes).map(|p| p.header.key_version)
}

/// Associated data: a domain label, then each part length-prefixed so that no two different
/// lists of parts encode the same bytes (`("ab", "c")` differs from `("a", "bc")`).
pub fn associated_data(domain: &str, parts: &[&[u8]]) -> Vec<u8> {
    let mut aad =
        Vec::with_capacity(domain.len() + parts.iter().map(|p| p.len() + 4).sum::<usize>());
    aad.extend_from_slice(domain.as_bytes());
    for part in parts {
        let len = u32::try_from(part.len()).unwrap_or(u32::MAX);
        aad.extend_from_slice(&len.to_be_bytes());
        aad.extend_from_slice(part);
    }
    aad
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_header_round_trips_and_the_rest_is_split_at_fixed_offsets() {
        let mut bytes = Header { key_version: 258 }.to_bytes().to_vec();
        assert_eq!(bytes, [1, 0, 0, 1, 2]);
        bytes.extend_from_slice(&[9; NONCE_LEN]);
        bytes.extend_from_slice(&[7; TAG_LEN + 3]);
        let parsed = parse(&bytes).unwrap();
        assert_eq!(parsed.header.key_version, 258);
        assert_eq!(parsed.nonce, &[9; NONCE_LEN]);
        assert_eq!(parsed.sealed.len(), TAG_LEN + 3);
    }

    #[test]
    fn truncated_or_unknown_input_is_an_error_not_a_panic() {
        for len in 0..OVERHEAD {
            assert!(parse(&vec![FORMAT_V1; len]).is_err(), "{len} bytes");
        }
        let mut bytes = vec![0u8; OVERHEAD];
        bytes[0] = 2;
        let error = parse(&bytes).unwrap_err().to_string();
        assert!(error.contains("format version 2"), "{error}");
    }

    #[test]
    fn associated_data_is_unambiguous() {
        assert_ne!(
            associated_data("d", &[b"ab", b"c"]),
            associated_data("d", &[b"a", b"bc"])
        );
        assert_ne!(
            associated_data("d1", &[b"x"]),
            associated_data("d2", &[b"x"])
        );
    }
}
