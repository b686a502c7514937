//! How the generator reaches its target: clear text or TLS (`https://`, `--ca`), HTTP/1.1 or
//! HTTP/2 (`--http2`: prior knowledge in clear text, ALPN `h2` over TLS), how many virtual users
//! share one HTTP/2 connection (`--streams`), TLS session resumption (on; `--no-tls-resumption`
//! turns it off) and `--new-connection-per-login`.
//!
//! TLS is rustls through tokio-rustls, the crates hyper's own TLS stacks are built on, with the
//! aws-lc-rs provider named explicitly (the servers use the same one). One `ClientConfig` serves
//! every connection of a run, so its resumption store (rustls's in-memory cache of 256 sessions,
//! tickets included) is shared: a reconnecting virtual user resumes.

use std::path::Path;
use std::sync::Arc;

use rustls::ClientConfig;
use rustls::crypto::aws_lc_rs;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};

use crate::error::{Error, Result};

/// Virtual users per HTTP/2 connection by default (each has at most one request in flight, so
/// this is the streams a connection carries at once).
pub const DEFAULT_STREAMS: u32 = 100;

/// TLS towards the target.
#[derive(Clone)]
pub struct Tls {
    pub config: Arc<ClientConfig>,
    /// The name the certificate is checked against: the target's IP address.
    pub name: ServerName<'static>,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tls")
            .field("name", &self.name)
            .field("resumption", &self.config.resumption)
            .field("alpn", &self.config.alpn_protocols)
            .finish()
    }
}

/// The generator's transport. `Default`: HTTP/1.1 in clear text, a connection per virtual user.
#[derive(Debug, Clone)]
pub struct Transport {
    pub tls: Option<Tls>,
    pub http2: bool,
    /// HTTP/2: virtual users sharing one connection.
    pub streams: u32,
    /// Each login opens a fresh connection (a new visit: with TLS, a new handshake).
    pub new_connection_per_login: bool,
    /// The `Host` (HTTP/2: `:authority`) sent when the target was named by a host name, not an
    /// address (`None`: the address itself, `IP:PORT`).
    pub authority: Option<http::HeaderValue>,
}

impl Default for Transport {
    fn default() -> Self {
        Transport {
            tls: None,
            http2: false,
            streams: DEFAULT_STREAMS,
            new_connection_per_login: false,
            authority: None,
        }
    }
}

impl Transport {
    /// `h1`, `h2`, `h1-tls`, `h2-tls`.
    pub fn name(&self) -> &'static str {
        match (self.http2, self.tls.is_some()) {
            (false, false) => "h1",
            (true, false) => "h2",
            (false, true) => "h1-tls",
            (true, true) => "h2-tls",
        }
    }
}

/// The client config for a target whose certificate (or its CA) is the PEM file `ca`.
pub fn tls_config(ca: &Path, http2: bool, resumption: bool) -> Result<Arc<ClientConfig>> {
    let bad = |e: String| Error::BadInput(format!("--ca {}: {e}", ca.display()));
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(ca)
        .map_err(|e| bad(e.to_string()))?
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| bad(e.to_string()))?;
    let mut roots = rustls::RootCertStore::empty();
    for c in certs {
        roots.add(c).map_err(|e| bad(e.to_string()))?;
    }
    if roots.is_empty() {
        return Err(bad("no certificate in it".into()));
    }
    config(roots, http2, resumption)
}

/// The client config for a target named by a host name: the system's CA certificates
/// (rustls-native-certs: the OS store, e.g. /etc/ssl/certs).
pub fn system_tls_config(http2: bool, resumption: bool) -> Result<Arc<ClientConfig>> {
    let found = rustls_native_certs::load_native_certs();
    let mut roots = rustls::RootCertStore::empty();
    let (added, _) = roots.add_parsable_certificates(found.certs);
    if added == 0 {
        return Err(Error::BadInput(
            "https://: no CA certificate found in the system's store: give --ca FILE".into(),
        ));
    }
    config(roots, http2, resumption)
}

/// The config from trust anchors (ALPN `h2` or `http/1.1`; resumption on or off).
pub fn config(roots: rustls::RootCertStore, http2: bool, resumption: bool) -> Result<Arc<ClientConfig>> {
    let provider = Arc::new(aws_lc_rs::default_provider());
    let mut c = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::BadInput(format!("TLS: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    c.alpn_protocols = vec![if http2 { b"h2".to_vec() } else { b"http/1.1".to_vec() }];
    if !resumption {
        c.resumption = rustls::client::Resumption::disabled();
    }
    Ok(Arc::new(c))
}

/// The name a loopback target's certificate is checked against: its IP address.
pub fn server_name(target: std::net::SocketAddr) -> ServerName<'static> {
    ServerName::IpAddress(target.ip().into())
}
