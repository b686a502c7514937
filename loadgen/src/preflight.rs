//! Before a run: the target answers, `--server-pid` names a process, Redis answers — and, for a
//! flow, its login yields the credential it describes and that credential is accepted. A flow
//! that does not work stops here with the answer it got (status, headers, the body's shape),
//! secrets redacted, and nothing runs.
//!
//! authbench's own servers answer `GET /healthz`; a service behind a flow file need not, so its
//! reachability is its login's.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use crate::client::{Call, Client, Reply};
use crate::config::LoadConfig;
use crate::error::{Error, Result};
use crate::flow::shown::answer;
use crate::flow::{Flow, Origin};
use crate::record::ErrorKind;
use crate::sample::{self, RedisProbe};

/// Time limit on each pre-flight check.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);
/// A flow's login may be slow (a deliberate password hash): its own limit.
const LOGIN_TIMEOUT: Duration = Duration::from_secs(10);

/// Every check; returns the Redis probe the sampler uses.
pub async fn check(config: &LoadConfig) -> Result<Option<RedisProbe>> {
    let scheme = if config.transport.tls.is_some() { "https" } else { "http" };
    let target = format!("{scheme}://{}", config.target);
    let mut client = Client::new(config.target, PROBE_TIMEOUT)
        .with_headers(config.headers.clone().into())
        .with_transport(Arc::new(config.transport.clone()), None, None);
    let flow = config.scheme.as_ref().map(|s| s.flow);
    let from_file = flow.is_some_and(|f| matches!(f.origin, Origin::File(_)));
    if !from_file {
        healthz(&mut client, &target).await?;
    }
    // authbench's own schemes keep their pre-flight as it was (GET /healthz): no extra login.
    if let Some(f) = flow.filter(|_| config.preflight_login && from_file) {
        let n = config.first_user + config.agent.as_ref().map_or(0, |a| a.user_offset);
        let mut client = Client::new(config.target, LOGIN_TIMEOUT)
            .with_headers(config.headers.clone().into())
            .with_transport(Arc::new(config.transport.clone()), None, None);
        login(&mut client, &target, f, n).await?;
    }
    if let Some(pid) = config.server_pid {
        sample::read_proc(pid).map_err(|e| Error::NoSuchProcess { pid, reason: e.to_string() })?;
    }
    match &config.redis_url {
        Some(url) => RedisProbe::connect(url, PROBE_TIMEOUT).await.map(Some).map_err(|reason| {
            Error::RedisUnreachable {
                url: authbench_util::redact::redact_url(url),
                reason: authbench_util::redact::redact_url(&reason),
            }
        }),
        None => Ok(None),
    }
}

async fn healthz(client: &mut Client, target: &str) -> Result<()> {
    let path = authbench_contract::path::HEALTHZ;
    match client.call(&Call::get(path), Instant::now()).await {
        Ok(r) if r.status.is_success() => Ok(()),
        Ok(r) => Err(Error::Unreachable {
            target: target.into(),
            reason: format!("GET {path} answered {}", r.status),
        }),
        Err(kind) => {
            Err(Error::Unreachable { target: target.into(), reason: failed(kind, &format!("GET {path}")) })
        }
    }
}

fn failed(kind: ErrorKind, what: &str) -> String {
    match kind {
        ErrorKind::Connect | ErrorKind::ConnectRefused => "connection refused or timed out".to_owned(),
        ErrorKind::Timeout => format!("no answer to {what} in time"),
        other => format!("{what} failed ({})", other.as_str()),
    }
}

/// One call of `step`, its answer kept whole.
async fn send(client: &mut Client, target: &str, c: &Call<'_>) -> Result<Reply> {
    let what = format!("{} {}", c.method, c.path);
    client
        .call(c, Instant::now())
        .await
        .map_err(|kind| Error::Unreachable { target: target.into(), reason: failed(kind, &what) })
}

/// User `n` logs in, uses the credential on the first request and logs out, as a virtual user
/// would; anything the flow does not expect stops the run before it starts.
async fn login(client: &mut Client, target: &str, flow: &'static Flow, n: u64) -> Result<()> {
    let (user, password) = flow.users.get(n);
    let secrets = [password.as_str()];
    let stop = |what: String, r: &Reply| Error::Preflight {
        flow: flow.name.clone(),
        what,
        answer: answer(r.status, &r.headers, &r.body, &secrets),
    };
    let l = &flow.login;
    let call = Call {
        method: l.method.clone(),
        path: &l.path,
        credential: None,
        csrf: None,
        body: flow.login_body(n).zip(l.body.as_ref().map(|(_, ct)| ct)),
        want_body: true,
    };
    let r = send(client, target, &call).await?;
    let head = format!("{} {} as {user}", l.method, l.path);
    if !l.expect.contains(r.status) {
        return Err(stop(
            format!("{head} answered {}, the flow expects {}", r.status, l.expect.describe()),
            &r,
        ));
    }
    let held = flow.read(&r.headers, &r.body, None).map_err(|m| {
        stop(format!("{head} answered {} without the credential the flow describes: {m}", r.status), &r)
    })?;
    let req = &flow.requests[0].step;
    let call = req.call(&held, true);
    let r = send(client, target, &call).await?;
    let refused = flow.refused.by(r.status, &r.headers, &r.body);
    if refused || !req.expect.contains(r.status) {
        let why = if refused { "refused it" } else { "answered unexpectedly" };
        let what = format!(
            "{} {} with the credential {head} gave: the service {why} ({}, the flow expects {})",
            req.method,
            req.path,
            r.status,
            req.expect.describe()
        );
        return Err(stop(what, &r));
    }
    if let Some(out) = &flow.logout {
        let call = out.call(&held, false);
        send(client, target, &call).await?;
    }
    Ok(())
}
