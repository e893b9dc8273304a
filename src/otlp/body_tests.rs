use std::io::Write;

use http::HeaderValue;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};

use super::*;

fn headers(content_type: &str, gzip: bool) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(content_type).unwrap(),
    );
    if gzip {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    h
}

fn gzip(bytes: &[u8]) -> Bytes {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes).unwrap();
    Bytes::from(enc.finish().unwrap())
}

fn request(spans: usize) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            scope_spans: vec![ScopeSpans {
                spans: (0..spans)
                    .map(|i| Span {
                        trace_id: vec![1; 16],
                        span_id: vec![u8::try_from(i % 250).unwrap() + 1; 8],
                        name: "chat gpt-4o".into(),
                        start_time_unix_nano: 1_796_378_400_000_000_000,
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

fn refused(h: &HeaderMap, encoding: Encoding, body: Bytes) -> Refusal {
    decode(h, encoding, &body).expect_err("refused")
}

#[test]
fn content_type_picks_the_encoding_and_anything_else_is_415() {
    let h = headers("application/x-protobuf", false);
    assert_eq!(super::encoding(&h), Ok(Encoding::Protobuf));
    let h = headers("application/json; charset=utf-8", false);
    assert_eq!(super::encoding(&h), Ok(Encoding::Json));
    let h = headers("text/plain", false);
    assert_eq!(super::encoding(&h).unwrap_err().status, 415);
}

#[test]
fn protobuf_plain_and_gzip_decode_to_the_same_request() {
    let want = request(3);
    let bytes = want.encode_to_vec();
    let plain = decode(
        &headers("application/x-protobuf", false),
        Encoding::Protobuf,
        &Bytes::from(bytes.clone()),
    );
    assert_eq!(plain.unwrap(), want);
    let zipped = decode(
        &headers("application/x-protobuf", true),
        Encoding::Protobuf,
        &gzip(&bytes),
    );
    assert_eq!(zipped.unwrap(), want);
}

#[test]
fn json_takes_hex_ids_and_int64_as_strings() {
    let body = r#"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"bot"}}]},
        "scopeSpans":[{"spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174",
        "name":"chat","startTimeUnixNano":"1796378400000000000","endTimeUnixNano":1796378401000000000,
        "attributes":[{"key":"gen_ai.usage.input_tokens","value":{"intValue":"12"}}]}]}]}]}"#;
    let h = headers("application/json", false);
    let request = decode(&h, Encoding::Json, &Bytes::from(body)).unwrap();
    let span = &request.resource_spans[0].scope_spans[0].spans[0];
    assert_eq!(
        hex::encode(&span.trace_id),
        "5b8efff798038103d269b633813fc60c"
    );
    assert_eq!(hex::encode(&span.span_id), "eee19b7ec3c1b174");
    assert_eq!(span.start_time_unix_nano, 1_796_378_400_000_000_000);
    assert_eq!(span.end_time_unix_nano, 1_796_378_401_000_000_000);
}

#[test]
fn snake_case_json_that_decodes_to_nothing_is_refused_not_dropped() {
    let body = r#"{"resource_spans":[{"scope_spans":[{"spans":[{"name":"x"}]}]}]}"#;
    let r = refused(
        &headers("application/json", false),
        Encoding::Json,
        Bytes::from(body),
    );
    assert_eq!(r.status, 400);
    assert!(r.message.contains("resource_spans"), "{}", r.message);
    // An empty export is valid.
    let empty = decode(
        &headers("application/json", false),
        Encoding::Json,
        &Bytes::from("{}"),
    );
    assert_eq!(span_count(&empty.unwrap()), 0);
}

#[test]
fn undecodable_bodies_are_400() {
    let h = headers("application/x-protobuf", false);
    assert_eq!(
        refused(&h, Encoding::Protobuf, Bytes::from_static(b"\xff\xff\xff")).status,
        400
    );
    let truncated = request(2).encode_to_vec();
    let cut = Bytes::from(truncated[..truncated.len() - 3].to_vec());
    assert_eq!(refused(&h, Encoding::Protobuf, cut).status, 400);
    let h = headers("application/json", false);
    assert_eq!(
        refused(&h, Encoding::Json, Bytes::from("{\"resourceSpans\": [")).status,
        400
    );
    let h = headers("application/json", true);
    assert_eq!(
        refused(&h, Encoding::Json, Bytes::from("not gzip")).status,
        400
    );
}

#[test]
fn a_billion_span_claim_fails_without_allocating_it() {
    // Field 1 (resource_spans), length-delimited, claiming 2^40 bytes that are not there.
    let mut body = vec![0x0a];
    prost::encoding::encode_varint(1 << 40, &mut body);
    body.extend_from_slice(&[0u8; 16]);
    let h = headers("application/x-protobuf", false);
    assert_eq!(
        refused(&h, Encoding::Protobuf, Bytes::from(body)).status,
        400
    );
}

#[test]
fn deep_nesting_is_refused_by_the_recursion_limits() {
    // An attribute value of arrays inside arrays, 10,000 deep.
    let depth = 10_000;
    let mut value = String::new();
    for _ in 0..depth {
        value.push_str(r#"{"arrayValue":{"values":["#);
    }
    for _ in 0..depth {
        value.push_str("]}}");
    }
    let body = format!(
        r#"{{"resourceSpans":[{{"scopeSpans":[{{"spans":[{{"attributes":[{{"key":"k","value":{value}}}]}}]}}]}}]}}"#
    );
    let h = headers("application/json", false);
    assert_eq!(refused(&h, Encoding::Json, Bytes::from(body)).status, 400);
    // The same in protobuf: AnyValue{array_value(5): ArrayValue{values(1): AnyValue{...}}}.
    let mut inner: Vec<u8> = Vec::new();
    for _ in 0..depth {
        let mut array = vec![0x0a];
        prost::encoding::encode_varint(inner.len() as u64, &mut array);
        array.extend_from_slice(&inner);
        let mut any = vec![0x2a];
        prost::encoding::encode_varint(array.len() as u64, &mut any);
        any.extend_from_slice(&array);
        inner = any;
    }
    let h = headers("application/x-protobuf", false);
    let Err(r) = decode(
        &h,
        Encoding::Protobuf,
        &Bytes::from(nest_as_span_attribute(&inner)),
    ) else {
        panic!("deep nesting decoded");
    };
    assert_eq!(r.status, 400);
}

/// Wraps an encoded AnyValue as the value of a span attribute of one span of one request.
fn nest_as_span_attribute(any: &[u8]) -> Vec<u8> {
    fn field(tag: u8, body: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        prost::encoding::encode_varint(body.len() as u64, &mut out);
        out.extend_from_slice(body);
        out
    }
    let mut kv = field(0x0a, b"k"); // KeyValue.key = 1
    kv.extend(field(0x12, any)); // KeyValue.value = 2
    let span = field(0x4a, &kv); // Span.attributes = 9
    let scope = field(0x12, &span); // ScopeSpans.spans = 2
    let resource = field(0x12, &scope); // ResourceSpans.scope_spans = 2
    field(0x0a, &resource) // ExportTraceServiceRequest.resource_spans = 1
}

#[test]
fn a_gzip_bomb_stops_at_the_inflated_limit() {
    let zeros = vec![0u8; MAX_DECODED + 1024];
    let bomb = gzip(&zeros);
    assert!(
        bomb.len() < 1024 * 1024,
        "the bomb is small: {}",
        bomb.len()
    );
    let h = headers("application/x-protobuf", true);
    assert_eq!(refused(&h, Encoding::Protobuf, bomb).status, 413);
}

#[test]
fn answers_use_the_request_encoding() {
    let (ct, body) = success(Encoding::Json, 2, Some("two spans without a model".into()));
    assert_eq!(ct, "application/json");
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(json["partialSuccess"]["rejectedSpans"], "2");
    assert_eq!(
        json["partialSuccess"]["errorMessage"],
        "two spans without a model"
    );
    let (ct, body) = success(Encoding::Protobuf, 0, None);
    assert_eq!(ct, "application/x-protobuf");
    assert_eq!(
        ExportTraceServiceResponse::decode(&body[..])
            .unwrap()
            .partial_success,
        None
    );
    let refusal = Refusal::new(StatusCode::BAD_REQUEST, "bad");
    let (_, body) = status(Encoding::Protobuf, &refusal);
    assert_eq!(
        Status::decode(&body[..]).unwrap(),
        Status {
            code: 3,
            message: "bad".into()
        }
    );
}
