//! What every phase of one comparison shares: the plan, Redis (URL, INFO connection, whether it
//! is ours), the run's key prefix and key material, the progress bar — and the arguments each
//! `authbench serve` child is started with.

use std::time::Duration;

use anyhow::{Context, Result, bail};
use authbench_servers::SchemeKind;

use super::keys::Keys;
use super::plan::Plan;
use super::progress::Progress;
use crate::harness::redis::{RedisInfo, RedisServer};

/// Shared state of one comparison.
pub struct Ctx {
    pub plan: Plan,
    pub redis_url: String,
    pub redis_info: RedisInfo,
    /// True when compare started the redis-server itself (then strict command counts hold).
    pub owns_redis: bool,
    /// Key prefix of this comparison in Redis.
    pub prefix: String,
    pub keys: Keys,
    pub progress: Progress,
    /// Each scheme's last knee, where its next repeat starts the saturation search.
    pub knees: super::saturation::Knees,
}

impl Ctx {
    /// Connect to Redis (`--redis-url`, else `own`), generate keys, start the progress bar.
    /// Also returns Redis's version for `environment.json`.
    pub async fn start(plan: Plan, own: Option<&RedisServer>) -> Result<(Ctx, Option<String>)> {
        let redis_url = match (&plan.redis_url, own) {
            (Some(url), _) => url.clone(),
            (None, Some(r)) => r.url(),
            (None, None) => bail!("no Redis"),
        };
        let redis_info = RedisInfo::connect(&redis_url).await.with_context(
            || "cannot reach Redis (pass a reachable --redis-url, or omit it to start a private redis-server)",
        )?;
        let redis_version = redis_info.version().await.ok();
        let run_id = format!("{:x}", plan.seed & 0xffff_ffff);
        let ctx = Ctx {
            progress: Progress::new(plan.total_seconds(), plan.progress),
            owns_redis: own.is_some(),
            prefix: format!("authbench:cmp:{run_id}:"),
            keys: Keys::generate()?,
            knees: Default::default(),
            redis_url,
            redis_info,
            plan,
        };
        Ok((ctx, redis_version))
    }

    /// Server arguments shared by every run of a scheme.
    pub fn server_args(&self, scheme: SchemeKind, prefix: &str, ttl: Option<Duration>) -> Vec<String> {
        let mut args = vec!["--fast-login".to_owned(), "--users".to_owned(), self.plan.users.to_string()];
        match scheme.parent() {
            SchemeKind::Cookie => {
                args.extend(["--key-file".to_owned(), self.keys.cookie_file.display().to_string()])
            }
            SchemeKind::Jwt => {
                args.extend(["--key-file".to_owned(), self.keys.jwt_file.display().to_string()])
            }
            _ => {}
        }
        if scheme.uses_store() {
            args.extend([
                "--redis-url".to_owned(),
                self.redis_url.clone(),
                "--redis-prefix".to_owned(),
                prefix.to_owned(),
            ]);
        }
        if let Some(ttl) = ttl {
            args.extend(["--ttl".to_owned(), format!("{}s", ttl.as_secs().max(1))]);
        }
        args
    }
}
