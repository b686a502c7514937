//! Login failure throttling (issue 22, finding 5): after N failed logins for one account, or M
//! from one source address, within a window, every login for it answers 429 with `Retry-After`
//! (the window's time left) — checked *before* any password hashing, so a throttled guesser costs
//! no argon2 time either.
//!
//! - What counts: a login refused for its credentials (wrong password, unknown user: the same
//!   answer, so the throttle reveals no more about which users exist than the 401 does). Malformed
//!   bodies (400) do not; successful logins neither add nor clear anything, so the load
//!   generator's logins (always right) can never trip it and cost one check only.
//! - Counters: a fixed window per key from its first failure (`--login-window`, default 15 min):
//!   `a:<hash of the username>` (`--login-failures`, default 10) and `s:<ip>`
//!   (`--login-source-failures`, default 100: every local client shares 127.0.0.1). 0 disables one.
//! - Where: in process ([`Throttle::local`]) for the schemes without a store (cookie, jwt): a
//!   bounded cache (at most [`LOCAL_CAPACITY`] counters, each expiring with its window; a flood of
//!   distinct keys evicts the least used first). In Redis ([`Throttle::redis`]) for the schemes
//!   with one, under the server's prefix, so replicas share the counts: `<prefix>{throttle}a:…`,
//!   one hash tag (one Cluster slot; a login's check and failure are one script each), each key
//!   expiring with its window. Their number is bounded by failures per window, and every failure
//!   costs one argon2 hash (the bounded queue of [`crate::users`]).
//! - Redis unreachable: the check answers 503, as the login itself would.

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use moka::future::Cache;

use crate::error::{Error, Result};
use crate::store_target::StoreConn;

/// Default of `--login-failures`: failed logins per account within the window.
pub const DEFAULT_ACCOUNT_FAILURES: u32 = 10;
/// Default of `--login-source-failures`: failed logins per source address within the window.
pub const DEFAULT_SOURCE_FAILURES: u32 = 100;
/// Default of `--login-window`.
pub const DEFAULT_WINDOW: Duration = Duration::from_secs(15 * 60);
/// Most counters the in-process throttle keeps at once (~150 B each).
pub const LOCAL_CAPACITY: u64 = 100_000;

/// The limits: failures per account and per source address (0: no limit) within `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub account_failures: u32,
    pub source_failures: u32,
    pub window: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            account_failures: DEFAULT_ACCOUNT_FAILURES,
            source_failures: DEFAULT_SOURCE_FAILURES,
            window: DEFAULT_WINDOW,
        }
    }
}

impl Limits {
    fn off(&self) -> bool {
        self.account_failures == 0 && self.source_failures == 0
    }
}

/// Where the counts live.
#[derive(Clone)]
pub enum Throttle {
    /// No throttling (the library's default; `serve` always sets one).
    Off,
    Local(Arc<Local>),
    Redis(Arc<Remote>),
}

/// The in-process counters.
pub struct Local {
    limits: Limits,
    counts: Cache<String, Arc<Count>>,
}

/// One key's window: when its first failure came, and how many since.
pub struct Count {
    since: Instant,
    n: AtomicU32,
}

/// The counters in Redis.
pub struct Remote {
    limits: Limits,
    conn: StoreConn,
    prefix: String,
    timeout: Duration,
    check: redis::Script,
    fail: redis::Script,
}

/// Lua: KEYS the keys to check, ARGV their limits (0: none). Returns the ms until every key over
/// its limit has expired: 0 when the login may go ahead.
const CHECK_LUA: &str = "local wait = 0 \
     for i, k in ipairs(KEYS) do \
       local limit = tonumber(ARGV[i]) \
       if limit > 0 and tonumber(redis.call('GET', k) or '0') >= limit then \
         local t = redis.call('PTTL', k) if t < 1 then t = 1 end \
         if t > wait then wait = t end end \
     end return wait";

/// Lua: KEYS the keys a failure counts against, ARGV[1] the window (ms): each counted, a new
/// window started where there is none.
const FAIL_LUA: &str = "for _, k in ipairs(KEYS) do \
       redis.call('INCR', k) \
       if redis.call('PTTL', k) < 0 then redis.call('PEXPIRE', k, ARGV[1]) end \
     end return 1";

/// The account's key: a hash of the username (bounded length, any bytes).
fn account_key(username: &str) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, username.as_bytes());
    let hex: String = digest.as_ref()[..12].iter().map(|b| format!("{b:02x}")).collect();
    format!("a:{hex}")
}

fn source_key(ip: IpAddr) -> String {
    format!("s:{ip}")
}

/// The keys one login counts against, with their limits (a key whose limit is 0 is left out).
fn keys(limits: &Limits, account: &str, source: Option<IpAddr>) -> Vec<(String, u32)> {
    let mut out = Vec::with_capacity(2);
    if limits.account_failures > 0 {
        out.push((account_key(account), limits.account_failures));
    }
    if let (Some(ip), true) = (source, limits.source_failures > 0) {
        out.push((source_key(ip), limits.source_failures));
    }
    out
}

/// Whole seconds to say in `Retry-After` for a wait of `ms`: rounded up, at least 1.
fn retry_after(ms: u64) -> u64 {
    ms.div_ceil(1000).max(1)
}

impl Throttle {
    /// Counters in this process.
    pub fn local(limits: Limits) -> Throttle {
        if limits.off() {
            return Throttle::Off;
        }
        let counts = Cache::builder().max_capacity(LOCAL_CAPACITY).time_to_live(limits.window).build();
        Throttle::Local(Arc::new(Local { limits, counts }))
    }

    /// Counters in Redis under `prefix` (shared by every server on it), on the scheme's own store
    /// connection `conn` (no connection of its own).
    pub fn redis(conn: StoreConn, prefix: &str, timeout: Duration, limits: Limits) -> Throttle {
        if limits.off() {
            return Throttle::Off;
        }
        Throttle::Redis(Arc::new(Remote {
            limits,
            conn,
            prefix: format!("{prefix}{{throttle}}"),
            timeout,
            check: redis::Script::new(CHECK_LUA),
            fail: redis::Script::new(FAIL_LUA),
        }))
    }

    /// Refuse (429, `Retry-After`) a login for `account` from `source` while either is over its
    /// limit. Called before any hashing.
    pub async fn check(&self, account: &str, source: Option<IpAddr>) -> Result<()> {
        let wait_ms = match self {
            Throttle::Off => 0,
            Throttle::Local(l) => {
                let mut wait = Duration::ZERO;
                for (key, limit) in keys(&l.limits, account, source) {
                    if let Some(count) = l.counts.get(&key).await {
                        let left = l.limits.window.saturating_sub(count.since.elapsed());
                        if count.n.load(Ordering::Relaxed) >= limit && !left.is_zero() {
                            wait = wait.max(left);
                        }
                    }
                }
                wait.as_millis() as u64
            }
            Throttle::Redis(r) => {
                let keys = keys(&r.limits, account, source);
                let mut call = r.check.prepare_invoke();
                for (key, limit) in &keys {
                    call.key(format!("{}{key}", r.prefix)).arg(*limit);
                }
                let mut conn = r.conn.clone();
                crate::store_bound::bounded(r.timeout, call.invoke_async::<u64>(&mut conn)).await?
            }
        };
        match wait_ms {
            0 => Ok(()),
            ms => Err(Error::Throttled { retry_after: retry_after(ms) }),
        }
    }

    /// A login for `account` from `source` was refused for its credentials: count it. A store
    /// error is not the client's: the login's 401 stands (the next check will answer 503).
    pub async fn failed(&self, account: &str, source: Option<IpAddr>) {
        match self {
            Throttle::Off => {}
            Throttle::Local(l) => {
                for (key, _) in keys(&l.limits, account, source) {
                    let count = l
                        .counts
                        .get_with(key, async {
                            Arc::new(Count { since: Instant::now(), n: AtomicU32::new(0) })
                        })
                        .await;
                    count.n.fetch_add(1, Ordering::Relaxed);
                }
            }
            Throttle::Redis(r) => {
                let keys = keys(&r.limits, account, source);
                let mut call = r.fail.prepare_invoke();
                for (key, _) in &keys {
                    call.key(format!("{}{key}", r.prefix));
                }
                call.arg(r.limits.window.as_millis() as u64);
                let mut conn = r.conn.clone();
                let _ = crate::store_bound::bounded(r.timeout, call.invoke_async::<i64>(&mut conn)).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(account: u32, source: u32) -> Limits {
        Limits { account_failures: account, source_failures: source, window: Duration::from_secs(60) }
    }

    #[tokio::test]
    async fn local_counts_per_account_and_per_source_and_says_when_to_retry() {
        let t = Throttle::local(limits(3, 5));
        let (a, b) = ("127.0.0.1".parse().ok(), "127.0.0.2".parse().ok());
        for _ in 0..3 {
            t.check("user1", a).await.unwrap();
            t.failed("user1", a).await;
        }
        match t.check("user1", b).await {
            Err(Error::Throttled { retry_after }) => {
                assert!((59..=60).contains(&retry_after), "{retry_after}")
            }
            other => panic!("account over its limit: {other:?}"),
        }
        // Another account from the same source: 3 failures so far, 5 allowed.
        t.check("user2", a).await.unwrap();
        t.failed("user2", a).await;
        t.failed("user3", a).await;
        assert!(matches!(t.check("user4", a).await, Err(Error::Throttled { .. })), "source over its limit");
        t.check("user4", b).await.unwrap();
        t.check("user4", None).await.unwrap();
    }

    #[test]
    fn zero_limits_switch_it_off_and_keys_stay_short() {
        assert!(matches!(Throttle::local(limits(0, 0)), Throttle::Off));
        assert_eq!(account_key(&"x".repeat(256)).len(), 26);
        assert_eq!(keys(&limits(0, 1), "u", None), vec![]);
        assert_eq!(retry_after(1), 1);
        assert_eq!(retry_after(1001), 2);
    }
}
