//! Where `authbench load` sends its requests: the URL or `--target` (loopback unless
//! `--allow-remote`), the host name it is known by (`Host`, TLS server name), and `-H` headers.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use crate::error::{Error, Result};
use crate::transport::{self, Tls};

/// Parse `http://127.0.0.1:8080[/]`, `localhost:8080` or `[::1]:8080`; refuse anything off loopback.
#[cfg(test)]
fn parse_target(s: &str) -> Result<SocketAddr> {
    parse_target_with(s, false)
}

/// [`parse_target`]; with `allow_remote` any address, or a host name resolved once here.
pub fn parse_target_with(s: &str, allow_remote: bool) -> Result<SocketAddr> {
    let bad =
        |why: &str| Error::BadInput(format!("--target `{s}`: {why}; expected e.g. http://127.0.0.1:8080"));
    let rest = match s.trim().split_once("://") {
        Some(("http" | "https", rest)) => rest,
        Some((scheme, _)) => {
            return Err(bad(&format!("scheme `{scheme}` is not supported (http or https)")));
        }
        None => s.trim(),
    };
    let authority = match rest.split_once('/') {
        Some((a, "")) => a,
        Some((_, _)) => return Err(bad("give the server's base URL without a path")),
        None => rest,
    };
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !p.contains(']') => (h, p.parse::<u16>().map_err(|_| bad("bad port"))?),
        _ => (authority, 80),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if port == 0 {
        return Err(bad("port 0"));
    }
    let ip: IpAddr = if host.eq_ignore_ascii_case("localhost") {
        IpAddr::V4(Ipv4Addr::LOCALHOST)
    } else if host.is_empty() {
        return Err(bad("no host"));
    } else if let Ok(ip) = host.parse() {
        ip
    } else if allow_remote {
        use std::net::ToSocketAddrs;
        let mut found =
            (host, port).to_socket_addrs().map_err(|e| bad(&format!("cannot resolve `{host}` ({e})")))?;
        found.next().ok_or_else(|| bad(&format!("`{host}` resolves to no address")))?.ip()
    } else {
        return Err(Error::NotLoopback(s.to_owned()));
    };
    if !ip.is_loopback() && !allow_remote {
        return Err(Error::NotLoopback(s.to_owned()));
    }
    Ok(SocketAddr::new(ip, port))
}

/// Whether a target URL is `https://`.
pub fn is_https(s: &str) -> bool {
    s.trim().get(..8).is_some_and(|p| p.eq_ignore_ascii_case("https://"))
}

/// The positional target, as wrk and oha take it: a base URL, or the `/healthz` URL of the
/// no-auth baseline (authbench sends its own API paths, so no other path is accepted); off
/// loopback too with `allow_remote`.
pub fn parse_url_with(s: &str, allow_remote: bool) -> Result<SocketAddr> {
    let t = s.trim();
    let base = ["/healthz", "/healthz/"].iter().find_map(|p| t.strip_suffix(p)).unwrap_or(t);
    parse_target_with(base, allow_remote).map_err(|e| match e {
        Error::BadInput(m) => Error::BadInput(format!(
            "{}; the path may only be /healthz (authbench sends its own API paths)",
            m.replacen("--target", "URL", 1)
        )),
        other => other,
    })
}

/// `--host`: a DNS name (no scheme, port or path).
pub fn host_name(s: &str) -> Result<String> {
    let n = s.trim().trim_end_matches('.');
    let ok = !n.is_empty()
        && n.len() <= 253
        && n.split('.').all(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
    if ok {
        Ok(n.to_ascii_lowercase())
    } else {
        Err(Error::BadInput(format!("--host `{s}`: not a DNS name")))
    }
}

/// The host name a URL names (not an IP address, not `localhost`, which stays what it always
/// was: its address), sent as `Host` and SNI.
pub fn url_host_name(url: &str) -> Option<String> {
    let rest = url.trim().split_once("://").map_or(url.trim(), |(_, r)| r);
    let authority = rest.split('/').next()?;
    let host = match authority.rsplit_once(':') {
        Some((h, p)) if !p.contains(']') => h,
        _ => authority,
    };
    if host.starts_with('[') || host.parse::<IpAddr>().is_ok() || host.eq_ignore_ascii_case("localhost") {
        return None;
    }
    host_name(host).ok()
}

/// TLS towards `target` (`--ca`, else the system's CA store when it is known by a host `name`)
/// and the `Host` it is sent when named.
pub fn tls_and_authority(
    target: SocketAddr,
    https: bool,
    name: Option<&str>,
    ca: Option<&std::path::Path>,
    http2: bool,
    resumption: bool,
) -> Result<(Option<Tls>, Option<http::HeaderValue>)> {
    let server_name = || match name {
        Some(n) => rustls::pki_types::ServerName::try_from(n.to_owned())
            .map_err(|_| Error::BadInput(format!("--host `{n}`: not a DNS name"))),
        None => Ok(transport::server_name(target)),
    };
    let tls = match (https, ca) {
        (true, Some(ca)) => {
            Some(Tls { config: transport::tls_config(ca, http2, resumption)?, name: server_name()? })
        }
        (true, None) if name.is_some() => {
            Some(Tls { config: transport::system_tls_config(http2, resumption)?, name: server_name()? })
        }
        (true, None) => {
            return Err(Error::BadInput(
                "an https:// target needs --ca FILE: the certificate `serve --tls` wrote (--cert-out), \
or a host name (in the URL, or --host) checked against the system's CA certificates"
                    .into(),
            ));
        }
        (false, Some(_)) => return Err(Error::BadInput("--ca is for an https:// target".into())),
        (false, None) => None,
    };
    let default_port = if https { 443 } else { 80 };
    let authority = match name {
        None => None,
        Some(n) => {
            let text =
                if target.port() == default_port { n.to_owned() } else { format!("{n}:{}", target.port()) };
            Some(http::HeaderValue::from_str(&text).map_err(|_| Error::BadInput(format!("--host `{n}`")))?)
        }
    };
    Ok((tls, authority))
}

/// `-H 'Name: value'` into a header; the headers authbench sets itself are refused.
pub fn parse_header(s: &str) -> Result<(http::HeaderName, http::HeaderValue)> {
    let bad = |why: &str| Error::BadInput(format!("-H `{s}`: {why}; expected e.g. -H 'X-Trace: 1'"));
    let (name, value) = s.split_once(':').ok_or_else(|| bad("no `:`"))?;
    let name = http::HeaderName::from_bytes(name.trim().as_bytes()).map_err(|_| bad("not a header name"))?;
    let value = http::HeaderValue::from_str(value.trim()).map_err(|_| bad("not a header value"))?;
    use http::header::{AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, COOKIE, HOST, TRANSFER_ENCODING};
    if [HOST, CONTENT_LENGTH, TRANSFER_ENCODING, CONTENT_TYPE, COOKIE, AUTHORIZATION].contains(&name) {
        return Err(bad("authbench sets this header itself"));
    }
    Ok((name, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_must_be_loopback_http() {
        assert_eq!(parse_target("http://127.0.0.1:8080").unwrap(), "127.0.0.1:8080".parse().unwrap());
        assert_eq!(parse_target("http://localhost:9/").unwrap(), "127.0.0.1:9".parse().unwrap());
        assert_eq!(parse_target("[::1]:7").unwrap(), "[::1]:7".parse().unwrap());
        assert_eq!(parse_target("127.0.0.2:80").unwrap(), "127.0.0.2:80".parse().unwrap());
        assert!(matches!(parse_target("http://10.0.0.1:80"), Err(Error::NotLoopback(_))));
        assert!(matches!(parse_target("http://example.com:80"), Err(Error::NotLoopback(_))));
        assert_eq!(parse_target("https://127.0.0.1:8443").unwrap(), "127.0.0.1:8443".parse().unwrap());
        assert!(matches!(parse_target("ftp://127.0.0.1:21"), Err(Error::BadInput(_))));
        assert!(matches!(parse_target("http://127.0.0.1:8080/api"), Err(Error::BadInput(_))));
        assert!(matches!(parse_target("http://127.0.0.1:99999"), Err(Error::BadInput(_))));
    }

    #[test]
    fn host_names_come_from_the_url_or_host() {
        assert_eq!(url_host_name("https://api.example.com:8443/"), Some("api.example.com".into()));
        assert_eq!(url_host_name("http://127.0.0.1:80"), None);
        assert_eq!(url_host_name("localhost:9"), None);
        assert_eq!(url_host_name("http://[::1]:9"), None);
        assert_eq!(host_name("API.example.com.").unwrap(), "api.example.com");
        assert!(host_name("a b").is_err() && host_name("x/y").is_err() && host_name("").is_err());
    }
}
