//! `serve --tls`: HTTPS through rustls (tokio-rustls under hyper-util), ALPN `h2` and
//! `http/1.1`, with one crypto provider, aws-lc-rs, named explicitly (two providers in one process
//! make rustls panic when it must pick one by itself).
//!
//! - The certificate: `--cert/--key` (PEM), or a self-signed one generated at start (rcgen) for
//!   `localhost`, `127.0.0.1` and `::1`, written (PEM) to `--cert-out` so a client can trust it.
//! - Session resumption: rustls's server defaults are a 256-entry session-id cache and no
//!   ticketer, so a TLS 1.3 client that kept a ticket could not resume at all; here a ticketer
//!   (aws-lc-rs, rotating keys) and a larger cache. [`Resumption`] counts what each handshake was,
//!   and `serve` reports the rate when it stops.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use rustls::ServerConfig;
use rustls::crypto::aws_lc_rs;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

use crate::error::{Error, Result};

/// Server-side sessions kept for id-based resumption (TLS 1.2, and 1.3 clients without tickets).
pub const SESSION_CACHE: usize = 10_000;

/// Handshakes by kind, for the resumption rate.
#[derive(Debug, Default)]
pub struct Resumption {
    pub full: AtomicU64,
    pub resumed: AtomicU64,
}

impl Resumption {
    /// Count one finished handshake.
    pub fn count(&self, conn: &rustls::ServerConnection) {
        let counter = match conn.handshake_kind() {
            Some(rustls::HandshakeKind::Resumed) => &self.resumed,
            _ => &self.full,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// `"1200 handshakes, 1100 resumed (91.7%)"`.
    pub fn describe(&self) -> String {
        let (full, resumed) = (self.full.load(Ordering::Relaxed), self.resumed.load(Ordering::Relaxed));
        let all = full + resumed;
        let rate = if all == 0 { 0.0 } else { resumed as f64 / all as f64 * 100.0 };
        format!("{all} TLS handshakes, {resumed} resumed ({rate:.1}%)")
    }
}

/// What `serve --tls` runs with.
pub struct Tls {
    pub acceptor: TlsAcceptor,
    pub resumption: Arc<Resumption>,
    /// The certificate clients should trust, when it was generated here.
    pub written: Option<PathBuf>,
}

/// The process-wide provider, installed once (a second install is refused and harmless).
pub fn install_provider() {
    let _ = aws_lc_rs::default_provider().install_default();
}

fn tls_error(what: &str, e: impl std::fmt::Display) -> Error {
    Error::Config(format!("--tls: {what}: {e}"))
}

/// The certificate chain and key: read from `cert`/`key`, or generated and written to `out`.
fn material(
    cert: Option<&Path>,
    key: Option<&Path>,
    out: &Path,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>, Option<PathBuf>)> {
    match (cert, key) {
        (Some(c), Some(k)) => {
            let chain = CertificateDer::pem_file_iter(c)
                .and_then(|it| it.collect::<std::result::Result<Vec<_>, _>>())
                .map_err(|e| tls_error(&format!("cannot read --cert {}", c.display()), e))?;
            let key = PrivateKeyDer::from_pem_file(k)
                .map_err(|e| tls_error(&format!("cannot read --key {}", k.display()), e))?;
            Ok((chain, key, None))
        }
        (None, None) => {
            let names = vec!["localhost".to_owned(), "127.0.0.1".to_owned(), "::1".to_owned()];
            let made = rcgen::generate_simple_self_signed(names).map_err(|e| tls_error("generate", e))?;
            std::fs::write(out, made.cert.pem())
                .map_err(|e| tls_error(&format!("cannot write the certificate to {}", out.display()), e))?;
            let key = PrivateKeyDer::from_pem_slice(made.signing_key.serialize_pem().as_bytes())
                .map_err(|e| tls_error("the generated key", e))?;
            Ok((vec![made.cert.der().clone()], key, Some(out.to_owned())))
        }
        _ => Err(Error::Config("--cert and --key go together".into())),
    }
}

/// The rustls server config and acceptor for `serve --tls`.
pub fn setup(cert: Option<&Path>, key: Option<&Path>, out: &Path) -> Result<Tls> {
    install_provider();
    let (chain, key, written) = material(cert, key, out)?;
    let provider = Arc::new(aws_lc_rs::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| tls_error("protocol versions", e))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| tls_error("certificate and key", e))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    config.ticketer = aws_lc_rs::Ticketer::new().map_err(|e| tls_error("ticketer", e))?;
    config.session_storage = rustls::server::ServerSessionMemoryCache::new(SESSION_CACHE);
    Ok(Tls { acceptor: TlsAcceptor::from(Arc::new(config)), resumption: Default::default(), written })
}

/// Where a generated certificate goes without `--cert-out`.
pub fn default_cert_out() -> PathBuf {
    std::env::temp_dir().join(format!("authbench-serve-{}-cert.pem", std::process::id()))
}
