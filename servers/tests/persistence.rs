//! The private redis-server's persistence (`--redis-persistence`): with AOF (`appendfsync
//! everysec`), a write Redis answered survives a SIGKILL of the process and a restart on the same
//! port and directory — deletes included, so nothing logged out comes back; without persistence
//! the restart is empty. (The same under a session load, with sessions and logouts: `authbench
//! faults`' `redis_killed_none` / `redis_killed_aof`.)

use authbench_procs::redis_server::{Persistence, RedisServer};

fn get(redis: &RedisServer, key: &str) -> Option<String> {
    let mut conn = redis::Client::open(redis.url()).unwrap().get_connection().unwrap();
    redis::cmd("GET").arg(key).query(&mut conn).unwrap()
}

#[test]
fn aof_keeps_answered_writes_and_deletes_across_a_sigkill_none_keeps_nothing() {
    assert!(authbench_procs::redis_server::find_binary().is_some(), "redis-server is required");
    for (persistence, kept) in [(Persistence::Aof, true), (Persistence::None, false)] {
        let mut redis = RedisServer::start_with(persistence).unwrap();
        let (url, dir) = (redis.url(), redis.dir().to_owned());
        let mut conn = redis::Client::open(url.as_str()).unwrap().get_connection().unwrap();
        let _: () = redis::cmd("SET").arg("kept").arg("1").query(&mut conn).unwrap();
        let _: () = redis::cmd("SET").arg("deleted").arg("1").query(&mut conn).unwrap();
        let _: () = redis::cmd("DEL").arg("deleted").query(&mut conn).unwrap();
        redis.kill();
        redis.restart().unwrap();
        assert_eq!(
            (redis.url(), redis.dir().to_owned()),
            (url.clone(), dir),
            "same port, password, directory"
        );
        assert_eq!(get(&redis, "kept").is_some(), kept, "{persistence:?}: a write answered before the kill");
        assert_eq!(
            get(&redis, "deleted"),
            None,
            "{persistence:?}: a delete answered before the kill came undone"
        );
    }
}
