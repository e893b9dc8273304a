//! Typed JSON request bodies.
//!
//! Invariant: a handler taking `ValidJson<T>` only runs with a body that is `application/json`,
//! within the size limit, well-formed, free of unknown fields and valid per `T::validate`. Every
//! unknown or invalid field is named in the 422; messages never echo the submitted values.

use axum::extract::{FromRequest, Request};
use axum::http::header;
use serde::de::DeserializeOwned;

use super::limits::BodyLimit;
use crate::error::{Error, FieldError};

/// Checks beyond what the type expresses. Report every problem, not just the first.
pub trait Validate {
    fn validate(&self) -> Vec<FieldError> {
        Vec::new()
    }
}

pub struct ValidJson<T>(pub T);

impl<T: DeserializeOwned + Validate, S: Send + Sync> FromRequest<S> for ValidJson<T> {
    type Rejection = Error;

    async fn from_request(request: Request, _state: &S) -> Result<Self, Error> {
        let is_json = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|mime| {
                let mime = mime.trim().to_ascii_lowercase();
                mime == "application/json"
                    || mime.starts_with("application/") && mime.ends_with("+json")
            });
        if !is_json {
            return Err(Error::UnsupportedMediaType);
        }
        // The size limit itself is enforced by the body-limit layer wrapped around every route.
        let limit = request
            .extensions()
            .get::<BodyLimit>()
            .map_or(usize::MAX, |l| l.0);
        let bytes = axum::body::to_bytes(request.into_body(), usize::MAX)
            .await
            .map_err(|e| body_error(e, limit))?;
        parse(&bytes).map(ValidJson)
    }
}

fn body_error(error: axum::Error, limit: usize) -> Error {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&error);
    while let Some(e) = source {
        if e.is::<http_body_util::LengthLimitError>() {
            return Error::PayloadTooLarge { limit };
        }
        if e.is::<tower::timeout::error::Elapsed>() {
            return Error::Timeout;
        }
        source = e.source();
    }
    Error::BadRequest("the request body could not be read".to_owned())
}

pub fn parse<T: DeserializeOwned + Validate>(bytes: &[u8]) -> Result<T, Error> {
    let mut unknown = Vec::new();
    // serde_ignored writes `?` for an `Option` level; users think of the field path only.
    let mut record = |path: serde_ignored::Path<'_>| {
        unknown.push(
            path.to_string()
                .split('.')
                .filter(|s| *s != "?")
                .collect::<Vec<_>>()
                .join("."),
        );
    };
    let mut json = serde_json::Deserializer::from_slice(bytes);
    let tracked = serde_ignored::Deserializer::new(&mut json, &mut record);
    let value: T = match serde_path_to_error::deserialize(tracked) {
        Ok(value) => value,
        Err(error) => return Err(deserialize_error(error)),
    };
    json.end()
        .map_err(|e| Error::MalformedJson(syntax_message(&e)))?;
    let mut fields: Vec<FieldError> = unknown
        .into_iter()
        .map(|f| FieldError::new(f, "unknown field"))
        .collect();
    fields.extend(value.validate());
    if fields.is_empty() {
        Ok(value)
    } else {
        Err(Error::Validation(fields))
    }
}

fn deserialize_error(error: serde_path_to_error::Error<serde_json::Error>) -> Error {
    let path = error.path().to_string();
    let inner = error.into_inner();
    match inner.classify() {
        serde_json::error::Category::Data => {
            let text = inner.to_string();
            let text = text.split(" at line ").next().unwrap_or_default();
            if let Some(field) = text
                .strip_prefix("missing field `")
                .and_then(|r| r.split('`').next())
            {
                let field = if path == "." {
                    field.to_owned()
                } else {
                    format!("{path}.{field}")
                };
                return Error::Validation(vec![FieldError::new(field, "is required")]);
            }
            // serde's messages quote the submitted value; keep only what was expected.
            let message = match text.split_once(", expected ") {
                Some((_, expected)) => format!("expected {expected}"),
                None if text.starts_with("invalid") => "invalid value".to_owned(),
                None => text.to_owned(),
            };
            let field = if path == "." { String::new() } else { path };
            Error::Validation(vec![FieldError::new(field, message)])
        }
        _ => Error::MalformedJson(syntax_message(&inner)),
    }
}

fn syntax_message(error: &serde_json::Error) -> String {
    let what = match error.classify() {
        serde_json::error::Category::Eof => "unexpected end of input",
        _ => "invalid JSON",
    };
    format!("{what} at line {} column {}", error.line(), error.column())
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        count: u32,
        inner: Option<Inner>,
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Inner {
        flag: bool,
    }

    impl Validate for Body {
        fn validate(&self) -> Vec<FieldError> {
            if self.name.is_empty() {
                vec![FieldError::new("name", "must not be empty")]
            } else {
                Vec::new()
            }
        }
    }

    fn fields(result: Result<Body, Error>) -> Vec<(String, String)> {
        match result {
            Err(Error::Validation(f)) => f.into_iter().map(|f| (f.field, f.message)).collect(),
            other => panic!("expected validation failure, got {other:?}"),
        }
    }

    #[test]
    fn every_unknown_field_is_named_and_validation_still_runs() {
        let got = fields(parse(
            br#"{"name":"","count":1,"extra":1,"inner":{"flag":true,"more":2}}"#,
        ));
        assert_eq!(
            got,
            vec![
                ("extra".to_owned(), "unknown field".to_owned()),
                ("inner.more".to_owned(), "unknown field".to_owned()),
                ("name".to_owned(), "must not be empty".to_owned())
            ]
        );
    }

    #[test]
    fn wrong_types_name_the_field_without_echoing_the_value() {
        let got = fields(parse(br#"{"name":"a","count":"hunter2"}"#));
        assert_eq!(got, vec![("count".to_owned(), "expected u32".to_owned())]);
        let got = fields(parse(
            br#"{"name":"a","count":1,"inner":{"flag":"hunter2"}}"#,
        ));
        assert_eq!(
            got,
            vec![("inner.flag".to_owned(), "expected a boolean".to_owned())]
        );
        assert_eq!(
            fields(parse(br#"{"count":1}"#)),
            vec![("name".to_owned(), "is required".to_owned())]
        );
    }

    #[test]
    fn malformed_json_is_not_a_validation_error() {
        for bad in [
            &br#"{"name":"a","#[..],
            b"{name}",
            br#"{"name":"a","count":1} trailing"#,
            b"",
        ] {
            assert!(
                matches!(parse::<Body>(bad), Err(Error::MalformedJson(_))),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
