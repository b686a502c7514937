//! The per-run report of an `authbench load` results folder (`timeseries.csv` + `summary.json`),
//! like k6's dashboard export or Gatling's report: throughput, active users, latency percentiles
//! over time (corrected and uncorrected), errors by kind, server CPU and RSS, Redis CPU and
//! memory, generator CPU and lag — each a chart (PNG + SVG) with the end-of-run figures as tables.
//!
//! - [`timeseries`]: the per-second CSV read by column name.

pub mod timeseries;

use std::path::Path;

use authbench_loadgen::run_file;
use plotters::style::RGBColor;
use serde_json::Value;

use crate::doc::Document;
use crate::error::Error;
use crate::plot::{Rendered, TimeLine, Timeline, register_font, render};
use timeseries::Timeseries;

/// Endpoints in the generator's order, with a colour each.
const ENDPOINTS: [(&str, RGBColor); 5] = [
    ("healthz", RGBColor(127, 127, 127)),
    ("login", RGBColor(148, 103, 189)),
    ("me", RGBColor(31, 119, 180)),
    ("refresh", RGBColor(44, 160, 44)),
    ("logout", RGBColor(214, 39, 40)),
];
const ERROR_COLORS: [RGBColor; 8] = [
    RGBColor(214, 39, 40),
    RGBColor(255, 127, 14),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];
const SERVER: RGBColor = RGBColor(70, 110, 170);
const REDIS: RGBColor = RGBColor(220, 90, 60);

/// Whether `dir` holds the results of one `authbench load` run.
pub fn is_load_dir(dir: &Path) -> bool {
    dir.join(run_file::TIMESERIES).is_file() && dir.join(run_file::SUMMARY_JSON).is_file()
}

fn line(label: impl Into<String>, color: RGBColor, dashed: bool, points: Vec<(f64, f64)>) -> TimeLine {
    TimeLine { label: label.into(), color, dashed, points }
}

/// The charts of one run; charts without data are left out.
pub fn charts(ts: &Timeseries) -> Vec<Timeline> {
    let used: Vec<(&str, RGBColor)> =
        ENDPOINTS.iter().copied().filter(|(e, _)| ts.has_nonzero(&format!("{e}_count"))).collect();
    let per_endpoint = |suffix: &str, dashed: bool, label: &str| -> Vec<TimeLine> {
        used.iter()
            .map(|&(e, c)| line(format!("{e}{label}"), c, dashed, ts.series(&format!("{e}_{suffix}"))))
            .collect()
    };
    let mut latency = per_endpoint("p50_us", false, " p50");
    latency.extend(per_endpoint("p99_us", true, " p99"));
    let mut uncorrected = per_endpoint("p99_us", false, " p99 corrected");
    uncorrected.extend(per_endpoint("p99_uncorrected_us", true, " p99 uncorrected"));
    let errors: Vec<TimeLine> = ts
        .columns_with_prefix("err_")
        .iter()
        .filter(|c| ts.has_nonzero(c))
        .enumerate()
        .map(|(i, c)| {
            line(c.trim_start_matches("err_"), ERROR_COLORS[i % ERROR_COLORS.len()], false, ts.series(c))
        })
        .collect();
    let mib = |col: &str| ts.series(col).into_iter().map(|(t, v)| (t, v / 1_048_576.0)).collect::<Vec<_>>();
    [
        Timeline::new(
            "load_throughput",
            "Throughput (successful requests per second)",
            "requests/s",
            false,
            per_endpoint("rps", false, ""),
        ),
        Timeline::new(
            "load_active_users",
            "Active virtual users",
            "virtual users",
            false,
            vec![
                line("active", SERVER, false, ts.series("active_vus")),
                line("target", REDIS, true, ts.series("target")),
            ],
        ),
        Timeline::new(
            "load_latency",
            "Latency per second (p50 solid, p99 dashed)",
            "latency (µs, log scale)",
            true,
            latency,
        ),
        if ts.has_nonzero(&format!("{}_p99_uncorrected_us", used.first().map_or("me", |u| u.0)))
            || used.iter().any(|(e, _)| ts.has_nonzero(&format!("{e}_p99_uncorrected_us")))
        {
            Timeline::new(
                "load_latency_uncorrected",
                "p99 per second: corrected (from the intended send) vs uncorrected",
                "latency (µs, log scale)",
                true,
                uncorrected,
            )
        } else {
            None
        },
        Timeline::new("load_errors", "Errors per second, by kind", "errors", false, errors),
        Timeline::new(
            "load_cpu",
            "CPU per request: server and Redis",
            "µs per request",
            false,
            vec![
                line("server", SERVER, false, ts.series("server_cpu_us_per_req")),
                line("redis-server", REDIS, false, ts.series("redis_cpu_us_per_req")),
            ],
        ),
        Timeline::new(
            "load_memory",
            "Memory: server RSS and Redis used_memory",
            "MiB",
            false,
            vec![
                line("server RSS", SERVER, false, mib("server_rss_bytes")),
                line("Redis used_memory", REDIS, false, mib("redis_used_memory")),
            ],
        ),
        Timeline::new(
            "load_generator",
            "Load generator: CPU (% of one core) and worst timer lag (ms)",
            "% of one core / ms",
            false,
            vec![
                line("CPU %", SERVER, false, ts.series("gen_cpu_percent")),
                line(
                    "lag ms",
                    REDIS,
                    true,
                    ts.series("gen_lag_max_us").into_iter().map(|(t, v)| (t, v / 1000.0)).collect(),
                ),
            ],
        ),
    ]
    .into_iter()
    .flatten()
    .collect()
}

fn num(v: &Value, digits: usize) -> String {
    v.as_f64().map_or("–".into(), |x| format!("{x:.digits$}"))
}

fn ms(v: &Value) -> String {
    v.as_f64().map_or("–".into(), |us| format!("{:.2}", us / 1000.0))
}

/// The document: the run's summary as tables, then one section per chart.
pub fn document(summary: &Value, ts: &Timeseries, plots: &[Rendered]) -> Document {
    let mut d = Document::new(format!(
        "authbench load: {} · {} model · {} s",
        summary["scheme"].as_str().unwrap_or("?"),
        summary["model"].as_str().unwrap_or("?"),
        num(&summary["duration_s"], 1)
    ));
    let mut facts = vec![
        format!("target {}", summary["target"].as_str().unwrap_or("?")),
        format!("{} rows of per-second figures (timeseries.csv)", ts.rows()),
        format!("most virtual users at once: {}", summary["vus_max"]),
    ];
    if summary["interrupted"] == true {
        facts.push("interrupted (Ctrl-C) before the planned end".into());
    }
    if let Some(rule) = summary["aborted_by_threshold"].as_str() {
        facts.push(format!("stopped early by --abort-on-fail: {rule}"));
    }
    if summary["target_lost"] == true {
        facts.push("the target stopped answering during the run".into());
    }
    if summary["generator"]["saturated"] == true {
        facts.push(format!(
            "the generator may have been the bottleneck for {} s (timer lag over 10 ms or CPU near its cores)",
            summary["generator"]["saturated_seconds"]
        ));
    }
    d.bullets(facts);
    d.h(2, "Summary");
    let mut rows = Vec::new();
    // A flow's named requests (when it has several) right after `me`, which adds them up.
    let named = summary["requests"].as_array().cloned().unwrap_or_default();
    if let Some(endpoints) = summary["endpoints"].as_object() {
        let parts = |name: &String| {
            let mine = name == "me";
            named
                .iter()
                .filter(move |_| mine)
                .map(|r| (format!("me: {}", r["name"].as_str().unwrap_or("?")), r))
        };
        let all =
            endpoints.iter().flat_map(|(name, e)| std::iter::once((name.clone(), e)).chain(parts(name)));
        for (name, e) in all {
            let l = &e["latency_us"];
            rows.push(vec![
                name,
                e["count"].to_string(),
                e["errors"].to_string(),
                num(&e["rps"], 1),
                ms(&l["p50"]),
                ms(&l["p90"]),
                ms(&l["p95"]),
                ms(&l["p99"]),
                ms(&l["p999"]),
                ms(&l["max"]),
                ms(&e["uncorrected_latency_us"]["p99"]),
            ]);
        }
    }
    d.table(
        [
            "endpoint",
            "ok",
            "errors",
            "req/s",
            "p50 ms",
            "p90 ms",
            "p95 ms",
            "p99 ms",
            "p99.9 ms",
            "max ms",
            "p99 uncorrected ms",
        ]
        .map(String::from)
        .to_vec(),
        rows,
    );
    d.table(
        [
            "server CPU µs/req",
            "server RSS max MiB",
            "Redis CPU µs/req",
            "Redis used_memory max MiB",
            "generator CPU %",
            "generator worst lag ms",
        ]
        .map(String::from)
        .to_vec(),
        vec![vec![
            num(&summary["server"]["cpu_us_per_req"], 2),
            summary["server"]["rss_bytes_max"]
                .as_f64()
                .map_or("–".into(), |b| format!("{:.1}", b / 1_048_576.0)),
            num(&summary["redis"]["cpu_us_per_req"], 2),
            summary["redis"]["used_memory_max"]
                .as_f64()
                .map_or("–".into(), |b| format!("{:.1}", b / 1_048_576.0)),
            num(&summary["generator"]["cpu_percent"], 1),
            ms(&summary["generator"]["max_lag_us"]),
        ]],
    );
    if let Some(verdicts) = summary["thresholds"].as_array().filter(|v| !v.is_empty()) {
        d.h(2, "Thresholds");
        let rows = verdicts
            .iter()
            .map(|v| {
                vec![
                    v["threshold"].as_str().unwrap_or("?").to_owned(),
                    if v["ok"] == true { "ok" } else { "FAILED" }.to_owned(),
                    num(&v["actual"], 3),
                ]
            })
            .collect();
        d.table(["rule", "verdict", "measured"].map(String::from).to_vec(), rows);
    }
    for p in plots {
        d.h(2, p.plot.title.clone());
        d.plot(p.plot.name.clone(), p.plot.title.clone());
    }
    if plots.is_empty() {
        d.p("No per-second rows: the run ended before its first second.");
    }
    d
}

/// Read a load results folder and draw its charts into it.
pub fn render_charts(dir: &Path) -> Result<(Value, Timeseries, Vec<Rendered>), Error> {
    let path = dir.join(run_file::SUMMARY_JSON);
    let text = std::fs::read(&path).map_err(|source| Error::Io { path: path.clone(), source })?;
    let summary: Value = serde_json::from_slice(&text).map_err(|source| Error::Json { path, source })?;
    let ts = Timeseries::read(&dir.join(run_file::TIMESERIES))?;
    register_font();
    let plots = charts(&ts).iter().map(|c| render(c, dir)).collect::<Result<Vec<_>, _>>()?;
    Ok((summary, ts, plots))
}
