//! The answer as a reader sees it: one Markdown table (schemes × the figures a design review asks
//! for, at several user counts), at most six one-line verdicts, the assumptions, and the same
//! figures as CSV rows (`answer.csv`) with their intervals.

use std::io::{self, Write};

use super::across::{Meets, SchemeAnswer};
use super::workload::Workload;
use crate::stats::{MeanCi, difference_ci};
use crate::units;

/// The answer for one workload at several user counts.
#[derive(Debug, Clone)]
pub struct AnswerSet {
    pub workload: Workload,
    /// Where the inputs were measured ("AMD EPYC, 2 cores, …"), and from which results folder.
    pub host: String,
    pub source: String,
    /// Per user count, every scheme's answer (same scheme order in each).
    pub by_users: Vec<(u64, Vec<SchemeAnswer>)>,
}

/// "61 ± 4" with the unit `f` gives; the mean alone for one repeat, or when every repeat gave
/// the same figure (a configured lifetime, a whole number of shards).
pub fn ci(m: &MeanCi, f: impl Fn(f64) -> String) -> String {
    match m.half_width() {
        Some(h) if h > 0.0 => units::plus_minus(m.mean, h, f),
        _ => f(m.mean),
    }
}

/// Cores and shards: whole numbers as they are, the rest to two significant digits.
fn cores(x: f64) -> String {
    if x.fract() == 0.0 { units::plain(x) } else { units::sig(x, 2) }
}

/// A signed difference in words: its size and `more` or `fewer` (a negative "more" reads "fewer").
fn more_or_fewer(x: f64) -> (f64, &'static str) {
    if x < 0.0 { (-x, "fewer") } else { (x, "more") }
}

fn opt(m: Option<&MeanCi>, f: impl Fn(f64) -> String) -> String {
    m.map_or_else(|| "not measured".to_owned(), |m| ci(m, f))
}

impl AnswerSet {
    /// The user count the single-figure columns show: the middle one.
    fn middle(&self) -> Option<&(u64, Vec<SchemeAnswer>)> {
        self.by_users.get(self.by_users.len() / 2)
    }

    fn schemes(&self) -> Vec<&str> {
        self.by_users.first().map_or_else(Vec::new, |(_, a)| a.iter().map(|s| s.scheme.as_str()).collect())
    }

    fn at(&self, users: u64, scheme: &str) -> Option<&SchemeAnswer> {
        self.by_users.iter().find(|(u, _)| *u == users)?.1.iter().find(|a| a.scheme == scheme)
    }

    /// The table's header and rows: one row per scheme, no cell over ~100 characters.
    pub fn cells(&self) -> (Vec<String>, Vec<Vec<String>>) {
        let Some((mid, _)) = self.middle() else { return (Vec::new(), Vec::new()) };
        let counts: Vec<String> = self.by_users.iter().map(|(u, _)| units::count(*u as f64)).collect();
        let counts = counts.join(" / ");
        let w = &self.workload;
        let priced = w.price_core_hour.is_some() && w.price_gib_hour.is_some();
        let mid_s = units::count(*mid as f64);
        let mut header = vec![
            "design".to_owned(),
            "revoked within".into(),
            format!("p99 at {:.0}%", w.utilisation * 100.0),
            format!("app cores · {counts}"),
            format!("Redis shards · {counts}"),
            format!("Redis memory · {mid_s}"),
            format!("wire · {mid_s}"),
        ];
        if priced {
            header.push(format!("cost a month · {mid_s}"));
        }
        let mut rows = Vec::new();
        for scheme in self.schemes() {
            let Some(m) = self.at(*mid, scheme) else { continue };
            let across = |f: &dyn Fn(&SchemeAnswer) -> String| {
                self.by_users
                    .iter()
                    .filter_map(|(u, _)| self.at(*u, scheme))
                    .map(f)
                    .collect::<Vec<_>>()
                    .join(" / ")
            };
            let window = match (&m.window_s, m.revokes_in_time) {
                (Some(x), Meets::Yes) => format!("{} ✓", ci(x, units::seconds)),
                (Some(x), Meets::No) => format!("{} ✗", ci(x, units::seconds)),
                (Some(x), _) => format!("{} (no verdict)", ci(x, units::seconds)),
                (None, _) => "not measured".into(),
            };
            let p99 = match (&m.p99_us, m.meets_slo) {
                (Some(x), Meets::No) => format!("{} ✗", ci(x, units::us)),
                (Some(x), _) => ci(x, units::us),
                (None, _) => "not measured".into(),
            };
            let mut row = vec![
                format!("**{scheme}**"),
                window,
                p99,
                across(&|a| ci(&a.app_cores, cores)),
                across(&|a| ci(&a.shards, cores)),
                opt(m.redis_memory_bytes.as_ref(), units::bytes),
                opt(m.bytes_s.as_ref(), |b| format!("{}/s", units::bytes(b))),
            ];
            if priced {
                row.push(opt(m.cost_month.as_ref(), |c| units::sig(c, 3)));
            }
            rows.push(row);
        }
        (header, rows)
    }

    /// The Markdown table of [`cells`](Self::cells).
    pub fn markdown_table(&self, out: &mut impl Write) -> io::Result<()> {
        let (header, rows) = self.cells();
        if header.is_empty() {
            return Ok(());
        }
        writeln!(out, "| {} |", header.join(" | "))?;
        writeln!(out, "|{}", "---|".repeat(header.len()))?;
        for row in rows {
            writeln!(out, "| {} |", row.join(" | "))?;
        }
        Ok(())
    }

    /// At most six one-line verdicts, each read off intervals.
    pub fn verdicts(&self) -> Vec<String> {
        let Some((mid, answers)) = self.middle() else { return Vec::new() };
        let w = &self.workload;
        let within = units::seconds(w.revoke_within.as_secs_f64());
        let mid_s = units::count(*mid as f64);
        let mut out = Vec::new();
        let cost = |a: &SchemeAnswer| a.app_cores.mean + a.shards.mean * (1.0 + w.redis_replicas as f64);
        let revokers: Vec<&SchemeAnswer> =
            answers.iter().filter(|a| a.revokes_in_time == Meets::Yes).collect();
        if let Some(best) = revokers.iter().min_by(|a, b| cost(a).total_cmp(&cost(b))) {
            // Others whose app-core interval reaches the best one's: not told apart (a tie).
            let reach = |a: &SchemeAnswer| a.app_cores.ci95_low.unwrap_or(a.app_cores.mean);
            let best_high = best.app_cores.ci95_high.unwrap_or(best.app_cores.mean);
            let ties: Vec<&str> = revokers
                .iter()
                .filter(|a| {
                    a.scheme != best.scheme && reach(a) <= best_high && a.shards.mean <= best.shards.mean
                })
                .map(|a| a.scheme.as_str())
                .collect();
            let tie = if ties.is_empty() {
                String::new()
            } else {
                format!(" (tied, within the intervals, with {})", ties.join(", "))
            };
            out.push(format!(
                "Cheapest design that revokes within {within}: **{}**, {} app cores and {} Redis shard(s) at {mid_s} users{tie}.",
                best.scheme,
                ci(&best.app_cores, cores),
                ci(&best.shards, cores)
            ));
        } else {
            out.push(format!("No design measured here is shown to revoke within {within}."));
        }
        let find = |s: &str| answers.iter().find(|a| a.scheme == s);
        if let (Some(jwt), Some(session)) = (find("jwt"), find("session")) {
            let per = 1e6 / jwt.requests_s.max(1.0);
            let a: Vec<f64> = session.answers.iter().map(|x| x.app_cores * per).collect();
            let b: Vec<f64> = jwt.answers.iter().map(|x| x.app_cores * per).collect();
            // session − jwt, paired by repeat; turned round when jwt is the dearer.
            let d = difference_ci(&b, &a, None)
                .and_then(|d| if d.mean < 0.0 { difference_ci(&a, &b, None) } else { Some(d) });
            if let Some(d) = d {
                let window =
                    jwt.window_s.as_ref().map_or_else(|| "its lifetime".into(), |x| units::seconds(x.mean));
                let word = if a.iter().sum::<f64>() < b.iter().sum::<f64>() { "more" } else { "fewer" };
                out.push(format!(
                    "jwt needs {} {word} app cores than session per 1M req/s (paired by repeat), but a logged-out JWT stays valid {window}.",
                    ci(&d, cores)
                ));
            }
        }
        let fast = answers
            .iter()
            .filter(|a| a.revokes_in_time == Meets::Yes && a.design.needs_redis())
            .min_by(|a, b| {
                let w = |x: &SchemeAnswer| x.window_s.as_ref().map_or(f64::INFINITY, |m| m.mean);
                w(a).total_cmp(&w(b))
            });
        if let (Some(f), Some(jwt)) = (fast, find("jwt"))
            && let Some(win) = &f.window_s
        {
            let (extra, word) = more_or_fewer(f.app_cores.mean - jwt.app_cores.mean);
            out.push(format!(
                "{} revokes in {} for {} {word} app cores and {} Redis shard(s) than jwt at {mid_s} users.",
                f.scheme,
                ci(win, units::seconds),
                cores(extra),
                ci(&f.shards, cores)
            ));
        }
        // A Redis restart without persistence logs every session out: the app cores of the plan
        // re-admit everyone at the production hashing cost.
        if let Some(s) = answers
            .iter()
            .filter(|a| a.design.is_session() && a.login_us.is_some())
            .min_by(|a, b| a.app_cores.mean.total_cmp(&b.app_cores.mean))
            && let Some(login) = &s.login_us
        {
            let storm_s = *mid as f64 * login.mean / 1e6 / s.app_cores.mean.max(1e-9);
            out.push(format!(
                "A Redis restart without persistence logs all {mid_s} {} users out: its {} app cores, doing nothing else, re-admit them in {} \
                 at {} CPU per login (AOF keeps them: `--redis-persistence aof`).",
                s.scheme,
                cores(s.app_cores.mean),
                units::seconds(storm_s),
                units::us(login.mean)
            ));
        }
        let slo = units::seconds(w.p99_slo.as_secs_f64());
        let missed: Vec<&str> =
            answers.iter().filter(|a| a.meets_slo == Meets::No).map(|a| a.scheme.as_str()).collect();
        let unknown =
            answers.iter().filter(|a| matches!(a.meets_slo, Meets::Unknown | Meets::NoVerdict)).count();
        out.push(match (missed.is_empty(), unknown) {
            (true, 0) => {
                format!("Every design keeps p99 under {slo} at {:.0}% utilisation.", w.utilisation * 100.0)
            }
            (true, n) => format!("No design is shown to miss the {slo} p99; {n} without a verdict."),
            (false, _) => format!("p99 over {slo} at {:.0}%: {}.", w.utilisation * 100.0, missed.join(", ")),
        });
        let missing: Vec<&str> = answers.iter().flat_map(|a| a.missing.iter().copied()).collect();
        if !missing.is_empty() {
            let mut m = missing;
            m.sort_unstable();
            m.dedup();
            out.push(format!("Not measured in this run, counted as 0: {}.", m.join(", ")));
        }
        out.truncate(6);
        out
    }

    /// The assumptions and where the inputs come from, one Markdown bullet each.
    pub fn assumptions(&self, out: &mut impl Write) -> io::Result<()> {
        for line in self.workload.stated() {
            writeln!(out, "- {line}")?;
        }
        writeln!(out, "- measured on {} ({}); cores are that host's cores", self.host, self.source)
    }

    /// `answer.csv`: one row per user count × scheme, every figure with its interval.
    pub fn csv(&self, out: impl Write) -> csv::Result<()> {
        let mut w = csv::Writer::from_writer(out);
        let figures = [
            "app_cores",
            "redis_cores",
            "redis_memory_bytes",
            "redis_memory_total_bytes",
            "shards_by_cpu",
            "shards_by_memory",
            "shards",
            "bytes_s",
            "window_s",
            "p99_us",
            "cost_month",
        ];
        let mut header = vec!["users".to_owned(), "scheme".into(), "repeats".into(), "requests_s".into()];
        for f in figures {
            header.extend([f.to_owned(), format!("{f}_low"), format!("{f}_high")]);
        }
        header.extend(["revokes_in_time".into(), "meets_slo".into(), "missing".into()]);
        w.write_record(&header)?;
        for (users, answers) in &self.by_users {
            for a in answers {
                let mut row = vec![
                    users.to_string(),
                    a.scheme.clone(),
                    a.repeats.to_string(),
                    a.requests_s.to_string(),
                ];
                for m in [
                    Some(&a.app_cores),
                    Some(&a.redis_cores),
                    a.redis_memory_bytes.as_ref(),
                    a.redis_memory_total_bytes.as_ref(),
                    Some(&a.shards_by_cpu),
                    a.shards_by_memory.as_ref(),
                    Some(&a.shards),
                    a.bytes_s.as_ref(),
                    a.window_s.as_ref(),
                    a.p99_us.as_ref(),
                    a.cost_month.as_ref(),
                ] {
                    let f = |x: Option<f64>| x.map_or_else(String::new, |x| x.to_string());
                    row.extend([
                        f(m.map(|m| m.mean)),
                        f(m.and_then(|m| m.ci95_low)),
                        f(m.and_then(|m| m.ci95_high)),
                    ]);
                }
                row.extend([
                    a.revokes_in_time.label().into(),
                    a.meets_slo.label().into(),
                    a.missing.join("; "),
                ]);
                w.write_record(&row)?;
            }
        }
        w.flush()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::answer::across::across;
    use crate::answer::model::Inputs;

    fn set() -> AnswerSet {
        let w = Workload::default();
        let inputs = |server_us: f64, window: Option<f64>| {
            (0..3)
                .map(|r| Inputs {
                    server_us: server_us + r as f64,
                    redis_lookup_us: Some(3.0),
                    login_us: Some(20_000.0),
                    refresh_us: Some(40.0),
                    hit_ratio: Some(0.09),
                    store_bytes_per_user: Some(330.0),
                    bytes_per_request: Some(300.0),
                    p99_curve: vec![(0.25, 400.0 + r as f64), (0.75, 900.0)],
                    window_s: window.map(|x| x * (1.0 + r as f64 / 10.0)),
                    ..Inputs::default()
                })
                .collect::<Vec<_>>()
        };
        let by_users = [1_000_000, 10_000_000, 100_000_000]
            .into_iter()
            .map(|u| {
                let w = w.with_users(u);
                let a = vec![
                    across("session", &w, &inputs(30.0, Some(0.002)), None).unwrap(),
                    across("jwt", &w, &inputs(20.0, None), None).unwrap(),
                    across("session-tracked", &w, &inputs(25.0, Some(0.003)), None).unwrap(),
                ];
                (u, a)
            })
            .collect();
        AnswerSet { workload: w, host: "test host".into(), source: "synthetic".into(), by_users }
    }

    #[test]
    fn the_table_has_a_row_per_scheme_and_short_cells() {
        let mut out = Vec::new();
        set().markdown_table(&mut out).unwrap();
        let md = String::from_utf8(out).unwrap();
        assert_eq!(md.lines().count(), 2 + 3, "{md}");
        for line in md.lines() {
            for cell in line.split('|') {
                assert!(cell.chars().count() <= 100, "cell too long: {cell:?}");
            }
        }
        assert!(md.contains("**jwt** | 15.1 min ✗"), "{md}");
        assert!(md.contains("1M / 10M / 100M"), "{md}");
    }

    #[test]
    fn verdicts_are_few_and_name_the_cheapest_revoker() {
        let v = set().verdicts();
        assert!(!v.is_empty() && v.len() <= 6, "{v:?}");
        assert!(v[0].contains("**session-tracked**"), "{v:?}");
        assert!(v.iter().any(|l| l.starts_with("jwt needs") && l.contains("fewer app cores")), "{v:?}");
    }

    #[test]
    fn a_negative_difference_reads_fewer_not_minus_more() {
        assert_eq!(more_or_fewer(-0.29), (0.29, "fewer"));
        assert_eq!(more_or_fewer(1.5), (1.5, "more"));
        // Every revoker 0.29 app cores cheaper than jwt.
        let mut s = set();
        for (_, answers) in &mut s.by_users {
            let jwt = answers.iter().find(|a| a.scheme == "jwt").unwrap().app_cores.mean;
            for a in answers.iter_mut().filter(|a| a.scheme != "jwt") {
                a.app_cores.mean = jwt - 0.29;
            }
        }
        let v = s.verdicts();
        let line = v.iter().find(|l| l.contains(" revokes in ")).expect("the fastest revoker's line");
        assert!(line.contains("for 0.29 fewer app cores") && !line.contains("-0."), "{line}");
    }

    #[test]
    fn the_csv_carries_every_interval() {
        let mut out = Vec::new();
        set().csv(&mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.lines().count(), 1 + 9);
        assert!(text.lines().next().unwrap().contains("app_cores_low,app_cores_high"));
    }
}
