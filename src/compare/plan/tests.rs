//! Tests of the compare plan: parsing, defaults, budgets and the memory check.

use super::*;
use crate::compare::schedule;
use clap::Parser;

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    args: CompareArgs,
}

fn plan(args: &str) -> Result<Plan> {
    let cli = Cli::try_parse_from(std::iter::once("compare").chain(args.split_whitespace()))?;
    Plan::from_args(&cli.args)
}

#[test]
fn rate_takes_the_k_and_m_suffixes_of_load_rate() {
    assert_eq!(parse_rate("2k"), Ok(2000.0));
    assert_eq!(parse_rate("1.5K"), Ok(1500.0));
    assert_eq!(parse_rate("0.1m"), Ok(100_000.0));
    assert_eq!(parse_rate("2_000"), Ok(2000.0));
    assert_eq!(parse_rate("750.5"), Ok(750.5));
    for bad in ["", "k", "2kk", "fast", "inf", "2 k/s"] {
        assert!(parse_rate(bad).is_err(), "{bad:?} accepted");
    }
}

#[test]
fn compare_rate_2k_is_2000_requests_per_second() {
    assert_eq!(plan("--rate 2k --out x").unwrap().rate, 2000.0);
    assert_eq!(plan("--quick --out x").unwrap().rate, 1000.0);
    assert!(plan("--rate 300k --out x").is_err(), "above the 200000 bound");
    assert!(plan("--rate 2x --out x").is_err());
}

#[test]
fn replicas_share_the_cores() {
    assert_eq!(replica_workers(1, 2).unwrap(), None);
    assert_eq!(replica_workers(2, 2).unwrap(), Some(1));
    assert_eq!(replica_workers(3, 8).unwrap(), Some(2));
    assert!(replica_workers(0, 2).unwrap_err().to_string().contains("at least 1"));
    assert!(replica_workers(3, 2).unwrap_err().to_string().contains("cores"));
}

#[test]
fn schemes_take_all_and_every_variant() {
    assert_eq!(plan("--schemes all --out x").unwrap().schemes, SchemeKind::ALL.to_vec());
    assert_eq!(plan("--out x").unwrap().schemes, SchemeKind::ALL.to_vec(), "default: every scheme");
    let originals = plan("--schemes cookie,session,jwt --out x").unwrap();
    assert!(originals.originals_only() && !plan("--out x").unwrap().originals_only());
    assert_eq!(schedule::total_budget(&plan("--quick --out x").unwrap()), 240.0);
    assert_eq!(schedule::total_budget(&plan("--quick --schemes jwt,cookie --out x").unwrap()), 120.0);
    assert_eq!(schedule::total_budget(&plan("--out x").unwrap()), 1980.0);
    // Cookie and the JWT variants skip the sweep; jwt (the stateless control), session and the
    // session variants do not.
    let swept: Vec<SchemeKind> = SchemeKind::ALL.into_iter().filter(|&s| !skips_sweep(s)).collect();
    assert!(swept.contains(&SchemeKind::Jwt) && swept.contains(&SchemeKind::SessionCached));
    assert!(swept.contains(&SchemeKind::Session) && swept.contains(&SchemeKind::SessionTracked));
    assert!(!swept.contains(&SchemeKind::JwtRevocable) && !swept.contains(&SchemeKind::Cookie));
    let p = plan("--schemes jwt-revocable,jwt,jwt-revocable --out x").unwrap();
    assert_eq!(p.schemes, vec![SchemeKind::JwtRevocable, SchemeKind::Jwt]);
    assert!(parse_schemes("cookie,kerberos").unwrap_err().contains("kerberos"));
    // On a cluster the default is every scheme that can keep its state there; naming one that
    // cannot is refused with its reason.
    let cluster = plan("--store cluster --out x").unwrap().schemes;
    assert!(cluster.contains(&SchemeKind::Session) && cluster.contains(&SchemeKind::Jwt));
    assert!(cluster.iter().all(|s| !s.uses_store() || s.cluster_store()), "{cluster:?}");
    let e = plan("--store cluster --schemes session,jwt-pubsub --out x").unwrap_err().to_string();
    assert!(e.contains("jwt-pubsub") && e.contains("span slots"), "{e}");
}

#[test]
fn default_levels_are_the_issues_and_one_session_per_user() {
    let p = plan("--out x").unwrap();
    assert_eq!(p.levels, [0, 10_000, 100_000, 1_000_000]);
    assert_eq!(p.users, 1_000_000, "one session per distinct user: the users are the top level");
    assert_eq!(plan("--quick --out x").unwrap().levels, [0, 10_000]);
    assert_eq!(plan("--sessions 100k,0,100k --out x").unwrap().levels, [0, 100_000], "sorted, deduplicated");
}

#[test]
fn ten_million_sessions_are_accepted_only_where_memory_allows() {
    let all = SchemeKind::ALL;
    let gib = 1u64 << 30;
    assert!(check_memory(10_000_000, &all, Some(24 * gib)).is_ok());
    let e = check_memory(10_000_000, &all, Some(8 * gib)).unwrap_err().to_string();
    assert!(e.contains("--sessions 10000000") && e.contains("available"), "{e}");
    // Without the session scheme nothing goes to Redis: less is needed.
    assert!(check_memory(10_000_000, &[SchemeKind::Jwt], Some(8 * gib)).is_ok());
    assert!(check_memory(1_000_000, &all, Some(gib / 4)).is_ok());
    assert!(check_memory(2_000_000, &all, None).is_err());
}

#[test]
fn transports_default_to_h1_and_h2_tls_and_all_is_the_matrix() {
    use TransportKind::*;
    assert_eq!(plan("--out x").unwrap().transports, vec![H1, H2Tls]);
    assert_eq!(plan("--transport all --out x").unwrap().transports, vec![H1, H2, H1Tls, H2Tls]);
    assert_eq!(plan("--transport h2-tls,h1,h2-tls --out x").unwrap().transports, vec![H1, H2Tls]);
    assert!(plan("--transport none --out x").unwrap().transports.is_empty());
    assert!(plan("--transport h3 --out x").is_err());
}

#[test]
fn store_rtts_parse_sorted_with_quick_and_full_defaults() {
    let us = Duration::from_micros;
    assert_eq!(plan("--out x").unwrap().store_rtts, vec![us(0), us(250), us(1000)]);
    assert_eq!(plan("--quick --out x").unwrap().store_rtts, vec![us(0), us(1000)]);
    assert_eq!(
        plan("--store-rtt 1ms,0,250us,1ms --out x").unwrap().store_rtts,
        vec![us(0), us(250), us(1000)]
    );
    assert!(plan("--store-rtt none --out x").unwrap().store_rtts.is_empty());
    assert!(plan("--store-rtt 50ms --out x").is_err(), "an outage, not a hop");
    assert!(plan("--store-rtt fast --out x").is_err());
    let existing = "--store cluster --redis-cluster-url redis://127.0.0.1:7000 --out x";
    assert!(plan(existing).is_err(), "an existing cluster's announced ports are not compare's");
    assert!(plan(&format!("{existing} --store-rtt none")).is_ok());
}

#[test]
fn pin_auto_puts_the_generator_on_the_first_cpu_and_the_servers_on_the_rest() {
    let two = Cpus::of(&[0, 1]);
    let p = Pinning::plan(PinMode::Auto, &two, 1).unwrap();
    assert_eq!((p.generator.to_list(), p.servers.to_list()), ("0".into(), "1".into()));
    let p = Pinning::plan(PinMode::Auto, &Cpus::of(&[2, 3, 5, 6]), 3).unwrap();
    assert_eq!((p.generator.to_list(), p.servers.to_list()), ("2".into(), "3,5-6".into()));
    assert_eq!(Pinning::plan(PinMode::Auto, &Cpus::of(&[4]), 1), None, "one CPU: nothing to separate");
    assert_eq!(Pinning::plan(PinMode::Auto, &two, 2), None, "two replicas need the two cores");
    assert_eq!(Pinning::plan(PinMode::Off, &two, 1), None);
    assert_eq!(plan("--pin off --out x").unwrap().pin, None);
    assert!(plan("--pin sometimes --out x").is_err());
}

#[test]
fn level_orders_keep_the_hot_level_first_and_shuffle_the_rest_per_repeat() {
    let p = plan("--sessions 0,10k,100k,1m --repeat 12 --seed 5 --out x").unwrap();
    let orders = p.level_orders();
    assert_eq!(orders.len(), 12);
    for o in &orders {
        assert_eq!(o[0], 0);
        let mut sorted = o.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, [0, 10_000, 100_000, 1_000_000]);
    }
    let distinct: std::collections::HashSet<&Vec<u64>> = orders.iter().collect();
    assert!(distinct.len() > 1, "12 repeats, one order: {orders:?}");
    assert_eq!(orders, p.level_orders(), "seeded: the same run, the same orders");
}
