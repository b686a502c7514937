//! What every phase of one comparison shares: the plan, the store (one Redis or a cluster, whether
//! it is ours), the run's key prefix and key material, the progress bar — and the arguments each
//! `authbench serve` child is started with.

use std::time::Duration;

use anyhow::Result;
use authbench_servers::SchemeKind;

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
            args.extend(self.store.server_args());
            args.extend(["--redis-prefix".to_owned(), prefix.to_owned()]);
        }
        if let Some(workers) = self.plan.workers {
            args.extend(["--workers".to_owned(), workers.to_string()]);
        }
        if let Some(ttl) = ttl {
            args.extend(["--ttl".to_owned(), format!("{}s", ttl.as_secs().max(1))]);
        }
        args
    }
}
