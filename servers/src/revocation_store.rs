//! `jwt-revocable`'s (and `jwt-pubsub`'s) state in Redis: revoked `jti`s, logout-all epochs and
//! refresh-token families, each request's one `MGET`, and the scripts for logout, logout-all and
//! rotation with reuse detection. The key layout is described in [`crate::jwt_revocable`].

use std::sync::Arc;
use std::time::Duration;

use crate::api;
use crate::denylist::{Entry, message};
use crate::error::{Error, Result};
use crate::id::new_sid;
use crate::jwt::{ACCESS_AUDIENCE, Claims, Codec, ISSUER, LEEWAY_SECS, REFRESH_AUDIENCE, TokenType};
use crate::store_bound::bounded;
use crate::store_target::StoreConn;

/// The value of `f:<fid>` once the family is revoked.
pub const REVOKED: &str = "revoked";

/// What a refresh attempt found in the family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rotation {
    /// The presented token was the family's current one; the family now holds the new one, whose
    /// tokens carry `iat_ms` (Redis's clock, after every logout-all of the user so far).
    Rotated { iat_ms: u64 },
    /// Unknown, expired, logged-out or logout-all'd: refused, nothing changed.
    Refused,
    /// An already-rotated token: the family is revoked now (reuse detection); with announcements
    /// on, the entry that was published.
    ReuseDetected(Option<Entry>),
}

/// Lua: `now`, Redis's clock in milliseconds. Every time that decides revocation (a logout-all's
/// epoch, a token's issue time) is read from the one Redis inside the script that writes it, so
/// two servers' clocks, or a time read before a concurrent script ran, can never order them
/// wrongly. (Issue times read on the server after the rotation script let a pair minted during a
/// logout-all carry a later time than the epoch and pass every check.)
const REDIS_NOW_MS: &str =
    "local t = redis.call('TIME') local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)";

/// Lua, ending a login's or a rotation's script: the new tokens' issue time, Redis's clock but
/// always after the user's epoch `e` (so a logout-all in the same millisecond that ran first does
/// not revoke a login that came after it), returned to the caller.
const ISSUED_AT: &str = "local t = redis.call('TIME') \
     local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) \
     if e and tonumber(e) >= now then now = tonumber(e) + 1 end return now";

/// Revocations and families in Redis.
#[derive(Clone)]
pub struct RevocationStore {
    conn: StoreConn,
    prefix: Arc<str>,
    refresh_ttl: u64,
    /// Bound on one store call (`serve --store-timeout`); past it the request answers 503.
    timeout: Duration,
    rotate: redis::Script,
    logout: redis::Script,
    open: redis::Script,
    logout_all: redis::Script,
    /// `jwt-pubsub`: the channel every revocation is published on, and the access-token lifetime.
    announce: Option<Announce>,
}

/// Where a store announces its revocations (`jwt-pubsub`).
#[derive(Clone)]
pub struct Announce {
    pub channel: Arc<str>,
    /// Access-token lifetime in seconds: how long a revoked family can still match a live token.
    pub access_ttl: u64,
}

impl RevocationStore {
    pub async fn connect(
        url: &str,
        prefix: &str,
        refresh_ttl: u64,
        timeout: Duration,
    ) -> Result<RevocationStore> {
        Ok(RevocationStore {
            conn: StoreConn::Single(crate::redis_conn::connect(url, timeout).await?),
            prefix: prefix.into(),
            refresh_ttl,
            timeout,
            // KEYS: family, presented refresh jti's revocation, user epoch[, family marker].
            // ARGV: presented jti, new jti, presented iat_ms, family TTL[, channel, marker TTL,
            // message]: with the announce part, reuse also marks and publishes the family.
            rotate: redis::Script::new(&format!(
                "local cur = redis.call('GET', KEYS[1]) \
                 if not cur or cur == 'revoked' then return 0 end \
                 if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end \
                 local e = redis.call('GET', KEYS[3]) \
                 if e and tonumber(e) >= tonumber(ARGV[3]) then return 0 end \
                 if cur ~= ARGV[1] then redis.call('SET', KEYS[1], 'revoked', 'KEEPTTL') \
                   if ARGV[5] then redis.call('SET', KEYS[4], '1', 'EX', ARGV[6]) \
                     redis.call('PUBLISH', ARGV[5], ARGV[7]) end \
                   return -1 end \
                 redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[4]) {ISSUED_AT}"
            )),
            // KEYS: access jti's revocation, family[, family marker]. ARGV: access TTL, leeway,
            // `j:` key prefix[, channel, marker TTL, message].
            logout: redis::Script::new(
                "redis.call('SET', KEYS[1], '1', 'EX', ARGV[1]) \
                 local cur = redis.call('GET', KEYS[2]) \
                 if cur and cur ~= 'revoked' then \
                   local ttl = redis.call('TTL', KEYS[2]) \
                   if ttl > 0 then redis.call('SET', ARGV[3] .. cur, '1', 'EX', ttl + tonumber(ARGV[2])) end \
                   redis.call('SET', KEYS[2], 'revoked', 'KEEPTTL') \
                 end \
                 if ARGV[4] then redis.call('SET', KEYS[3], '1', 'EX', ARGV[5]) \
                   redis.call('PUBLISH', ARGV[4], ARGV[6]) end return 1",
            ),
            // KEYS: family, user epoch. ARGV: refresh jti, family TTL. Returns the issue time.
            open: redis::Script::new(&format!(
                "local e = redis.call('GET', KEYS[2]) \
                 redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2]) {ISSUED_AT}"
            )),
            // KEYS: user epoch. ARGV: epoch TTL[, channel, access TTL + leeway, uid]. The epoch is
            // Redis's clock now, and past a stored one: a login in the stored epoch's millisecond
            // got `e + 1` (ISSUED_AT), which this logout-all must cover. (With `max(now, e)` a
            // second logout-all in the same millisecond left `e` as it was, and a login between the
            // two survived it: found by the fuzz oracle.) Returns it.
            logout_all: redis::Script::new(&format!(
                "{REDIS_NOW_MS} \
                 local stored = redis.call('GET', KEYS[1]) \
                 local e = now if stored then e = math.max(now, tonumber(stored) + 1) end \
                 redis.call('SET', KEYS[1], string.format('%d', e), 'EX', ARGV[1]) \
                 if ARGV[2] then redis.call('PUBLISH', ARGV[2], 'e:' .. ARGV[4] .. ':' .. \
                   string.format('%d', e) .. ':' .. string.format('%d', math.ceil(e / 1000) + tonumber(ARGV[3]))) end \
                 return e"
            )),
            announce: None,
        })
    }

    /// Also announce every revocation on `channel` (`jwt-pubsub`); `access_ttl` in seconds.
    pub fn with_announce(mut self, channel: &str, access_ttl: u64) -> RevocationStore {
        self.announce = Some(Announce { channel: channel.into(), access_ttl });
        self
    }

    pub fn announce(&self) -> Option<&Announce> {
        self.announce.as_ref()
    }

    /// The store's one multiplexed connection (the login throttle shares it).
    pub fn conn(&self) -> &StoreConn {
        &self.conn
    }

    /// `x:<fid>`: a revoked family's marker (`jwt-pubsub`).
    pub fn family_revoked_key(&self, fid: &str) -> String {
        format!("{}x:{fid}", self.prefix)
    }

    /// A revoked family's entry: it can match a live access token for one access lifetime.
    fn family_entry(a: &Announce, fid: &str) -> Entry {
        Entry::Family { fid: fid.to_owned(), until: api::now_secs() + a.access_ttl + LEEWAY_SECS }
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    pub fn revoked_key(&self, jti: &str) -> String {
        format!("{}j:{jti}", self.prefix)
    }

    pub fn epoch_key(&self, uid: u64) -> String {
        format!("{}e:{uid}", self.prefix)
    }

    pub fn family_key(&self, fid: &str) -> String {
        format!("{}f:{fid}", self.prefix)
    }

    /// A new family for `uid` whose current refresh token is `refresh_jti`, living the store's
    /// family lifetime (the refresh lifetime, at most the absolute one) (one script: a `SET`,
    /// and the issue time read from Redis after the user's latest logout-all). Returns that time,
    /// in ms, for the login's tokens.
    pub async fn open_family(&self, uid: u64, fid: &str, refresh_jti: &str) -> Result<u64> {
        let mut conn = self.conn.clone();
        let mut call = self.open.key(self.family_key(fid));
        call.key(self.epoch_key(uid)).arg(refresh_jti).arg(self.refresh_ttl);
        let iat_ms: u64 = bounded(self.timeout, call.invoke_async(&mut conn)).await?;
        Ok(iat_ms)
    }

    /// The per-request check, exactly one `MGET` of the token's revocation, the user's epoch and
    /// the family: revoked if the `jti` is listed, the token is not newer than the epoch, or the
    /// family is revoked or gone.
    pub async fn check(&self, jti: &str, uid: u64, fid: &str, iat_ms: u64) -> Result<()> {
        let mut conn = self.conn.clone();
        let cmd = redis::cmd("MGET")
            .arg(self.revoked_key(jti))
            .arg(self.epoch_key(uid))
            .arg(self.family_key(fid))
            .clone();
        let got: (Option<String>, Option<u64>, Option<String>) =
            bounded(self.timeout, cmd.query_async(&mut conn)).await?;
        match got {
            (None, epoch, Some(family)) if epoch.is_none_or(|e| e < iat_ms) && family != REVOKED => Ok(()),
            _ => Err(Error::InvalidCredential),
        }
    }

    /// Rotate a family from `presented` to `next` (one script call). `ends_at` (Unix s) is the
    /// login's absolute end: the family's expiry is renewed for the refresh lifetime but never
    /// past it, and a family at or past it is not rotated (refused).
    pub async fn rotate(
        &self,
        uid: u64,
        fid: &str,
        presented: &str,
        iat_ms: u64,
        next: &str,
        ends_at: u64,
    ) -> Result<Rotation> {
        let left = ends_at.saturating_sub(api::now_secs());
        if left == 0 {
            return Ok(Rotation::Refused);
        }
        let mut conn = self.conn.clone();
        let mut call = self.rotate.key(self.family_key(fid));
        call.key(self.revoked_key(presented)).key(self.epoch_key(uid));
        call.arg(presented).arg(next).arg(iat_ms).arg(self.refresh_ttl.min(left));
        let announced = self.announce.as_ref().map(|a| {
            let entry = Self::family_entry(a, fid);
            call.key(self.family_revoked_key(fid));
            call.arg(&*a.channel).arg(a.access_ttl + LEEWAY_SECS).arg(entry.encode());
            entry
        });
        let r: i64 = bounded(self.timeout, call.invoke_async(&mut conn)).await?;
        Ok(match r {
            -1 => Rotation::ReuseDetected(announced),
            iat_ms if iat_ms > 0 => Rotation::Rotated { iat_ms: iat_ms as u64 },
            _ => Rotation::Refused,
        })
    }

    /// Revoke an access token (`jti`, `exp`) and its family's current refresh token; mark the
    /// family revoked (one script call). Returns the entries announced (none without announce).
    pub async fn logout(&self, jti: &str, exp: u64, fid: &str) -> Result<Vec<Entry>> {
        let ttl = (exp + LEEWAY_SECS).saturating_sub(api::now_secs()).max(1);
        let mut conn = self.conn.clone();
        let mut call = self.logout.key(self.revoked_key(jti));
        call.key(self.family_key(fid));
        call.arg(ttl).arg(LEEWAY_SECS).arg(format!("{}j:", self.prefix));
        let mut entries = Vec::new();
        if let Some(a) = &self.announce {
            entries.push(Entry::Jti { jti: jti.to_owned(), until: exp + LEEWAY_SECS });
            entries.push(Self::family_entry(a, fid));
            call.key(self.family_revoked_key(fid));
            call.arg(&*a.channel).arg(a.access_ttl + LEEWAY_SECS).arg(message(&entries));
        }
        bounded(self.timeout, call.invoke_async::<i64>(&mut conn)).await.map(|_| entries)
    }

    /// Log many users in at once (preloading): one family per user in one pipeline, through the
    /// same keys and token format as a login. Returns each user's access token, in order.
    pub async fn issue_many(&self, codec: &Codec, uids: &[u64]) -> Result<Vec<String>> {
        let now = now_ms();
        let mut pipe = redis::pipe();
        let mut tokens = Vec::with_capacity(uids.len());
        for &uid in uids {
            let (fid, refresh_jti) = (new_sid(), new_sid());
            pipe.cmd("SET")
                .arg(self.family_key(&fid))
                .arg(&refresh_jti)
                .arg("EX")
                .arg(self.refresh_ttl)
                .ignore();
            tokens.push(token(codec, uid, TokenType::Access, &fid, new_sid(), now, now / 1000)?);
        }
        let mut conn = self.conn.clone();
        pipe.query_async::<()>(&mut conn).await.map_err(Error::Redis)?;
        Ok(tokens)
    }

    /// Revoke every token of `uid` issued until now: one script sets the user's epoch to Redis's
    /// clock (never lowering a later one) and, with announcements on, publishes it in the same
    /// atomic step. Returns the entry announced, if any.
    pub async fn logout_all(&self, uid: u64) -> Result<Option<Entry>> {
        let mut conn = self.conn.clone();
        let mut call = self.logout_all.key(self.epoch_key(uid));
        call.arg(self.refresh_ttl + LEEWAY_SECS);
        if let Some(a) = &self.announce {
            call.arg(&*a.channel).arg(a.access_ttl + LEEWAY_SECS).arg(uid);
        }
        let epoch_ms: u64 = bounded(self.timeout, call.invoke_async(&mut conn)).await?;
        Ok(self.announce.as_ref().map(|a| Entry::Epoch {
            uid,
            epoch_ms,
            until: epoch_entry_until(epoch_ms, a.access_ttl),
        }))
    }

    /// Every stored revocation (`jwt-pubsub`'s reload): `j:`, `x:` and `e:` keys under the prefix,
    /// found by `SCAN`, read with their remaining lifetime in pipelines of `PTTL` (+ `GET` for
    /// epochs). An entry is kept in memory at most one access lifetime (+ leeway): no access token
    /// it could match lives longer.
    pub async fn stored_revocations(&self, access_ttl: u64) -> Result<Vec<Entry>> {
        let mut conn = self.conn.clone();
        let pattern = format!("{}[jxe]:*", glob_escape(&self.prefix));
        let now = api::now_secs();
        let cap = access_ttl + LEEWAY_SECS;
        let mut out = Vec::new();
        let mut cursor = 0u64;
        loop {
            let cmd =
                redis::cmd("SCAN").arg(cursor).arg("MATCH").arg(&pattern).arg("COUNT").arg(1000).clone();
            let (next, keys): (u64, Vec<String>) = bounded(self.timeout, cmd.query_async(&mut conn)).await?;
            if !keys.is_empty() {
                let mut pipe = redis::pipe();
                for k in &keys {
                    pipe.cmd("PTTL").arg(k).cmd("GET").arg(k);
                }
                let got: Vec<(i64, Option<u64>)> = bounded(self.timeout, pipe.query_async(&mut conn)).await?;
                for (key, (pttl, value)) in keys.iter().zip(got) {
                    let Some(rest) = key.strip_prefix(&*self.prefix) else { continue };
                    if pttl == -2 {
                        continue; // expired between SCAN and PTTL
                    }
                    let left = if pttl < 0 { cap } else { (pttl as u64).div_ceil(1000).min(cap) };
                    let until = now + left;
                    let (kind, id) = rest.split_at(2);
                    match kind {
                        "j:" => out.push(Entry::Jti { jti: id.to_owned(), until }),
                        "x:" => out.push(Entry::Family { fid: id.to_owned(), until }),
                        "e:" => {
                            if let (Ok(uid), Some(epoch_ms)) = (id.parse(), value) {
                                out.push(Entry::Epoch {
                                    uid,
                                    epoch_ms,
                                    until: epoch_entry_until(epoch_ms, access_ttl),
                                });
                            }
                        }
                        _ => {}
                    }
                }
            }
            if next == 0 {
                return Ok(out);
            }
            cursor = next;
        }
    }
}

/// An epoch can match live access tokens until one access lifetime (+ leeway) after it.
fn epoch_entry_until(epoch_ms: u64, access_ttl: u64) -> u64 {
    epoch_ms.div_ceil(1000) + access_ttl + LEEWAY_SECS
}

/// `s` with Redis glob metacharacters escaped, for `SCAN MATCH`.
fn glob_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Sign a token of family `fid` with its own `jti`, issued at `now_ms`, of a login made at
/// `auth_time` (Unix s: the refresh token carries it; no `exp` goes past the absolute lifetime).
pub fn token(
    c: &Codec,
    uid: u64,
    typ: TokenType,
    fid: &str,
    jti: String,
    now_ms: u64,
    auth_time: u64,
) -> Result<String> {
    let (aud, ttl) = match typ {
        TokenType::Access => (ACCESS_AUDIENCE, c.access_ttl()),
        TokenType::Refresh => (REFRESH_AUDIENCE, c.refresh_ttl()),
    };
    let iat = now_ms / 1000;
    c.sign(&Claims {
        sub: uid.to_string(),
        iat,
        exp: c.capped_exp(iat, ttl, auth_time),
        iss: ISSUER.to_owned(),
        aud: aud.to_owned(),
        typ,
        jti: Some(jti),
        fid: Some(fid.to_owned()),
        iat_ms: Some(now_ms),
        auth_time: (typ == TokenType::Refresh).then_some(auth_time),
    })
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}
