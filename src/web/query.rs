//! Typed query strings.
//!
//! Invariant: a bad query string is refused like a bad body (`web::json`): a 400 in the one error
//! shape naming each parameter at fault, never echoing a submitted value or serde's wording.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::{Error, FieldError};

/// The query string parsed as `T`. Take it as `Result<ValidQuery<T>, Error>` to check
/// permissions before reporting a bad query.
pub struct ValidQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ValidQuery<T> {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Error> {
        parse(parts.uri.query().unwrap_or_default()).map(ValidQuery)
    }
}

pub fn parse<T: DeserializeOwned>(query: &str) -> Result<T, Error> {
    let pairs = form_urlencoded::parse(query.as_bytes());
    serde_path_to_error::deserialize(serde_urlencoded::Deserializer::new(pairs))
        .map_err(|error| Error::BadQuery(vec![field_error(error)]))
}

fn field_error(error: serde_path_to_error::Error<serde_urlencoded::de::Error>) -> FieldError {
    let path = error.path().to_string();
    let text = error.into_inner().to_string();
    let named = |rest: &str| rest.split('`').next().unwrap_or_default().to_owned();
    if let Some(rest) = text.strip_prefix("unknown field `") {
        return FieldError::new(named(rest), "unknown parameter");
    }
    if let Some(rest) = text.strip_prefix("missing field `") {
        return FieldError::new(named(rest), "is required");
    }
    // serde's messages quote the submitted value; keep only what was expected.
    let message = match text.split_once(", expected ") {
        Some((_, expected)) => format!("expected {expected}"),
        None => "invalid value".to_owned(),
    };
    let field = if path == "." { String::new() } else { path };
    FieldError::new(field, message)
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "snake_case")]
    #[allow(dead_code)]
    struct Params {
        limit: Option<u32>,
        kind: Option<Kind>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "snake_case")]
    enum Kind {
        One,
    }

    fn fields(query: &str) -> Vec<(String, String)> {
        match parse::<Params>(query) {
            Err(Error::BadQuery(f)) => f.into_iter().map(|f| (f.field, f.message)).collect(),
            other => panic!("expected a bad query, got {other:?}"),
        }
    }

    #[test]
    fn bad_parameters_are_named_without_their_values() {
        let pair = |f: &str, m: &str| vec![(f.to_owned(), m.to_owned())];
        assert_eq!(fields("limit=hunter2"), pair("limit", "invalid value"));
        assert_eq!(fields("kind=hunter2"), pair("kind", "expected `one`"));
        assert_eq!(fields("hunter2=1"), pair("hunter2", "unknown parameter"));
        assert!(parse::<Params>("limit=3&kind=one").is_ok());
    }
}
