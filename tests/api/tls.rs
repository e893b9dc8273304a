//! HTTPS with TLS 1.2 and 1.3, and HSTS when served over TLS.

use crate::helpers::{Backend, TestApp};

pub struct Certs {
    _dir: tempfile::TempDir,
    pub cert: String,
    pub key: String,
    pub pem: Vec<u8>,
}

/// A self-signed certificate for `localhost`, in files the server reads.
pub fn self_signed() -> Certs {
    let generated = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cert = dir.path().join("cert.pem");
    let key = dir.path().join("key.pem");
    let pem = generated.cert.pem().into_bytes();
    std::fs::write(&cert, &pem).unwrap();
    std::fs::write(&key, generated.key_pair.serialize_pem()).unwrap();
    Certs {
        cert: cert.display().to_string(),
        key: key.display().to_string(),
        pem,
        _dir: dir,
    }
}

pub async fn tls_app(certs: &Certs) -> TestApp {
    TestApp::spawn_with(
        Backend::Sqlite,
        &[
            ("AUDITPULSE_TLS_CERT", &certs.cert),
            ("AUDITPULSE_TLS_KEY", &certs.key),
        ],
    )
    .await
}

pub fn client(certs: &Certs, version: reqwest::tls::Version) -> reqwest::Client {
    reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&certs.pem).unwrap())
        .min_tls_version(version)
        .max_tls_version(version)
        .build()
        .unwrap()
}

#[tokio::test]
async fn https_serves_tls_1_2_and_1_3_with_hsts() {
    let certs = self_signed();
    let app = tls_app(&certs).await;
    assert!(app.base.starts_with("https://"));
    for version in [
        reqwest::tls::Version::TLS_1_2,
        reqwest::tls::Version::TLS_1_3,
    ] {
        let response = client(&certs, version)
            .get(app.url("/healthz"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{version:?}");
        assert_eq!(
            response.headers()["strict-transport-security"],
            "max-age=31536000; includeSubDomains"
        );
    }
}

#[tokio::test]
async fn plain_http_to_the_tls_port_gets_no_response() {
    let certs = self_signed();
    let app = tls_app(&certs).await;
    let plain = app.base.replace("https://localhost", "http://127.0.0.1");
    let result = reqwest::get(format!("{plain}/healthz")).await;
    assert!(result.is_err(), "plain HTTP must not be served: {result:?}");
    // The TLS listener is still healthy afterwards.
    assert_eq!(
        client(&certs, reqwest::tls::Version::TLS_1_3)
            .get(app.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}
