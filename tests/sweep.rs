//! The session sweep as a library call against a real `authbench serve` and a private
//! redis-server: a small sweep (0, 2k, 4k) stores exactly one session per user per level, and its
//! uniformly drawn lookups touch at least 90% of the stored sessions at the top level — by the
//! generator's distinct-id count and by Redis's own `keyspace_hits`.

mod common;

use std::io::BufRead;
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use authbench::compare::keys::IssueKeys;
use authbench::compare::session_levels::Sweep;
use authbench::compare::state_store::{Owned, Store, StorePlan};
use authbench::compare::store_probe::RestSignal;
use authbench_loadgen::Endpoint;
use authbench_servers::SchemeKind;
use common::{BIN, RedisServer, ServeArgs, require_redis};
use tokio_util::sync::CancellationToken;

struct Child_(Child);

impl Drop for Child_ {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `authbench serve <scheme>` with `users` users, these keys and (session) this Redis + prefix.
fn serve(
    scheme: &str,
    users: u64,
    keys: &tempfile::TempDir,
    redis: &str,
    prefix: &str,
) -> (Child_, SocketAddr) {
    let key = keys.path().join(if scheme == "jwt" { "jwt.key" } else { "cookie.key" });
    let mut args = ServeArgs { users, ..common::serve(scheme) };
    if scheme == "session" {
        (args.redis_url, args.redis_prefix) = (Some(redis.to_owned()), Some(prefix.to_owned()));
    } else {
        args.key_file = Some(key);
    }
    let mut child = Command::new(BIN)
        .args(args.to_argv())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let addr = authbench_contract::listening::parse(&line).expect("listening line");
    (Child_(child), addr)
}

fn issue_keys(dir: &tempfile::TempDir) -> IssueKeys {
    let cookie = [7u8; 64];
    let jwt = [0x99u8; 48];
    std::fs::write(dir.path().join("cookie.key"), cookie).unwrap();
    std::fs::write(dir.path().join("jwt.key"), jwt).unwrap();
    let ttl = Duration::from_secs(900);
    IssueKeys {
        cookie: authbench_servers::cookie::Sealer::from_key_file(&cookie).unwrap(),
        jwt: authbench_servers::jwt::Codec::from_key_file(
            authbench_servers::JwtAlg::Hs256,
            &jwt,
            ttl,
            ttl * 96,
        )
        .unwrap(),
    }
}

/// The compare store of an existing (not compare's own) Redis.
fn store(rt: &tokio::runtime::Runtime, redis: &RedisServer) -> Store {
    rt.block_on(Store::connect(&StorePlan::Redis(redis.url()), &Owned::Nothing)).unwrap().0
}

#[test]
fn small_sweep_stores_one_session_per_user_and_looks_up_nearly_all() {
    require_redis();
    let redis = RedisServer::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let keys = issue_keys(&dir);
    let prefix = "authbench:test-sweep:";
    let (server, addr) = serve("session", 4_000, &dir, &redis.url(), prefix);
    // The largest level before a smaller one, as a repeat's random order may run them: each level
    // still holds exactly its own sessions.
    let levels = [0, 4_000, 2_000];
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let store = store(&rt, &redis);
    let sweep = Sweep {
        scheme: SchemeKind::Session,
        server_addr: addr,
        server_pid: server.0.id(),
        replica_pids: &[],
        proxy_pid: None,
        replica_addrs: &[addr],
        store: &store,
        prefix,
        keys: &keys,
        levels: &levels,
        // 12,000 uniform draws over 4,000 sessions: 95% expected coverage.
        rate: 4_000.0,
        duration: Duration::from_secs(3),
        vus: 50,
        out_dir: dir.path(),
    };
    let mut announced = Vec::new();
    let result = rt.block_on(sweep.run(&CancellationToken::new(), |n| announced.push(n))).unwrap();
    assert_eq!(announced, levels);
    assert_eq!(result.len(), 3);

    for level in &result {
        let n = level.sessions;
        let s = &level.summary;
        assert_eq!(s.total.errors, 0, "level {n}: errors");
        // Exactly one session per user: N session records and N user indexes, nothing else.
        assert_eq!(level.redis_keys, Some(2 * n), "level {n}: keys at rest");
        assert_eq!(level.rest, Some(RestSignal::NoRehashing), "level {n}");
        let me = s.endpoints[&Endpoint::Me].count;
        assert!(me > 0, "level {n}: no lookups");
        // One GETEX per /api/me, counted by Redis over exactly this level (plus the few still in
        // flight when the run stopped, at most one per connection).
        let calls = level.redis_lookup_calls;
        assert!((me..=me + 50).contains(&calls), "level {n}: {calls} lookups for {me} requests");
        assert!(level.redis_usec_per_call.is_some_and(|u| u > 0.0), "level {n}");
        if n > 0 {
            assert!(level.redis_bytes_session_record.is_some_and(|b| b > 50.0), "level {n}");
            assert!(level.redis_bytes_user_index.is_some_and(|b| b > 50.0), "level {n}");
            assert!(level.distinct_sessions_used <= n);
            // Only the preloaded sessions were used: nobody logged in.
            assert_eq!(s.endpoints[&Endpoint::Login].count, 0, "level {n}: logins");
        }
    }
    let top = &result[1];
    let covered = top.distinct_sessions_used as f64 / 4_000.0;
    assert!(covered >= 0.9, "top level touched only {:.1}% of the sessions", covered * 100.0);
    // Redis agrees: at least as many successful lookups as distinct ids drawn.
    assert!(top.redis_keyspace_hits >= top.distinct_sessions_used, "{} hits", top.redis_keyspace_hits);

    // The last level's sessions are left in Redis: user i holds exactly one.
    let mut conn = redis::Client::open(redis.url()).unwrap().get_connection().unwrap();
    // User indexes are `<prefix>{<tag>}u:<uid>` (the tag is keyed: find them by pattern).
    let indexes: Vec<String> = redis::cmd("KEYS").arg(format!("{prefix}{{*}}u:*")).query(&mut conn).unwrap();
    let mut uids: Vec<u64> =
        indexes.iter().map(|k| k.rsplit_once("}u:").unwrap().1.parse().unwrap()).collect();
    uids.sort_unstable();
    assert_eq!(uids, (1..=2_000u64).collect::<Vec<_>>(), "one index per user");
    let mut pipe = redis::pipe();
    for key in &indexes {
        // A sorted set scored by login time since 6d51131.
        pipe.cmd("ZCARD").arg(key);
    }
    let cards: Vec<u64> = pipe.query(&mut conn).unwrap();
    assert!(cards.iter().all(|&c| c == 1), "a user without exactly one session");
    drop(server);
}

#[test]
fn stateless_sweep_sends_only_credentials_the_server_accepts() {
    require_redis();
    let redis = RedisServer::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let keys = issue_keys(&dir);
    let (server, addr) = serve("jwt", 2_000, &dir, &redis.url(), "authbench:test-sweep-jwt:");
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let store = store(&rt, &redis);
    let sweep = Sweep {
        scheme: SchemeKind::Jwt,
        server_addr: addr,
        server_pid: server.0.id(),
        replica_pids: &[],
        proxy_pid: None,
        replica_addrs: &[addr],
        store: &store,
        prefix: "authbench:test-sweep-jwt:",
        keys: &keys,
        levels: &[2_000],
        rate: 2_000.0,
        duration: Duration::from_secs(2),
        vus: 20,
        out_dir: dir.path(),
    };
    let result = rt.block_on(sweep.run(&CancellationToken::new(), |_| {})).unwrap();
    let level = &result[0];
    assert_eq!(level.summary.total.errors, 0, "every drawn JWT is accepted");
    assert!(level.summary.endpoints[&Endpoint::Me].count >= 3_000);
    assert_eq!(level.redis_keys, Some(0), "jwt stores nothing");
    assert_eq!(level.redis_lookup_calls, 0);
    assert_eq!(level.redis_usec_per_call, None);
    assert!(level.distinct_sessions_used > 1_000, "{}", level.distinct_sessions_used);
}
