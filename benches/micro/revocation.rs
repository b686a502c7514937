//! The `revocation` group: each JWT variant's per-request revocation check and one refresh
//! rotation. Part of `micro.rs`.

use std::hint::black_box;

use authbench_servers::id;
use authbench_servers::session::STORE_TIMEOUT;
use criterion::BenchmarkId;

use super::clock::{Bench, REFRESH_TTL};

pub fn bench_revocation(
    cpu: &mut Bench,
    wall: &mut Bench,
    rt: &tokio::runtime::Runtime,
    url: Option<String>,
) {
    use authbench_servers::denylist::{Denylist, Entry};
    use authbench_servers::jwt_revocable::{RevocationStore, Rotation};

    let mut g = cpu.benchmark_group("revocation");
    for listed in [0u64, 10_000, 100_000] {
        let list = Denylist::new();
        list.set_ready(true);
        for i in 0..listed {
            list.insert(Entry::Jti { jti: format!("{i:032x}"), until: u64::MAX });
        }
        let jti = id::new_sid();
        let fid = id::new_sid();
        assert!(list.check(&jti, &fid, 1, 1).is_ok());
        let list = &list;
        g.bench_function(BenchmarkId::new("jwt_pubsub_check", listed), |b| {
            b.iter(|| list.check(black_box(&jti), black_box(&fid), 1, 1))
        });
    }
    g.finish();

    let Some(url) = url else { return };
    let store = rt
        .block_on(RevocationStore::connect(&url, "bench:revocation:", REFRESH_TTL.as_secs(), STORE_TIMEOUT))
        .expect("connect to redis");
    let fid = id::new_sid();
    let first = id::new_sid();
    rt.block_on(store.open_family(1, &fid, &first)).expect("open a family");
    let jti = id::new_sid();
    rt.block_on(store.check(&jti, 1, &fid, 1)).expect("an unrevoked token passes");
    let mut g = wall.benchmark_group("revocation");
    let (store, fid, jti) = (&store, &fid, &jti);
    g.bench_function("jwt_revocable_check", |b| {
        b.to_async(rt).iter(|| async move { store.check(jti, 1, fid, 1).await.expect("check") })
    });
    let current = std::cell::RefCell::new(first);
    let current = &current;
    g.bench_function("refresh_rotate", |b| {
        b.to_async(rt).iter(|| async move {
            let next = id::new_sid();
            let presented = current.replace(next.clone());
            let r = store.rotate(1, fid, &presented, 1, &next, u64::MAX).await.expect("rotate");
            assert!(matches!(r, Rotation::Rotated { .. }), "{r:?}");
        })
    });
    g.finish();
}
