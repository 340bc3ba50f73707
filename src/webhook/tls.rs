//! TLS for the webhook: rustls with the ring provider, TLS 1.3 and 1.2 only,
//! the certificate chain and key read from files, optional client-certificate
//! verification, and reloading by polling the files' contents.
//!
//! A reload swaps the configuration that new handshakes use; connections
//! already established keep theirs, so no request in flight is dropped. A
//! reload that fails (a key that does not match, a half-written file) is
//! logged and the previous configuration stays in use.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;

/// Where the TLS material comes from.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
    /// When set, clients must present a certificate signed by one of these CAs.
    pub client_ca: Option<PathBuf>,
}

/// The files' contents, compared between polls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    cert: Vec<u8>,
    key: Vec<u8>,
    client_ca: Option<Vec<u8>>,
}

fn read(path: &Path, what: &str) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("cannot read the {what} {}: {e}", path.display()))
}

impl TlsFiles {
    /// Reads every file once.
    pub fn snapshot(&self) -> Result<Snapshot, String> {
        Ok(Snapshot {
            cert: read(&self.cert, "certificate")?,
            key: read(&self.key, "private key")?,
            client_ca: match &self.client_ca {
                Some(p) => Some(read(p, "client CA bundle")?),
                None => None,
            },
        })
    }
}

/// The server configuration for one snapshot of the files.
pub fn server_config(files: &TlsFiles, snap: &Snapshot) -> Result<ServerConfig, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&snap.cert)
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{}: not a PEM certificate chain: {e}", files.cert.display()))?;
    if chain.is_empty() {
        return Err(format!(
            "{}: no certificate in the file",
            files.cert.display()
        ));
    }
    let key = PrivateKeyDer::from_pem_slice(&snap.key)
        .map_err(|e| format!("{}: not a PEM private key: {e}", files.key.display()))?;
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| format!("TLS configuration: {e}"))?;
    let builder = match (&snap.client_ca, &files.client_ca) {
        (Some(pem), Some(path)) => {
            let mut roots = rustls::RootCertStore::empty();
            for cert in CertificateDer::pem_slice_iter(pem) {
                let cert =
                    cert.map_err(|e| format!("{}: not a PEM certificate: {e}", path.display()))?;
                roots
                    .add(cert)
                    .map_err(|e| format!("{}: unusable CA certificate: {e}", path.display()))?;
            }
            if roots.is_empty() {
                return Err(format!("{}: no CA certificate in the file", path.display()));
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(|e| format!("client verification with {}: {e}", path.display()))?;
            builder.with_client_cert_verifier(verifier)
        }
        _ => builder.with_no_client_auth(),
    };
    let mut config = builder
        .with_single_cert(chain, key)
        .map_err(|e| format!("the certificate and key do not make a TLS identity: {e}"))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    // No session resumption: the API server keeps a pool of keep-alive
    // connections instead, and a session cache (rustls keeps 256 by default,
    // two TLS 1.3 tickets a connection) holds state from connections that
    // have ended, allocated wherever they were.
    config.session_storage = Arc::new(rustls::server::NoServerSessionStorage {});
    config.send_tls13_tickets = 0;
    Ok(config)
}

/// Loads the configuration once (at start: an error stops the server).
pub fn load(files: &TlsFiles) -> Result<(Arc<ServerConfig>, Snapshot), String> {
    let snap = files.snapshot()?;
    let config = server_config(files, &snap)?;
    Ok((Arc::new(config), snap))
}

/// Polls the files every `interval` and installs a new configuration when
/// their contents change and make a valid identity.
pub async fn watch(
    files: TlsFiles,
    mut last: Snapshot,
    interval: Duration,
    install: axum_server::tls_rustls::RustlsConfig,
) {
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tick.tick().await;
        let snap = match files.snapshot() {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "TLS files unreadable; keeping the current certificate");
                continue;
            }
        };
        if snap == last {
            continue;
        }
        match server_config(&files, &snap) {
            Ok(config) => {
                install.reload_from_config(Arc::new(config));
                tracing::info!(cert = %files.cert.display(), "TLS certificate reloaded");
            }
            Err(e) => {
                tracing::warn!(error = %e, "new TLS files rejected; keeping the current certificate");
            }
        }
        // Bad contents are remembered too, so the warning is not repeated every poll.
        last = snap;
    }
}
