//! One `--target NAME=URL,flow=FILE[,pid=PID][,redis=URL][,host=NAME][,ca=FILE]`: parsed at the
//! command line, checked before anything runs, and turned into the [`LoadConfig`] every phase
//! against it starts from.

use std::path::PathBuf;

use anyhow::{Context, Result};
use authbench_loadgen::{Flow, LoadConfig, LoadModel, Ramp, Scheme};

/// What `--target` expects, for its errors.
const FORM: &str = "NAME=URL,flow=FILE[,pid=PID][,redis=URL][,host=NAME][,ca=FILE]";

/// One `--target`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub name: String,
    pub url: String,
    pub flow: PathBuf,
    pub pid: Option<u32>,
    /// Read only (`INFO`): never flushed or written.
    pub redis: Option<String>,
    /// The name the service is known by (`Host`, SNI), as `authbench load --host`.
    pub host: Option<String>,
    /// The only CA trusted for an `https://` URL, as `authbench load --ca`.
    pub ca: Option<PathBuf>,
}

/// Parse `NAME=URL,flow=FILE[,pid=PID][,redis=URL][,host=NAME][,ca=FILE]`.
pub fn parse_target(s: &str) -> Result<Target, String> {
    let mut parts = s.split(',');
    let first = parts.next().unwrap_or_default();
    let Some((name, url)) = first.split_once('=') else {
        return Err(format!("--target `{s}`: expected {FORM}"));
    };
    let name = name.trim();
    let ok_name = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    if !ok_name || authbench_servers::SchemeKind::ALL.iter().any(|k| k.as_str() == name) {
        return Err(format!(
            "--target `{name}`: the name must be letters, digits, - _ . and not a built-in scheme's"
        ));
    }
    let mut t = Target {
        name: name.to_owned(),
        url: url.trim().to_owned(),
        flow: PathBuf::new(),
        pid: None,
        redis: None,
        host: None,
        ca: None,
    };
    let value = |key: &str, v: &str, what: &str| {
        let v = v.trim();
        if v.is_empty() { Err(format!("--target {name}: {key}= needs {what}")) } else { Ok(v.to_owned()) }
    };
    for part in parts {
        match part.split_once('=') {
            Some(("flow", f)) => t.flow = PathBuf::from(value("flow", f, "the flow file (FILE.toml)")?),
            Some(("pid", p)) => {
                t.pid = Some(p.trim().parse().map_err(|_| {
                    format!("--target {name}: pid=`{p}`: expected the server's process id (a number)")
                })?)
            }
            Some(("redis", r)) => t.redis = Some(value("redis", r, "a URL (redis://HOST:PORT)")?),
            Some(("host", h)) => {
                let h = value("host", h, "the DNS name the service is known by (Host, SNI)")?;
                let ok = h
                    .split('.')
                    .all(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
                if !ok {
                    return Err(format!(
                        "--target {name}: host=`{h}`: expected a DNS name such as api.example.com"
                    ));
                }
                t.host = Some(h);
            }
            Some(("ca", c)) => t.ca = Some(PathBuf::from(value("ca", c, "a PEM file of the CA to trust")?)),
            _ => {
                return Err(format!(
                    "--target {name}: unknown part `{part}` (expected flow=, pid=, redis=, host=, ca=)"
                ));
            }
        }
    }
    if t.flow.as_os_str().is_empty() {
        return Err(format!("--target {name}: flow=FILE is required ({FORM})"));
    }
    if t.ca.is_some() && !t.url.starts_with("https://") {
        return Err(format!("--target {name}: ca= is for an https:// URL, not `{}`", t.url));
    }
    Ok(t)
}

impl Target {
    /// The run every phase against this target starts from (its model is replaced): its URL,
    /// `host=` and `ca=`, the flow as its scheme, `pid=` and `redis=` sampled.
    pub fn config(&self, allow_remote: bool, flow: Option<&'static Flow>) -> Result<LoadConfig> {
        let scheme = flow.map(|flow| Scheme { name: self.name.clone(), flow });
        let model = LoadModel::Closed { stages: Ramp::constant(1.0, Default::default()) };
        let reach = (self.host.as_deref(), self.ca.as_deref());
        let mut c = LoadConfig::at_url(&self.url, allow_remote, reach, scheme, model)
            .with_context(|| format!("--target {}", self.name))?;
        c.server_pid = self.pid;
        c.redis_url = self.redis.clone();
        c.progress = false;
        Ok(c)
    }

    /// Its flow, read and checked.
    pub fn load_flow(&self) -> Result<&'static Flow> {
        Flow::load(&self.flow).map_err(|e| anyhow::anyhow!("--target {}: {e}", self.name))
    }
}

/// Check every target before anything runs: its flow loads, its URL (and `host=`, `ca=`) is
/// allowed.
pub fn validate(targets: &[Target], allow_remote: bool) -> Result<()> {
    for t in targets {
        t.load_flow()?;
        t.config(allow_remote, None)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_target_is_name_url_and_its_parts() {
        let t = parse_target("web=http://127.0.0.1:5000,flow=web.toml,pid=42,redis=redis://127.0.0.1:6379")
            .unwrap();
        assert_eq!((t.name.as_str(), t.url.as_str()), ("web", "http://127.0.0.1:5000"));
        assert_eq!(
            (t.flow, t.pid, t.redis.as_deref(), t.host, t.ca),
            (PathBuf::from("web.toml"), Some(42), Some("redis://127.0.0.1:6379"), None, None)
        );
        for bad in [
            "web",
            "web=http://x,pid=1",
            "jwt=http://x,flow=f",
            "a b=http://x,flow=f",
            "w=http://x,flow=f,pid=x",
            "w=u,flow=f,user=1",
        ] {
            assert!(parse_target(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn host_and_ca_name_the_service_and_the_ca_to_trust() {
        let t =
            parse_target("api=https://127.0.0.1:8443,flow=api.toml,host=api.example.com,ca=ca.pem").unwrap();
        assert_eq!(t.host.as_deref(), Some("api.example.com"));
        assert_eq!(t.ca, Some(PathBuf::from("ca.pem")));
        let err = |s: &str| parse_target(s).unwrap_err();
        assert!(
            err("w=https://x,flow=f,host=").contains("host= needs the DNS name"),
            "{}",
            err("w=https://x,flow=f,host=")
        );
        assert!(err("w=https://x,flow=f,host=a b").contains("expected a DNS name"));
        assert!(err("w=https://x,flow=f,ca=").contains("ca= needs a PEM file"));
        assert!(err("w=http://x,flow=f,ca=ca.pem").contains("ca= is for an https:// URL"));
        assert!(err("w=http://x,flow=f,sni=a").contains("host=, ca="));
    }

    #[test]
    fn host_sets_the_host_header_of_every_run() {
        let t = parse_target("w=http://127.0.0.1:5000,flow=f,host=app.test").unwrap();
        let c = t.config(false, None).unwrap();
        assert_eq!(c.transport.authority.as_ref().map(|a| a.to_str().unwrap()), Some("app.test:5000"));
        let c = parse_target("w=http://127.0.0.1:5000,flow=f").unwrap().config(false, None).unwrap();
        assert_eq!(c.transport.authority, None);
    }
}
