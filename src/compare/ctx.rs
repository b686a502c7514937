//! What every phase of one comparison shares: the plan, the store (one Redis or a cluster, whether
//! it is ours), the run's key prefix and key material, the progress bar — and the arguments each
//! `authbench serve` child is started with.

use std::time::Duration;

use anyhow::Result;
use authbench_servers::{SchemeKind, ServeArgs};

use super::keys::Keys;
use super::plan::Plan;
use super::progress::Progress;
use super::store::{Owned, Store};

/// Shared state of one comparison.
pub struct Ctx {
    pub plan: Plan,
    /// One Redis or a Redis Cluster ([`Store::owned`]: started by compare, so strict command
    /// counts hold).
    pub store: Store,
    /// Key prefix of this comparison in Redis.
    pub prefix: String,
    pub keys: Keys,
    pub progress: Progress,
    /// Each scheme's last knee, where its next repeat starts the saturation search.
    pub knees: super::saturation::Knees,
}

impl Ctx {
    /// Connect to the store (`--redis-url` / `--redis-cluster-url`, else what `owned` started),
    /// generate keys, start the progress bar. Also returns Redis's version for `environment.json`.
    pub async fn start(plan: Plan, owned: &Owned) -> Result<(Ctx, Option<String>)> {
        let (store, redis_version) = Store::connect(&plan.store, owned).await?;
        let run_id = format!("{:x}", plan.seed & 0xffff_ffff);
        let ctx = Ctx {
            progress: Progress::new(plan.total_seconds(), plan.progress),
            prefix: format!("authbench:cmp:{run_id}:"),
            keys: Keys::generate()?,
            knees: Default::default(),
            store,
            plan,
        };
        Ok((ctx, redis_version))
    }

    /// Server options shared by every run of a scheme; `ttl` in whole seconds (at least 1).
    pub fn server_args(&self, scheme: SchemeKind, prefix: &str, ttl: Option<Duration>) -> ServeArgs {
        let mut args = ServeArgs { fast_login: true, users: self.plan.users, ..ServeArgs::new(scheme) };
        args.key_file = match scheme.parent() {
            SchemeKind::Cookie => Some(self.keys.cookie_file.clone()),
            SchemeKind::Jwt => Some(self.keys.jwt_file.clone()),
            _ => None,
        };
        if scheme.uses_store() {
            self.store.point(&mut args);
            args.redis_prefix = Some(prefix.to_owned());
        }
        args.workers = self.plan.workers;
        if let Some(ttl) = ttl {
            args.ttl = Duration::from_secs(ttl.as_secs().max(1));
        }
        args
    }
}
