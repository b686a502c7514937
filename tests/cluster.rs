//! `authbench serve session --redis-cluster`: a private 3-primary/3-replica Redis Cluster, the real
//! server binary, one command per authenticated request summed over the primaries, logout and
//! logout-all in one slot, a primary killed and the server recovering by itself, and the revoked
//! session that comes back after a failover — with and without `--durable-logout`.
//!
//! One cluster for the whole file (one test function, stages in order): starting one takes about
//! a second, a failover a few.

mod common;

use std::time::{Duration, Instant};

use authbench_procs::redis_cluster::RedisCluster;
use authbench_servers::session::SessionStore;
use authbench_servers::session_key::{TAG_LEN, key_slot};
use authbench_servers::store_target::StoreTarget;
use common::{Resp, ServeArgs, Server, require_redis};

fn me(server: &Server, cookie: &str) -> Resp {
    server.get("/api/me", &[("Cookie", cookie)])
}

/// The slot of the session behind `cookie` (`ab_sid=<tag><random>`).
fn slot_of(cookie: &str) -> u16 {
    let sid = cookie.split_once('=').unwrap().1;
    key_slot(&format!("{{{}}}", &sid[..TAG_LEN]))
}

/// Sum of `cmdstat_<name>` calls over the cluster's live primaries, per command.
fn commandstats(cluster: &RedisCluster, primaries: &[u16]) -> std::collections::BTreeMap<String, u64> {
    let mut total = std::collections::BTreeMap::new();
    for &port in primaries {
        let v = cluster.query(port, redis::cmd("INFO").arg("commandstats")).unwrap();
        let info: String = redis::from_redis_value(v).unwrap();
        for (name, calls) in authbench_procs::redis_server::parse_commandstats(&info) {
            *total.entry(name).or_insert(0) += calls;
        }
    }
    total
}

/// Log in users from `from` on until one's session lives on a primary for which `pick` holds.
fn login_on(
    server: &Server,
    cluster: &RedisCluster,
    from: u64,
    pick: impl Fn(u16) -> bool,
) -> (u64, String, u16) {
    for user in from..from + 200 {
        // Right after a failover a server that has not talked to the cluster since may answer
        // 503 until its client has the new slot map: poll, within a bound.
        let deadline = Instant::now() + Duration::from_secs(15);
        let body = format!(r#"{{"username":"user{user}","password":"password{user}"}}"#);
        let resp = loop {
            let r = server.post("/auth/login", &[("Content-Type", "application/json")], Some(&body));
            if r.status != 503 || Instant::now() > deadline {
                break r;
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        assert_eq!(resp.status, 200, "login user{user}: {}", resp.body);
        let cookie = resp.cookie_pair();
        let primary = cluster.primary_of_slot(slot_of(&cookie)).unwrap();
        if pick(primary) {
            return (user, cookie, primary);
        }
    }
    panic!("no user from {from} landed on a wanted primary");
}

/// The deterministic lost-delete sequence on `primary`: its replica caught up, stopped and cut
/// off (so the delete cannot reach it, not even through socket buffers), `logout` sent, the
/// primary killed, the replica resumed and promoted. Returns the logout's status.
fn logout_then_failover(cluster: &mut RedisCluster, server: &Server, cookie: &str, primary: u16) -> u16 {
    let replica = cluster.cut_off_replica(primary).unwrap();
    let status = server.post("/auth/logout", &[("Cookie", cookie)], None).status;
    let took = cluster.fail_over(primary, replica).expect("replica promoted, cluster ok");
    assert_eq!(cluster.primary_of_slot(slot_of(cookie)).unwrap(), replica, "the replica serves the slot");
    eprintln!("failover of {primary} to {replica}: {:.1} s after SIGCONT", took.as_secs_f64());
    status
}

/// Poll until `cookie` gets an answer that is not 503 (the server's client found the new primary).
fn settled(server: &Server, cookie: &str) -> Resp {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let r = me(server, cookie);
        if r.status != 503 || Instant::now() > deadline {
            return r;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn session_store_on_a_redis_cluster() {
    require_redis();
    let mut cluster = RedisCluster::start().expect("start a 3+3 Redis Cluster");
    // Issue 22, finding 9: every node has the cluster's generated password (replicas replicate
    // with it: the cluster came up); a client without it is refused.
    for node in cluster.nodes() {
        let unauthenticated = redis::Client::open(format!("redis://127.0.0.1:{}/", node.port())).unwrap();
        let refused = unauthenticated
            .get_connection()
            .and_then(|mut c| redis::cmd("GET").arg("k").query::<Option<String>>(&mut c));
        assert!(
            refused.is_err_and(|e| e.to_string().contains("NOAUTH")),
            "node {} answered without a password",
            node.port()
        );
    }
    let list = cluster.url_list();
    let on_cluster = |prefix: &str| ServeArgs {
        redis_cluster: Some(list.clone()),
        redis_prefix: Some(prefix.to_owned()),
        ..common::serve("session")
    };
    let plain = Server::spawn(&on_cluster("t:plain:"));
    let durable = Server::spawn(&ServeArgs { durable_logout: true, ..on_cluster("t:durable:") });

    // One authenticated request = one command, summed over the primaries.
    let cookie = plain.login(1).cookie_pair();
    let sid = cookie.split_once('=').unwrap().1;
    assert_eq!(sid.len(), 48, "tag + random part: {sid}");
    let primaries = cluster.live_primaries().unwrap();
    assert_eq!(primaries.len(), 3);
    let before = commandstats(&cluster, &primaries);
    for _ in 0..20 {
        assert_eq!(me(&plain, &cookie).status, 200);
    }
    let after = commandstats(&cluster, &primaries);
    let delta: std::collections::BTreeMap<&str, u64> = after
        .iter()
        .map(|(k, v)| (k.as_str(), v - before.get(k).copied().unwrap_or(0)))
        // The cluster's own traffic (a replica's REPLCONF ACK, pings, our INFO) is not a request's.
        .filter(|&(k, v)| v > 0 && !matches!(k, "info" | "replconf" | "ping" | "cluster" | "command"))
        .collect();
    assert_eq!(delta, [("getex", 20)].into_iter().collect(), "commands for 20 requests over all primaries");

    // A user's sessions share a slot; logout ends one, logout-all every one, across slots of
    // other users untouched.
    let a = plain.login(2).cookie_pair();
    let b = plain.login(2).cookie_pair();
    let c = plain.login(2).cookie_pair();
    let other = plain.login(3).cookie_pair();
    assert_eq!(slot_of(&a), slot_of(&b));
    assert_eq!(plain.post("/auth/logout", &[("Cookie", &a)], None).status, 204);
    assert_eq!(me(&plain, &a).status, 401);
    assert_eq!(me(&plain, &b).status, 200);
    assert_eq!(plain.post("/auth/logout-all", &[("Cookie", &b)], None).status, 204);
    assert_eq!(me(&plain, &b).status, 401);
    assert_eq!(me(&plain, &c).status, 401);
    assert_eq!(me(&plain, &other).status, 200);
    // Preloading goes one pipeline per slot (a pipeline never spans slots): 500 users' sessions
    // through the harness's bulk path, each then accepted by the server on the same prefix.
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let preloaded = rt.block_on(async {
        let target = StoreTarget::cluster_from_list(&list).unwrap();
        let store =
            SessionStore::connect_bulk_to(&target, "t:plain:", Duration::from_secs(600)).await.unwrap();
        store.create_many(500..1000).await.unwrap()
    });
    assert_eq!(preloaded.len(), 500);
    let spread: std::collections::HashSet<u16> =
        preloaded.iter().map(|sid| slot_of(&format!("ab_sid={sid}"))).collect();
    assert!(spread.len() > 400, "500 users over {} slots", spread.len());
    for sid in preloaded.iter().step_by(50) {
        assert_eq!(me(&plain, &format!("ab_sid={sid}")).status, 200, "preloaded session {sid}");
    }
    // Another server on the same cluster and prefix accepts the same credential (shared tag key).
    let twin = Server::spawn(&on_cluster("t:plain:"));
    assert_eq!(me(&twin, &other).status, 200);
    drop(twin);

    // A healthy durable logout: WAIT 1 is answered by the replica.
    let d = durable.login(4).cookie_pair();
    assert_eq!(durable.post("/auth/logout", &[("Cookie", &d)], None).status, 204);
    assert_eq!(me(&durable, &d).status, 401);

    // Without --durable-logout: the logout answers 204 and the session comes back after the
    // failover (the revoked session that comes back: count 1).
    let (_, revoked, p1) = login_on(&plain, &cluster, 10, |_| true);
    let (_, bystander, _) = login_on(&plain, &cluster, 300, |p| p == p1);
    let status = logout_then_failover(&mut cluster, &plain, &revoked, p1);
    assert_eq!(status, 204, "the logout answered 2xx");
    // The server recovers by itself: a session on the failed primary's slots is served again.
    assert_eq!(settled(&plain, &bystander).status, 200, "server recovered without a restart");
    assert_eq!(me(&plain, &revoked).status, 200, "the revoked session came back: the delete was lost");

    // With --durable-logout: the same sequence answers 503 (WAIT timed out), so no logout that
    // answered 2xx comes back (count 0); the client knows to retry, and the retry holds.
    let (_, revoked, p2) = login_on(&durable, &cluster, 600, |p| {
        p != p1 && primaries.contains(&p) && cluster.replica_of(p).is_ok()
    });
    let status = logout_then_failover(&mut cluster, &durable, &revoked, p2);
    assert_eq!(status, 503, "a logout whose WAIT timed out is not reported as done");
    assert_eq!(settled(&durable, &revoked).status, 200, "the session is back, but its logout said 503");
    // The retry deletes on the new primary, which has no replica left to acknowledge: still 503,
    // the honest answer, yet the session is gone from the primary.
    assert_eq!(durable.post("/auth/logout", &[("Cookie", &revoked)], None).status, 503);
    assert_eq!(me(&durable, &revoked).status, 401);
    // The plain server still works on every slot.
    // (It was idle through the second failover: its first calls may answer 503 until its client
    // is rebuilt on the new slot map; login_on polls for that, within 15 s.)
    let (_, fresh, _) = login_on(&plain, &cluster, 7, |_| true);
    assert_eq!(settled(&plain, &fresh).status, 200);
}
