//! HTTPS with rustls: TLS 1.2 and 1.3 only (rustls implements nothing older), HTTP/2 and 1.1.
//! Certificates and key are read from PEM files with `rustls-pki-types`' own parser.

use std::sync::Arc;

use rustls::pki_types::pem::{self, PemObject};
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
    let fail = |e| {
        let what = describe(e, "certificate");
        Error::Config(format!(
            "AUDITPULSE_TLS_CERT {}: {what}",
            files.cert.display()
        ))
    };
    let certs: Vec<_> = CertificateDer::pem_file_iter(&files.cert)
        .and_then(|certs| certs.collect::<std::result::Result<_, _>>())
        .map_err(fail)?;
    if certs.is_empty() {
        return Err(fail(pem::Error::NoItemsFound));
    }
    Ok(certs)
}

fn read_key(files: &TlsFiles) -> Result<PrivateKeyDer<'static>> {
    PrivateKeyDer::from_pem_file(&files.key).map_err(|e| {
        let what = describe(e, "private key");
        Error::Config(format!(
            "AUDITPULSE_TLS_KEY {}: {what}",
            files.key.display()
        ))
    })
}

/// What went wrong reading a PEM file; never the file's contents.
fn describe(error: pem::Error, item: &str) -> String {
    match error {
        pem::Error::NoItemsFound => format!("no PEM {item} found"),
        pem::Error::Io(e) => e.to_string(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(dir: &std::path::Path, cert: &str, key: &str) -> TlsFiles {
        let (cert_path, key_path) = (dir.join("cert.pem"), dir.join("key.pem"));
        std::fs::write(&cert_path, cert).unwrap();
        std::fs::write(&key_path, key).unwrap();
        TlsFiles {
            cert: cert_path,
            key: key_path,
        }
    }

    fn message(result: Result<impl Sized>) -> String {
        match result {
            Err(Error::Config(message)) => message,
            Err(other) => panic!("not a configuration error: {other:?}"),
            Ok(_) => panic!("accepted"),
        }
    }

    #[test]
    fn pem_files_without_the_item_or_missing_are_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let generated = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
        let (cert, key) = (generated.cert.pem(), generated.key_pair.serialize_pem());
        let ok = files(dir.path(), &cert, &key);
        assert_eq!(read_certs(&ok).unwrap().len(), 1);
        assert!(read_key(&ok).is_ok());
        assert!(acceptor(&ok).is_ok());
        let swapped = files(dir.path(), &key, &cert);
        let no_cert = message(read_certs(&swapped));
        assert!(
            no_cert.ends_with("cert.pem: no PEM certificate found"),
            "{no_cert}"
        );
        let no_key = message(read_key(&swapped));
        assert!(
            no_key.ends_with("key.pem: no PEM private key found"),
            "{no_key}"
        );
        assert!(
            !no_key.contains("BEGIN"),
            "never the file's contents: {no_key}"
        );
        let missing = TlsFiles {
            cert: dir.path().join("absent.pem"),
            key: dir.path().join("absent.pem"),
        };
        assert!(message(read_certs(&missing)).starts_with("AUDITPULSE_TLS_CERT "));
        assert!(message(read_key(&missing)).starts_with("AUDITPULSE_TLS_KEY "));
    }
}
