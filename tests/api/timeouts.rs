//! Slow and stalled clients are cut off instead of holding the server.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{Backend, TestApp, SYSADMIN};

async fn connect(app: &TestApp) -> TcpStream {
    TcpStream::connect(app.base.trim_start_matches("http://"))
        .await
        .unwrap()
}

/// Reads until the server closes the connection or `limit` passes.
async fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> (String, Duration) {
    let started = Instant::now();
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(limit, stream.read_to_end(&mut buf)).await;
    (
        String::from_utf8_lossy(&buf).into_owned(),
        started.elapsed(),
    )
}

#[tokio::test]
async fn a_client_that_never_finishes_its_headers_is_disconnected() {
    let app =
        TestApp::spawn_with(Backend::Sqlite, &[("AUDITPULSE_HEADER_TIMEOUT_SECS", "1")]).await;
    let mut stream = connect(&app).await;
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .await
        .unwrap();
    let (_, waited) = read_until_closed(&mut stream, Duration::from_secs(10)).await;
    assert!(
        waited < Duration::from_secs(5),
        "connection held for {waited:?}"
    );
    assert!(
        waited >= Duration::from_millis(900),
        "closed too early: {waited:?}"
    );
}

#[tokio::test]
async fn a_stalled_body_gets_408_json() {
    let app =
        TestApp::spawn_with(Backend::Sqlite, &[("AUDITPULSE_REQUEST_TIMEOUT_SECS", "1")]).await;
    let mut stream = connect(&app).await;
    let head = format!(
        "POST /api/v1/tenants HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {SYSADMIN}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\nConnection: close\r\n\r\n{{\"name\""
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let (response, waited) = read_until_closed(&mut stream, Duration::from_secs(10)).await;
    assert!(response.starts_with("HTTP/1.1 408"), "{response}");
    assert!(
        response.contains("\"code\":\"request_timeout\""),
        "{response}"
    );
    assert!(waited < Duration::from_secs(5), "{waited:?}");
}

#[tokio::test]
async fn a_client_that_sends_nothing_is_disconnected() {
    let app =
        TestApp::spawn_with(Backend::Sqlite, &[("AUDITPULSE_HEADER_TIMEOUT_SECS", "1")]).await;
    let mut stream = connect(&app).await;
    let (response, waited) = read_until_closed(&mut stream, Duration::from_secs(10)).await;
    assert_eq!(response, "", "nothing is answered to nothing");
    assert!(
        waited < Duration::from_secs(5),
        "connection held for {waited:?}"
    );
    assert!(
        waited >= Duration::from_millis(900),
        "closed too early: {waited:?}"
    );
}

#[tokio::test]
async fn connections_over_the_cap_are_closed_at_once_and_the_rest_still_served() {
    let app = TestApp::spawn_with(
        Backend::Sqlite,
        &[
            ("AUDITPULSE_MAX_CONNECTIONS", "2"),
            ("AUDITPULSE_HEADER_TIMEOUT_SECS", "30"),
        ],
    )
    .await;
    let mut held = vec![connect(&app).await, connect(&app).await];
    // Both are accepted and waiting for a request: give the accept loop a moment to count them.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut over = connect(&app).await;
    let (response, waited) = read_until_closed(&mut over, Duration::from_secs(10)).await;
    assert_eq!(response, "");
    assert!(
        waited < Duration::from_secs(2),
        "a connection over the cap must not wait: {waited:?}"
    );
    // The held connections are served normally.
    held[0]
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let (response, _) = read_until_closed(&mut held[0], Duration::from_secs(10)).await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    // Its slot is free again once it has closed.
    drop(held.remove(0));
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(app.get("/healthz").await.status(), 200);
}
