//! An OTLP/HTTP request body, decoded: protobuf or JSON (by `Content-Type`), optionally gzip
//! (by `Content-Encoding`), into the OpenTelemetry project's generated types; and the answers in
//! the same encoding (the export response, or a `google.rpc.Status` for an error).
//!
//! Invariant: memory is bounded by the limits, not by what the body claims: the body as sent is
//! limited while it is read ([`MAX_BODY`]), the inflated one while it is
//! inflated ([`MAX_DECODED`]), nesting by the decoders' recursion limits (prost's 100,
//! serde_json's 128), and a length prefix beyond the body fails instead of allocating.

use std::io::Read;

use bytes::Bytes;
use http::{header, HeaderMap, StatusCode};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use prost::Message;

/// The largest body accepted as sent (before inflating); larger ones are refused with 413.
pub const MAX_BODY: usize = 8 * 1024 * 1024;

/// The largest body accepted once inflated.
pub const MAX_DECODED: usize = 32 * 1024 * 1024;

/// The two encodings OTLP/HTTP defines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Protobuf,
    Json,
}

/// A request OTLP/HTTP refuses, with the status it answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub status: StatusCode,
    pub message: String,
}

impl Refusal {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }
}

/// `google.rpc.Status`, the body of every OTLP/HTTP error answer.
#[derive(Clone, PartialEq, Message, serde::Serialize)]
pub struct Status {
    #[prost(int32, tag = "1")]
    pub code: i32,
    #[prost(string, tag = "2")]
    pub message: String,
}

/// The encoding `Content-Type` names (parameters such as `charset` ignored).
pub fn encoding(headers: &HeaderMap) -> Result<Encoding, Refusal> {
    let value = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let media = value.split(';').next().unwrap_or("").trim();
    if media.eq_ignore_ascii_case("application/x-protobuf") {
        Ok(Encoding::Protobuf)
    } else if media.eq_ignore_ascii_case("application/json") {
        Ok(Encoding::Json)
    } else {
        Err(Refusal::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Content-Type must be application/x-protobuf or application/json",
        ))
    }
}

/// The request, decoded.
pub fn decode(
    headers: &HeaderMap,
    encoding: Encoding,
    body: &Bytes,
) -> Result<ExportTraceServiceRequest, Refusal> {
    let gzip = matches!(content_encoding(headers)?, ContentEncoding::Gzip);
    decode_bytes(encoding, gzip, body)
}

/// A body of `encoding`, gzip-compressed or not, decoded.
pub fn decode_bytes(
    encoding: Encoding,
    gzip: bool,
    body: &[u8],
) -> Result<ExportTraceServiceRequest, Refusal> {
    let inflated;
    let bytes: &[u8] = if gzip {
        inflated = gunzip(body)?;
        &inflated
    } else {
        body
    };
    match encoding {
        Encoding::Protobuf => ExportTraceServiceRequest::decode(bytes).map_err(|e| {
            Refusal::new(
                StatusCode::BAD_REQUEST,
                format!("the body is not an OTLP protobuf ExportTraceServiceRequest: {e}"),
            )
        }),
        Encoding::Json => json(bytes),
    }
}

enum ContentEncoding {
    Identity,
    Gzip,
}

fn content_encoding(headers: &HeaderMap) -> Result<ContentEncoding, Refusal> {
    let Some(value) = headers.get(header::CONTENT_ENCODING) else {
        return Ok(ContentEncoding::Identity);
    };
    match value.to_str().map(str::trim) {
        Ok(v) if v.eq_ignore_ascii_case("gzip") => Ok(ContentEncoding::Gzip),
        Ok(v) if v.eq_ignore_ascii_case("identity") || v.is_empty() => {
            Ok(ContentEncoding::Identity)
        }
        _ => Err(Refusal::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Content-Encoding must be gzip or absent",
        )),
    }
}

/// Inflates `body`, refusing more than [`MAX_DECODED`] bytes out (a gzip bomb stops there).
fn gunzip(body: &[u8]) -> Result<Vec<u8>, Refusal> {
    let mut out = Vec::with_capacity(body.len().saturating_mul(4).min(MAX_DECODED));
    let limit = u64::try_from(MAX_DECODED).unwrap_or(u64::MAX) + 1;
    flate2::read::GzDecoder::new(body)
        .take(limit)
        .read_to_end(&mut out)
        .map_err(|e| {
            Refusal::new(
                StatusCode::BAD_REQUEST,
                format!("the gzip body is corrupt: {e}"),
            )
        })?;
    if out.len() > MAX_DECODED {
        return Err(Refusal::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the body inflates to more than {} MiB", MAX_DECODED >> 20),
        ));
    }
    Ok(out)
}

/// The OTLP/JSON mapping. Unknown fields are ignored as the specification asks, but a body that
/// yields no spans while fields were ignored (snake_case keys, say) is refused rather than
/// answered with a success that drops everything.
fn json(bytes: &[u8]) -> Result<ExportTraceServiceRequest, Refusal> {
    let mut ignored: Option<String> = None;
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let request: ExportTraceServiceRequest = serde_ignored::deserialize(&mut de, |path| {
        ignored.get_or_insert_with(|| path.to_string());
    })
    .and_then(|r| de.end().map(|()| r))
    .map_err(|e| {
        Refusal::new(
            StatusCode::BAD_REQUEST,
            format!("the body is not an OTLP/JSON ExportTraceServiceRequest: {e}"),
        )
    })?;
    if let Some(path) = ignored.filter(|_| span_count(&request) == 0) {
        return Err(Refusal::new(
            StatusCode::BAD_REQUEST,
            format!(
                "no spans decoded and the field {path} is not part of OTLP/JSON \
                 (its keys are lowerCamelCase: resourceSpans, scopeSpans, spans)"
            ),
        ));
    }
    Ok(request)
}

/// Spans in a request.
pub fn span_count(request: &ExportTraceServiceRequest) -> usize {
    request
        .resource_spans
        .iter()
        .flat_map(|r| &r.scope_spans)
        .map(|s| s.spans.len())
        .sum()
}

/// The success answer: empty when every span was used or ignored, `partial_success` otherwise.
/// In JSON, int64 is a decimal string, as the OTLP/JSON mapping writes it.
pub fn success(encoding: Encoding, rejected: i64, message: Option<String>) -> (String, Vec<u8>) {
    let partial = (rejected > 0).then(|| ExportTracePartialSuccess {
        rejected_spans: rejected,
        error_message: message.unwrap_or_default(),
    });
    match encoding {
        Encoding::Protobuf => {
            let response = ExportTraceServiceResponse {
                partial_success: partial,
            };
            (PROTOBUF.into(), response.encode_to_vec())
        }
        Encoding::Json => {
            let body = match partial {
                Some(p) => serde_json::json!({"partialSuccess": {
                    "rejectedSpans": p.rejected_spans.to_string(),
                    "errorMessage": p.error_message,
                }}),
                None => serde_json::json!({}),
            };
            (JSON.into(), body.to_string().into_bytes())
        }
    }
}

/// An error answer's body: a `Status` with the gRPC code matching the HTTP status.
pub fn status(encoding: Encoding, refusal: &Refusal) -> (String, Vec<u8>) {
    let code = match refusal.status {
        StatusCode::BAD_REQUEST => 3,          // INVALID_ARGUMENT
        StatusCode::UNAUTHORIZED => 16,        // UNAUTHENTICATED
        StatusCode::FORBIDDEN => 7,            // PERMISSION_DENIED
        StatusCode::PAYLOAD_TOO_LARGE => 8,    // RESOURCE_EXHAUSTED
        StatusCode::TOO_MANY_REQUESTS => 8,    // RESOURCE_EXHAUSTED
        StatusCode::SERVICE_UNAVAILABLE => 14, // UNAVAILABLE
        StatusCode::UNSUPPORTED_MEDIA_TYPE => 3,
        _ => 13, // INTERNAL
    };
    let status = Status {
        code,
        message: refusal.message.clone(),
    };
    match encoding {
        Encoding::Protobuf => (PROTOBUF.into(), status.encode_to_vec()),
        Encoding::Json => (
            JSON.into(),
            serde_json::to_vec(&status).unwrap_or_else(|_| b"{}".to_vec()),
        ),
    }
}

const PROTOBUF: &str = "application/x-protobuf";
const JSON: &str = "application/json";

#[cfg(test)]
#[path = "body_tests.rs"]
mod tests;
