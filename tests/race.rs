//! Logout-all against concurrency (issue 22): for every scheme that can log out everywhere, a real
//! server on a private Redis, 200 trials each of a thief refreshing two stolen sessions as fast as
//! it can while the victim logs out everywhere, and of a login loop racing logout-all. No
//! credential logout-all had to end may be accepted 100 ms after its 204, and no answer is a 5xx.
//!
//! Before the fix (934d605) the session schemes lost about a third of the thief trials: refresh's
//! `GETDEL` and its `MULTI` were two steps, and a logout-all between them missed the new id.

mod common;

use std::time::Duration;

use authbench::reliability::race::{self, Race};
use common::{RedisServer, ServeArgs, Server, require_redis};

const TRIALS: u64 = 200;
const CONCURRENCY: usize = 20;

fn run(scheme: &str) {
    require_redis();
    let redis = RedisServer::start().unwrap();
    let url = redis.url();
    // 1000 users: the thief race uses 1..=200, the login race 501..=700.
    let server = Server::spawn(&ServeArgs {
        redis_url: Some(url.clone()),
        store_timeout: Duration::from_secs(5),
        ..common::serve(scheme)
    });
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    for (race, first_user) in [(Race::RefreshingThief, 1), (Race::Login, 501)] {
        let out = rt.block_on(race::run(server.addr, race, TRIALS, CONCURRENCY, first_user, |_| {}));
        eprintln!("{scheme} {}: {out:?}", race.as_str());
        assert_eq!(out.trials, TRIALS);
        assert_eq!(out.broken, 0, "{scheme} {}: trials that could not run: {out:?}", race.as_str());
        assert_eq!(out.server_errors, 0, "{scheme} {}: 5xx answers: {out:?}", race.as_str());
        assert_eq!(out.survived, 0, "{scheme} {}: credentials survived logout-all: {out:?}", race.as_str());
        assert_eq!(
            out.refused_after,
            0,
            "{scheme} {}: logins after logout-all refused: {out:?}",
            race.as_str()
        );
        assert!(out.thief_ops >= TRIALS, "{scheme} {}: the thief hardly ran: {out:?}", race.as_str());
    }
}

#[test]
fn session_logout_all_ends_a_refreshing_thief_and_racing_logins() {
    run("session");
}

#[test]
fn session_cached_logout_all_ends_a_refreshing_thief_and_racing_logins() {
    run("session-cached");
}

#[test]
fn session_tracked_logout_all_ends_a_refreshing_thief_and_racing_logins() {
    run("session-tracked");
}

#[test]
fn jwt_revocable_logout_all_ends_a_refreshing_thief_and_racing_logins() {
    run("jwt-revocable");
}

#[test]
fn jwt_pubsub_logout_all_ends_a_refreshing_thief_and_racing_logins() {
    run("jwt-pubsub");
}
