//! What every phase of one comparison shares: the plan, the store (one Redis or a cluster, whether
//! it is ours), the run's key prefix and key material, the progress bar — and the arguments each
//! `authbench serve` child is started with.

use std::time::Duration;

use anyhow::Result;
use authbench_servers::{SchemeKind, ServeArgs};

use super::keys::Keys;
use super::plan::Plan;
use super::progress::Progress;
use super::state_store::{Owned, Store};

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
    pub knees: super::open_model::Knees,
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

    /// The Redis key prefix of one scheme × repeat (repeat 0: the phases after the repeats): the
    /// same length for every scheme and repeat. Every stored key carries it (a session record and
    /// its user's index: two keys per logged-in user), so a prefix that named the scheme made
    /// `session-tracked`'s keys 16 bytes per user longer than `session`'s, and its Redis memory per
    /// user came out ~33 B higher for no reason of its own (allocator size classes round the
    /// longer keys up).
    pub fn unit_prefix(&self, scheme: SchemeKind, repeat: u32) -> String {
        unit_prefix(&self.prefix, scheme, repeat)
    }

    /// Server options shared by every run of a scheme; `ttl` in whole seconds (at least 1).
    pub fn server_args(&self, scheme: SchemeKind, prefix: &str, ttl: Option<Duration>) -> ServeArgs {
        let mut args = ServeArgs { fast_login: true, users: self.plan.users, ..ServeArgs::new(scheme) };
        // The generator's own logins (a ramp's users log in at once) must not trip the hashing
        // queue's bound, which is a defence against a login flood: every user may wait.
        args.login_queue = args.login_queue.max(self.plan.users);
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

fn unit_prefix(run: &str, scheme: SchemeKind, repeat: u32) -> String {
    let index = SchemeKind::ALL.iter().position(|&s| s == scheme).unwrap_or(0);
    format!("{run}s{index:02}:r{repeat:03}:")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_prefixes_have_one_length_and_differ() {
        let all: Vec<String> = SchemeKind::ALL
            .iter()
            .flat_map(|&s| [1, 3, 42].map(|r| unit_prefix("authbench:cmp:x:", s, r)))
            .collect();
        assert!(all.iter().all(|p| p.len() == all[0].len()), "{all:?}");
        let distinct: std::collections::HashSet<&String> = all.iter().collect();
        assert_eq!(distinct.len(), all.len());
    }
}
