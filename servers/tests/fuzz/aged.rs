//! Credentials past the maximum age (issue 22, findings 3 and 4): what a client may still hold
//! after its login's absolute lifetime (`--max-age`) ran out, minted the way the server issued
//! them. Cases replay them, exact or edited, and none may ever be accepted — not by `/api/me`, not
//! by a refresh, which is what used to make a login live forever.
//!
//! - session schemes: a record whose login time (`iat`) is past the maximum age, still in Redis
//!   (requests keep sliding its idle expiry; only the absolute lifetime ends it);
//! - `jwt`, `jwt-revocable`, `jwt-pubsub`: a refresh token of such a login whose `exp` (capped at
//!   the end of the absolute lifetime) passed 2 s ago, inside the verifier's 5 s leeway, so only
//!   the maximum-age check refuses it; the revocable variants' family is still in Redis.
//! - `cookie`: none — a sealed cookie's `exp` never goes past the absolute lifetime and has no
//!   leeway, so an aged cookie is an expired one (`tests/lifetime.rs` times the real chain).

use authbench_servers::api;
use authbench_servers::jwt::{Codec, TokenType};
use authbench_servers::jwt_revocable::{RevocationStore, token};
use authbench_servers::session::SessionStore;

/// Aged credentials minted per scheme (each for a different pool user).
pub const PER_SCHEME: u64 = 3;

/// A login `max_age` + 2 s ago, as Unix seconds.
fn aged_login(max_age: u64) -> u64 {
    api::now_secs() - max_age - 2
}

/// A session of `uid` logged in past the store's maximum age, its record still in Redis.
pub async fn session(store: &SessionStore, url: &str, uid: u64) -> String {
    let sid = store.layout().new_session_id(uid);
    let record = serde_json::json!({ "uid": uid, "iat": aged_login(store.max_age_secs()) }).to_string();
    let mut conn = redis::Client::open(url).unwrap().get_multiplexed_async_connection().await.unwrap();
    let _: () = redis::cmd("SET")
        .arg(store.session_key(&sid))
        .arg(record)
        .arg("EX")
        .arg(900)
        .query_async(&mut conn)
        .await
        .unwrap();
    sid
}

/// A plain `jwt` refresh token of such a login.
pub fn refresh_token(codec: &Codec, uid: u64) -> String {
    let auth_time = aged_login(codec.max_age());
    codec.issue_for(uid, TokenType::Refresh, api::now_secs(), auth_time).unwrap()
}

/// A `jwt-revocable`/`jwt-pubsub` refresh token of such a login, its family current in Redis.
pub async fn family_refresh_token(store: &RevocationStore, codec: &Codec, uid: u64) -> String {
    let (fid, jti) = (authbench_servers::id::new_sid(), authbench_servers::id::new_sid());
    let iat_ms = store.open_family(uid, &fid, &jti).await.unwrap();
    token(codec, uid, TokenType::Refresh, &fid, jti, iat_ms, aged_login(codec.max_age())).unwrap()
}
