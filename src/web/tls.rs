//! HTTPS with rustls: TLS 1.2 and 1.3 only (rustls implements nothing older), HTTP/2 and 1.1.

use std::io::BufReader;
use std::sync::Arc;

use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

use crate::config::TlsFiles;
use crate::error::{Error, Result};

pub fn acceptor(files: &TlsFiles) -> Result<TlsAcceptor> {
    let certs = read_certs(files)?;
    let key = read_key(files)?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| Error::Config(format!("TLS: {e}")))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| Error::Config(format!("TLS certificate and key do not work together: {e}")))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

fn read_certs(files: &TlsFiles) -> Result<Vec<CertificateDer<'static>>> {
    let file = std::fs::File::open(&files.cert)
        .map_err(|e| Error::Config(format!("AUDITPULSE_TLS_CERT {}: {e}", files.cert.display())))?;
    let certs: Vec<_> = rustls_pemfile::certs(&mut BufReader::new(file))
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| Error::Config(format!("AUDITPULSE_TLS_CERT {}: {e}", files.cert.display())))?;
    if certs.is_empty() {
        return Err(Error::Config(format!(
            "AUDITPULSE_TLS_CERT {}: no PEM certificate found",
            files.cert.display()
        )));
    }
    Ok(certs)
}

fn read_key(files: &TlsFiles) -> Result<PrivateKeyDer<'static>> {
    let file = std::fs::File::open(&files.key)
        .map_err(|e| Error::Config(format!("AUDITPULSE_TLS_KEY {}: {e}", files.key.display())))?;
    rustls_pemfile::private_key(&mut BufReader::new(file))
        .map_err(|e| Error::Config(format!("AUDITPULSE_TLS_KEY {}: {e}", files.key.display())))?
        .ok_or_else(|| {
            Error::Config(format!(
                "AUDITPULSE_TLS_KEY {}: no PEM private key found",
                files.key.display()
            ))
        })
}
