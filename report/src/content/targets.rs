//! The "Your services" section (`compare --target`): each target's flow and URL, what was measured
//! against it (its rows in the tables and plots carry its name), what was not and why, and whether
//! server CPU and store memory were measured — all from `environment.json`'s `targets`.

use serde_json::Value;

use crate::analysis::Analysis;
use crate::doc::Document;
use crate::units;

pub(super) fn targets_section(d: &mut Document, a: &Analysis<'_>) {
    let Some(Value::Array(targets)) = a.results.environment.other.get("targets") else { return };
    if targets.is_empty() {
        return;
    }
    d.h(2, "Your services (--target)");
    d.p("Each service below was driven through its flow file; its rows in the tables, plots and CSVs carry \
         its name as the scheme. The phases that need authbench's own server or Redis layout were not run \
         against it.");
    let text = |v: &Value| v.as_str().unwrap_or("?").to_owned();
    let list = |v: &Value| match v {
        Value::Array(items) => items.iter().map(text).collect::<Vec<_>>().join(", "),
        _ => "?".into(),
    };
    let mut lines = Vec::new();
    for t in targets {
        let not_run = match &t["not_run"] {
            Value::Array(items) => items
                .iter()
                .map(|p| format!("{} ({})", text(&p["phase"]), text(&p["reason"])))
                .collect::<Vec<_>>()
                .join("; "),
            _ => "?".into(),
        };
        let memory = match (&t["store_used_memory_bytes"]["before"], &t["store_used_memory_bytes"]["after"]) {
            (Value::Number(b), Value::Number(f)) => format!(
                "store memory {} before, {} after the run",
                units::bytes(b.as_f64().unwrap_or(0.0)),
                units::bytes(f.as_f64().unwrap_or(0.0))
            ),
            _ => format!("store memory {}", text(&t["store_memory"])),
        };
        lines.push(format!(
            "**{}** ({}, flow `{}`): run: {}; server CPU {}; {}. Not run: {}.",
            text(&t["name"]),
            text(&t["url"]),
            text(&t["flow"]),
            list(&t["run"]),
            text(&t["server_cpu"]),
            memory,
            not_run
        ));
    }
    d.bullets(lines);
}
