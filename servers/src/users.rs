//! The synthetic user directory shared by every scheme, and argon2id password verification.
//!
//! `user{i}` has password `password{i}`. Each user has a random 16-byte salt and an argon2id hash of
//! their password. Computing 100,000 hashes at the OWASP cost (about 20 ms each) would take half an
//! hour, so a hash is *materialised on first login*: the first successful login computes
//! argon2id(candidate, salt) and, because the candidate matched the canonical password, stores that
//! hash; later logins verify against the stored hash. Either way a login costs exactly one argon2id
//! computation, which is what a real server pays, and wrong passwords are rejected exactly as a real
//! verifier would. This is the one place the directory knows plaintext, and it is a test fixture.
//!
//! A login ([`Users::authenticate`]) is bounded three ways (issue 22, finding 5):
//! - the argon2 computations run at most one per core at once, and at most `--login-queue`
//!   logins ([`DEFAULT_QUEUE`]) wait for one; past that a login answers 503 with `Retry-After`
//!   at once, so a login flood costs neither unbounded memory nor unbounded waits;
//! - the whole login request is bounded by `--login-timeout` ([`DEFAULT_TIMEOUT`], applied by the
//!   handler in [`crate::api`]): 503 with `Retry-After` past it;
//! - failed logins are throttled per account and per source address ([`crate::throttle`]): 429.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use argon2::{Algorithm, Argon2, Params, Version};
use rand::RngCore;
use serde::Serialize;
use tokio::sync::Semaphore;

use crate::error::{Error, Result};
use crate::throttle::Throttle;

/// Longest username or password accepted; longer ones are rejected before any hashing.
pub const MAX_FIELD_BYTES: usize = 256;

/// Default of `--login-queue`: logins that may wait for a hashing slot (beyond the one per core
/// computing). At the default cost (~20-40 ms per hash, one per core) the last of them waits a
/// few seconds; each holds its request (at most 16 KiB).
pub const DEFAULT_QUEUE: usize = 1024;
/// Default of `--login-timeout`: the longest one login request may take, queue included.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// `Retry-After` of a login refused for a full queue or a timeout.
pub const BUSY_RETRY_AFTER: u64 = 1;

/// How logins are bounded (`serve --login-queue`, `--login-timeout`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginLimits {
    /// Logins that may wait for a hashing slot; past it 503.
    pub queue: usize,
    /// Bound on one login request.
    pub timeout: Duration,
}

impl Default for LoginLimits {
    fn default() -> Self {
        LoginLimits { queue: DEFAULT_QUEUE, timeout: DEFAULT_TIMEOUT }
    }
}

/// The hashing queue now: logins waiting for a slot, the most seen at once, and the bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueReading {
    pub waiting: usize,
    pub peak: usize,
    pub bound: usize,
}

/// argon2id cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PasswordCost {
    pub m_kib: u32,
    pub t: u32,
    pub p: u32,
}

impl PasswordCost {
    /// OWASP Password Storage Cheat Sheet minimum for argon2id.
    pub const OWASP: PasswordCost = PasswordCost { m_kib: 19 * 1024, t: 2, p: 1 };
    /// `--fast-login`: cheap enough for ramps of thousands of logins per second.
    pub const FAST: PasswordCost = PasswordCost { m_kib: 64, t: 1, p: 1 };

    pub fn argon2(self) -> Argon2<'static> {
        let params = Params::new(self.m_kib, self.t, self.p, Some(32)).expect("valid argon2 params");
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
    }
}

impl std::fmt::Display for PasswordCost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "argon2id m={} KiB t={} p={}", self.m_kib, self.t, self.p)
    }
}

/// One user's record.
#[derive(Debug)]
pub struct User {
    pub id: u64,
    pub username: String,
    pub display_name: String,
    pub email: String,
    salt: [u8; 16],
    hash: OnceLock<[u8; 32]>,
}

/// The body of `GET /api/me`, byte-identical in every scheme for the same user.
#[derive(Debug, Serialize)]
pub struct Me<'a> {
    pub user_id: u64,
    pub username: &'a str,
    pub display_name: &'a str,
    pub email: &'a str,
}

impl User {
    pub fn me(&self) -> Me<'_> {
        Me {
            user_id: self.id,
            username: &self.username,
            display_name: &self.display_name,
            email: &self.email,
        }
    }
}

/// All users, by id and by name, plus the password hasher.
pub struct Users {
    by_id: Vec<User>,
    by_name: HashMap<String, u64>,
    cost: PasswordCost,
    argon2: Argon2<'static>,
    /// Bounds concurrent argon2 computations so a login burst cannot allocate m_kib per request
    /// without limit; permits = cores.
    hashing: Arc<Semaphore>,
    /// Logins waiting for a permit now, and the most at once.
    waiting: AtomicUsize,
    peak: AtomicUsize,
    limits: LoginLimits,
    /// Set once, when the scheme's store is up ([`Users::throttle_with`]); none until then.
    throttle: OnceLock<Throttle>,
}

/// One login waiting for a hashing slot: counted while it lives.
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Users {
    /// Build `n` synthetic users.
    pub fn synthetic(n: u64, cost: PasswordCost) -> Users {
        let mut rng = rand::rng();
        let mut by_id = Vec::with_capacity(n as usize);
        let mut by_name = HashMap::with_capacity(n as usize);
        for id in 1..=n {
            let mut salt = [0u8; 16];
            rng.fill_bytes(&mut salt);
            let username = format!("user{id}");
            by_name.insert(username.clone(), id);
            by_id.push(User {
                id,
                display_name: format!("User {id}"),
                email: format!("user{id}@example.test"),
                username,
                salt,
                hash: OnceLock::new(),
            });
        }
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
        Users {
            by_id,
            by_name,
            cost,
            argon2: cost.argon2(),
            hashing: Arc::new(Semaphore::new(cores)),
            waiting: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
            limits: LoginLimits::default(),
            throttle: OnceLock::new(),
        }
    }

    /// Bound the hashing queue and the login time (`serve` sets both).
    pub fn with_login(mut self, limits: LoginLimits) -> Users {
        self.limits = limits;
        self
    }

    /// Throttle failed logins with `throttle` (once; a second call is ignored). `serve` sets it
    /// when the scheme's store is up, its counters on the store's connection.
    pub fn throttle_with(&self, throttle: Throttle) {
        let _ = self.throttle.set(throttle);
    }

    fn throttle(&self) -> &Throttle {
        self.throttle.get().unwrap_or(&Throttle::Off)
    }

    pub fn login_limits(&self) -> LoginLimits {
        self.limits
    }

    pub fn queue(&self) -> QueueReading {
        QueueReading {
            waiting: self.waiting.load(Ordering::SeqCst),
            peak: self.peak.load(Ordering::SeqCst),
            bound: self.limits.queue,
        }
    }

    /// A login: throttled first (429, no hashing), then [`verify`](Self::verify), a failure
    /// counted against the account and the source address.
    pub async fn authenticate(
        self: &Arc<Self>,
        username: &str,
        password: &str,
        source: Option<IpAddr>,
    ) -> Result<u64> {
        self.throttle().check(username, source).await?;
        let verdict = self.verify(username, password).await;
        if let Err(Error::BadLogin) = verdict {
            self.throttle().failed(username, source).await;
        }
        verdict
    }

    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    pub fn cost(&self) -> PasswordCost {
        self.cost
    }

    pub fn get(&self, id: u64) -> Option<&User> {
        id.checked_sub(1).and_then(|i| self.by_id.get(i as usize))
    }

    /// Verify a login. Exactly one argon2id computation for a known user; for an unknown user one
    /// as well (against a dummy salt), so response time does not reveal which usernames exist.
    pub async fn verify(self: &Arc<Self>, username: &str, password: &str) -> Result<u64> {
        if username.len() > MAX_FIELD_BYTES || password.len() > MAX_FIELD_BYTES {
            return Err(Error::BadLogin);
        }
        let id = self.by_name.get(username).copied();
        let permit = match self.hashing.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                let now = self.waiting.fetch_add(1, Ordering::SeqCst) + 1;
                let _waiting = Waiting(&self.waiting);
                if now > self.limits.queue {
                    return Err(Error::Busy { retry_after: BUSY_RETRY_AFTER });
                }
                self.peak.fetch_max(now, Ordering::SeqCst);
                self.hashing.clone().acquire_owned().await.map_err(|_| Error::Internal)?
            }
        };
        let users = Arc::clone(self);
        let password = password.to_owned();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            users.verify_blocking(id, &password)
        })
        .await
        .map_err(|_| Error::Internal)?
    }

    fn verify_blocking(&self, id: Option<u64>, password: &str) -> Result<u64> {
        let Some(user) = id.and_then(|id| self.get(id)) else {
            let mut sink = [0u8; 32];
            let _ = self.argon2.hash_password_into(password.as_bytes(), &[0u8; 16], &mut sink);
            return Err(Error::BadLogin);
        };
        let mut computed = [0u8; 32];
        self.argon2
            .hash_password_into(password.as_bytes(), &user.salt, &mut computed)
            .map_err(|_| Error::BadLogin)?;
        let stored = match user.hash.get() {
            Some(stored) => stored,
            None => {
                // First login of this user: materialise the stored hash (see the module doc).
                let canonical = format!("password{}", user.id);
                if !ct_eq(password.as_bytes(), canonical.as_bytes()) {
                    return Err(Error::BadLogin);
                }
                user.hash.get_or_init(|| computed)
            }
        };
        if ct_eq(&computed, stored) { Ok(user.id) } else { Err(Error::BadLogin) }
    }
}

fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    aws_lc_rs::constant_time::verify_slices_are_equal(a, b).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn verifies_right_password_and_rejects_wrong_ones() {
        let users = Arc::new(Users::synthetic(5, PasswordCost::FAST));
        assert_eq!(users.verify("user3", "password3").await.unwrap(), 3);
        // second login goes through the stored hash
        assert_eq!(users.verify("user3", "password3").await.unwrap(), 3);
        assert!(matches!(users.verify("user3", "password4").await, Err(Error::BadLogin)));
        assert!(matches!(users.verify("user4", "password3").await, Err(Error::BadLogin)));
        assert!(matches!(users.verify("nobody", "password1").await, Err(Error::BadLogin)));
        assert!(matches!(users.verify("user6", "password6").await, Err(Error::BadLogin)));
        assert!(matches!(users.verify("user1", &"x".repeat(10_000)).await, Err(Error::BadLogin)));
    }

    #[test]
    fn wrong_first_login_does_not_poison_the_stored_hash() {
        let users = Users::synthetic(2, PasswordCost::FAST);
        assert!(users.verify_blocking(Some(1), "wrong").is_err());
        assert!(users.get(1).unwrap().hash.get().is_none());
        assert_eq!(users.verify_blocking(Some(1), "password1").unwrap(), 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_full_queue_answers_busy_at_once_and_never_holds_more() {
        let limits = LoginLimits { queue: 3, timeout: DEFAULT_TIMEOUT };
        let users = Arc::new(Users::synthetic(50, PasswordCost::OWASP).with_login(limits));
        let tries = (1..=40).map(|i| {
            let users = users.clone();
            tokio::spawn(async move { users.verify(&format!("user{i}"), &format!("password{i}")).await })
        });
        let mut busy = 0;
        for t in futures::future::join_all(tries).await {
            match t.unwrap() {
                Ok(_) => {}
                Err(Error::Busy { retry_after }) => {
                    assert_eq!(retry_after, BUSY_RETRY_AFTER);
                    busy += 1;
                }
                Err(e) => panic!("{e}"),
            }
        }
        let q = users.queue();
        assert!(busy > 0, "40 logins at once never filled a queue of 3");
        assert!(q.peak <= 3, "{} waited at once", q.peak);
        assert_eq!(q.waiting, 0);
    }

    #[test]
    fn ids_are_one_based_and_bounded() {
        let users = Users::synthetic(3, PasswordCost::FAST);
        assert!(users.get(0).is_none());
        assert_eq!(users.get(3).unwrap().username, "user3");
        assert!(users.get(4).is_none());
    }
}
