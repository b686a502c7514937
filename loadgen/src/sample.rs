//! Once-a-second samples of what the requests cost: the server process (CPU time and RSS from
//! `/proc/PID`), redis-server (`INFO`: CPU, used_memory, keys), and the generator itself (its own
//! CPU and how late its timers fire — the scheduling lag that betrays a saturated generator).
//!
//! A server's CPU time is read two ways and combined per interval ([`ProcSample::cpu_since`]):
//! `/proc/PID/task/*/schedstat` (each live thread's run time in nanoseconds, summed) and
//! `/proc/PID/stat` (utime + stime in clock ticks, 10 ms here, which also counts threads that have
//! exited). The nanosecond sum is the figure, unless a thread exited between the two readings (a
//! login's argon2 runs on tokio's blocking pool, whose idle threads end): its time then vanishes
//! from the sum, and the tick count, more than [`EXITED_THREAD_TICKS`] ticks above it, is used.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use authbench_util::sys::clock_ticks;
use tokio::time::Instant;

/// A process's cumulative CPU time and current resident set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcSample {
    /// utime + stime from `/proc/PID/stat` (clock-tick resolution; exited threads included).
    pub cpu: Duration,
    /// Sum of `/proc/PID/task/*/schedstat` run times (ns resolution; live threads only), when
    /// every task's could be read.
    pub sched: Option<Duration>,
    pub rss_bytes: u64,
}

/// How many clock ticks the `/proc/PID/stat` delta may exceed the schedstat delta before the
/// difference is taken for the time of threads that exited in between (the two clocks are
/// sampled apart and `stat` rounds to ticks: a tick or two is reading noise).
pub const EXITED_THREAD_TICKS: u32 = 2;

/// The CPU time between two readings: the schedstat delta (`sched`, ns resolution), unless the
/// `/proc/PID/stat` delta (`stat`, ticks) exceeds it by more than [`EXITED_THREAD_TICKS`] ticks of
/// `tick` — threads that exited took their time out of the schedstat sum — or there is none.
pub fn combine_cpu(stat: Duration, sched: Option<Duration>, tick: Duration) -> Duration {
    match sched {
        Some(sched) if stat <= sched + tick * EXITED_THREAD_TICKS => sched,
        _ => stat,
    }
}

impl ProcSample {
    /// CPU time used since `earlier` ([`combine_cpu`] of the two readings' deltas).
    pub fn cpu_since(&self, earlier: &ProcSample) -> Duration {
        let stat = self.cpu.saturating_sub(earlier.cpu);
        // A schedstat sum that fell (a thread exited) is no delta: the stat delta stands.
        let sched = match (earlier.sched, self.sched) {
            (Some(a), Some(b)) if b >= a => Some(b - a),
            _ => None,
        };
        combine_cpu(stat, sched, Duration::from_secs(1) / clock_ticks().max(1) as u32)
    }
}

/// Sum of the run times (first field of `/proc/PID/task/TID/schedstat`, ns) of every task of
/// `pid`; `None` when the kernel has no schedstat or the process is gone.
pub fn read_schedstat(pid: u32) -> Option<Duration> {
    let mut ns: u64 = 0;
    for entry in std::fs::read_dir(format!("/proc/{pid}/task")).ok()? {
        let path = entry.ok()?.path().join("schedstat");
        // A thread that exited since the listing: its time is gone from the sum either way.
        let Ok(text) = std::fs::read_to_string(&path) else { continue };
        ns += parse_schedstat(&text)?;
    }
    Some(Duration::from_nanos(ns))
}

/// The run time (ns) of one task's `schedstat` text: `run_ns wait_ns timeslices`.
pub fn parse_schedstat(text: &str) -> Option<u64> {
    text.split_whitespace().next()?.parse().ok()
}

/// CPU (user + system) from the text of `/proc/PID/stat`, given the clock tick rate.
pub fn parse_stat_cpu(stat: &str, ticks_per_sec: u64) -> Option<Duration> {
    // The command name (field 2) may contain spaces and parentheses: split after the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace();
    // rest starts at field 3 (state); utime and stime are fields 14 and 15.
    let utime: u64 = fields.nth(11)?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    let ticks = utime + stime;
    Some(Duration::from_micros(ticks * 1_000_000 / ticks_per_sec.max(1)))
}

/// `VmRSS` from the text of `/proc/PID/status`, in bytes.
pub fn parse_status_rss(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line["VmRSS:".len()..].trim().trim_end_matches("kB").trim().parse().ok()?;
    Some(kib * 1024)
}

/// Read `/proc/PID/{stat,status}`; an error means the process is gone.
pub fn read_proc(pid: u32) -> std::io::Result<ProcSample> {
    let bad = || std::io::Error::new(std::io::ErrorKind::InvalidData, "unexpected /proc format");
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    // A zombie has no VmRSS: treat it as gone.
    Ok(ProcSample {
        cpu: parse_stat_cpu(&stat, clock_ticks()).ok_or_else(bad)?,
        sched: read_schedstat(pid),
        rss_bytes: parse_status_rss(&status).ok_or_else(bad)?,
    })
}

/// [`read_proc`] of several processes (a server's replicas), CPU and RSS summed; an error if any
/// is gone.
pub fn read_procs(pids: &[u32]) -> std::io::Result<ProcSample> {
    let mut sum = ProcSample { cpu: Duration::ZERO, sched: Some(Duration::ZERO), rss_bytes: 0 };
    for &pid in pids {
        let p = read_proc(pid)?;
        sum.cpu += p.cpu;
        sum.sched = sum.sched.zip(p.sched).map(|(a, b)| a + b);
        sum.rss_bytes += p.rss_bytes;
    }
    Ok(sum)
}

/// The generator's own cumulative CPU time.
pub fn self_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    parse_stat_cpu(&stat, clock_ticks())
}

/// What one `INFO` tells about redis-server.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RedisSample {
    pub cpu: Duration,
    pub used_memory: u64,
    pub keys: u64,
}

/// Parse `INFO` output: used_cpu_user + used_cpu_sys, used_memory, and keys summed over dbN.
pub fn parse_info(info: &str) -> Option<RedisSample> {
    let mut cpu = None::<f64>;
    let mut used_memory = None;
    let mut keys = 0;
    for line in info.lines() {
        let Some((k, v)) = line.trim().split_once(':') else { continue };
        match k {
            "used_cpu_user" | "used_cpu_sys" => *cpu.get_or_insert(0.0) += v.parse::<f64>().ok()?,
            "used_memory" => used_memory = v.parse::<u64>().ok(),
            _ if k.starts_with("db") && k[2..].bytes().all(|b| b.is_ascii_digit()) => {
                let n = v.split(',').find_map(|kv| kv.strip_prefix("keys="))?;
                keys += n.parse::<u64>().ok()?;
            }
            _ => {}
        }
    }
    Some(RedisSample { cpu: Duration::from_secs_f64(cpu?), used_memory: used_memory?, keys })
}

/// Connections for `INFO`, kept for the run: one Redis, or every node of a Redis Cluster (a
/// comma list of URLs), whose readings are summed (CPU, `used_memory`, keys).
pub struct RedisProbe {
    conns: Vec<redis::aio::MultiplexedConnection>,
}

impl RedisProbe {
    /// `urls`: one `redis://` URL or a comma list of them (each node is sampled, the sum reported).
    pub async fn connect(urls: &str, limit: Duration) -> Result<RedisProbe, String> {
        let mut conns = Vec::new();
        for url in split_urls(urls) {
            let client = redis::Client::open(url).map_err(|e| e.to_string())?;
            let conn = tokio::time::timeout(limit, client.get_multiplexed_async_connection())
                .await
                .map_err(|_| format!("no answer within {limit:?}"))?
                .map_err(|e| e.to_string())?;
            conns.push(conn);
        }
        if conns.is_empty() {
            return Err("no Redis URL".to_owned());
        }
        let mut probe = RedisProbe { conns };
        probe.sample(limit).await.ok_or_else(|| "INFO failed".to_owned())?;
        Ok(probe)
    }

    /// One `INFO` per node, bounded in time, summed; None if any node did not answer.
    pub async fn sample(&mut self, limit: Duration) -> Option<RedisSample> {
        let reads = self.conns.iter_mut().map(|conn| async move {
            let text: String =
                tokio::time::timeout(limit, redis::cmd("INFO").query_async(conn)).await.ok()?.ok()?;
            parse_info(&text)
        });
        let samples: Option<Vec<RedisSample>> = futures::future::join_all(reads).await.into_iter().collect();
        samples?.into_iter().reduce(|a, b| RedisSample {
            cpu: a.cpu + b.cpu,
            used_memory: a.used_memory + b.used_memory,
            keys: a.keys + b.keys,
        })
    }
}

/// The URLs of a `--redis-url` value: one, or a comma list (a Redis Cluster's nodes).
pub fn split_urls(urls: &str) -> impl Iterator<Item = &str> {
    urls.split(',').map(str::trim).filter(|u| !u.is_empty())
}

/// Measures how late a 10 ms timer fires on each of the generator's worker runtimes; the collector
/// takes the maximum each second.
pub struct LagProbe {
    max_us: AtomicU64,
}

/// The lag probe's period.
pub const LAG_PERIOD: Duration = Duration::from_millis(10);

impl LagProbe {
    /// Spawn one probe task on each runtime; they end when `stop` is cancelled.
    pub fn spawn(
        stop: tokio_util::sync::CancellationToken,
        runtimes: &[tokio::runtime::Handle],
    ) -> Arc<LagProbe> {
        let probe = Arc::new(LagProbe { max_us: AtomicU64::new(0) });
        for rt in runtimes {
            let (p, stop) = (probe.clone(), stop.clone());
            rt.spawn(async move {
                loop {
                    let due = Instant::now() + LAG_PERIOD;
                    tokio::select! {
                        () = tokio::time::sleep_until(due) => {}
                        () = stop.cancelled() => return,
                    }
                    let lag = Instant::now().saturating_duration_since(due);
                    p.max_us.fetch_max(u64::try_from(lag.as_micros()).unwrap_or(u64::MAX), Ordering::Relaxed);
                }
            });
        }
        probe
    }

    /// Largest lag since the last call, µs.
    pub fn take_max_us(&self) -> u64 {
        self.max_us.swap(0, Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_proc_stat_with_awkward_names() {
        let stat =
            "1234 (my (weird) name) S 1 1234 1234 0 -1 4194560 500 0 0 0 250 50 0 0 20 0 4 0 100 1000 200";
        assert_eq!(parse_stat_cpu(stat, 100), Some(Duration::from_secs(3)));
        assert_eq!(parse_stat_cpu("garbage", 100), None);
    }

    #[test]
    fn parses_rss_and_this_process() {
        assert_eq!(parse_status_rss("Name:\tx\nVmRSS:\t   2048 kB\n"), Some(2048 * 1024));
        assert_eq!(parse_status_rss("Name:\tx\n"), None);
        let me = read_proc(std::process::id()).unwrap();
        assert!(me.rss_bytes > 1024 * 1024, "{me:?}");
        assert!(read_proc(u32::MAX - 7).is_err());
    }

    #[test]
    fn nanosecond_cpu_unless_an_exited_thread_took_its_time_out_of_the_sum() {
        let tick = Duration::from_millis(10);
        let ms = Duration::from_millis;
        // Every thread alive: schedstat's nanoseconds, not the stat's whole ticks.
        assert_eq!(combine_cpu(ms(120), Some(ms(123)), tick), ms(123));
        assert_eq!(combine_cpu(ms(130), Some(ms(123)), tick), ms(123), "within a tick: rounding");
        assert_eq!(combine_cpu(ms(143), Some(ms(123)), tick), ms(123), "2 ticks: still reading noise");
        // A blocking-pool thread that ran 40 ms exited: the stat delta counts it, the sum lost it.
        assert_eq!(combine_cpu(ms(163), Some(ms(123)), tick), ms(163));
        assert_eq!(combine_cpu(ms(50), None, tick), ms(50), "no schedstat: ticks");

        let at = |stat: u64, sched: Option<u64>| ProcSample {
            cpu: ms(stat),
            sched: sched.map(Duration::from_micros),
            rss_bytes: 0,
        };
        let tick = Duration::from_secs(1) / clock_ticks() as u32;
        // The sum fell (threads exited): the stat delta stands.
        assert_eq!(at(500, Some(100_000)).cpu_since(&at(400, Some(150_000))), ms(100));
        assert_eq!(at(500, Some(450_123)).cpu_since(&at(400, Some(350_000))), Duration::from_micros(100_123));
        assert_eq!(
            at(400 + 3 * tick.as_millis() as u64, Some(350_000)).cpu_since(&at(400, Some(350_000))),
            3 * tick
        );
    }

    #[test]
    fn schedstat_sums_this_process_threads_in_nanoseconds() {
        assert_eq!(parse_schedstat("123456789 5000 42\n"), Some(123_456_789));
        assert_eq!(parse_schedstat(""), None);
        let before = read_proc(std::process::id()).unwrap();
        let t = std::time::Instant::now();
        let mut x = 0u64;
        while t.elapsed() < Duration::from_millis(50) {
            x = x.wrapping_add(std::hint::black_box(1));
        }
        std::hint::black_box(x);
        let after = read_proc(std::process::id()).unwrap();
        let (a, b) = (before.sched.expect("this kernel has schedstat"), after.sched.unwrap());
        // This thread spun 50 ms of wall time; on a busy machine it may have run a little less.
        assert!(b - a >= Duration::from_millis(25), "{a:?} → {b:?}");
        assert!(after.cpu_since(&before) >= Duration::from_millis(25));
    }

    #[test]
    fn parses_redis_info() {
        let info = "# Memory\r\nused_memory:1048576\r\nused_memory_human:1.00M\r\n# CPU\r\nused_cpu_sys:1.500000\r\n\
                    used_cpu_user:0.250000\r\nused_cpu_sys_children:9.0\r\n# Keyspace\r\ndb0:keys=10,expires=10,avg_ttl=5\r\n\
                    db3:keys=5,expires=0,avg_ttl=0\r\n";
        let s = parse_info(info).unwrap();
        assert_eq!(s.used_memory, 1_048_576);
        assert_eq!(s.keys, 15);
        assert_eq!(s.cpu, Duration::from_millis(1750));
        assert!(parse_info("nothing useful").is_none());
    }
}
