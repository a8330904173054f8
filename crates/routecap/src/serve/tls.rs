//! HTTPS: a certificate chain and its private key (PEM files) as a rustls
//! server configuration (the `ring` provider; TLS 1.2 and 1.3; HTTP/1.1
//! offered by ALPN).

use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::ServerConfig;

/// The server configuration of `--tls-cert CERT --tls-key KEY`; errors
/// name the file and what is wrong with it.
pub fn server_config(cert: &str, key: &str) -> Result<Arc<ServerConfig>, String> {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| format!("--tls-cert {cert}: cannot be read as PEM: {e}"))?
        .collect::<Result<_, _>>()
        .map_err(|e| format!("--tls-cert {cert}: not a PEM certificate chain: {e}"))?;
    if chain.is_empty() {
        return Err(format!(
            "--tls-cert {cert}: holds no certificate (expected -----BEGIN CERTIFICATE-----)"
        ));
    }
    let private = PrivateKeyDer::from_pem_file(key).map_err(|e| {
        format!("--tls-key {key}: no PEM private key (PKCS#8, PKCS#1 or SEC1) in it: {e}")
    })?;
    // ring rather than aws-lc-rs: no C/CMake toolchain to build; its
    // default suites lack only the post-quantum key exchange
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?
        .with_no_client_auth()
        .with_single_cert(chain, private)
        .map_err(|e| format!("--tls-cert {cert} / --tls-key {key}: {e}"))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
