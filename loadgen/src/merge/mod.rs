//! `authbench merge OUT DIR…`: the results folders of N agents (`authbench load --agent I/N`)
//! joined into one folder with exactly the layout of one `load` folder — `timeseries.csv`,
//! `summary.json`, `summary.csv`, `<endpoint>.hlog` (and `.uncorrected.hlog` in the open model) —
//! so whatever reads a load folder (`authbench report`, HistogramLogProcessor) reads it.
//!
//! - [`read`]: one agent's folder, read strictly and checked (a missing or truncated file is an
//!   error naming it).
//! - [`combine`]: the merged seconds on one absolute clock and the recomputed summary.
//!
//! Everything is read and checked before OUT is created; OUT must not exist or be empty, so
//! nothing is overwritten. Folders of different tests ([`crate::agent::Definition`]) or the same
//! agent twice are refused (exit 2). Thresholds are judged on the merged result (exit 99).

pub mod combine;
pub mod read;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::error::{Error, Result};
use crate::hlog::{HlogWriter, Series};
use crate::output::{timeseries_header, write_row, write_summary_csv, write_summary_json};
use crate::summary::Summary;
use read::AgentFolder;

/// Options of `authbench merge`.
#[derive(Debug, Clone, clap::Args)]
#[command(
    about = "Merge the results folders of `authbench load --agent I/N` runs into one load folder",
    after_help = "Exit codes: 0 ok · 2 bad input (folders of different tests, the same agent twice, a missing or \
truncated file, OUT not empty) · 1 output error · 99 a threshold of the test violated by the merged result."
)]
pub struct MergeArgs {
    /// Folder to create (it must not exist, or be empty).
    pub out: PathBuf,
    /// The agents' `--out` folders.
    #[arg(required = true, num_args = 1..)]
    pub dirs: Vec<PathBuf>,
}

/// Read, check and merge `dirs` into `out`. Returns the merged summary (its thresholds judged).
pub fn merge(out: &Path, dirs: &[PathBuf]) -> Result<Summary> {
    if out.exists() && std::fs::read_dir(out).map_or(true, |mut d| d.next().is_some()) {
        return Err(Error::BadInput(format!(
            "{}: exists and is not empty; merge writes a new folder",
            out.display()
        )));
    }
    let mut agents = dirs.iter().map(|d| AgentFolder::read(d)).collect::<Result<Vec<_>>>()?;
    let first = &agents[0];
    let test = first.agent.test.clone();
    for a in &agents[1..] {
        if a.agent.test != test {
            return Err(Error::BadInput(format!(
                "{} and {} are runs of different tests (scheme, load model, think time, mix, users, agent \
count, --start-at or thresholds differ): refusing to merge them",
                first.dir.display(),
                a.dir.display()
            )));
        }
    }
    agents.sort_by_key(|a| a.agent.index);
    for w in agents.windows(2) {
        if w[0].agent.index == w[1].agent.index {
            return Err(Error::BadInput(format!(
                "{} and {} are both agent {}/{}: each agent once",
                w[0].dir.display(),
                w[1].dir.display(),
                w[0].agent.index,
                test.agents
            )));
        }
    }
    let missing: Vec<String> = (1..=test.agents)
        .filter(|i| !agents.iter().any(|a| a.agent.index == *i))
        .map(|i| i.to_string())
        .collect();
    if !missing.is_empty() {
        eprintln!(
            "authbench merge: warning: agents {} of {} are missing: the result is part of the test",
            missing.join(", "),
            test.agents
        );
    }
    let t0 = agents.iter().map(|a| a.agent.load_started_at).fold(f64::MAX, f64::min);
    let keys: Vec<(crate::record::Endpoint, Series)> = {
        let mut k: Vec<_> = agents.iter().flat_map(|a| a.hlogs.iter().map(|(e, s, _)| (*e, *s))).collect();
        k.sort_by_key(|(e, s)| (*e as usize, *s == Series::Uncorrected));
        k.dedup();
        k
    };
    let seconds = combine::timeline(&agents, t0, &keys);
    let mut summary = combine::summary(&agents, &test, t0);
    summary.vus_max = combine::vus_max(&seconds);

    // Every file in memory first: nothing is created unless everything merged.
    let start = SystemTime::UNIX_EPOCH + Duration::from_secs_f64(t0);
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let io = |what: &str| {
        let path = out.join(what);
        move |source| Error::Output { path, source }
    };
    let mut ts = format!("{}\n", timeseries_header()).into_bytes();
    for s in &seconds {
        write_row(&mut ts, &s.row).map_err(io("timeseries.csv"))?;
    }
    files.push(("timeseries.csv".into(), ts));
    for (i, (e, series)) in keys.iter().enumerate() {
        let (name, what) = match series {
            Series::Latency => (format!("{}.hlog", e.as_str()), format!("{} (merged)", e.as_str())),
            Series::Uncorrected => (
                format!("{}.uncorrected.hlog", e.as_str()),
                format!("{} (uncorrected: from actual send; merged)", e.as_str()),
            ),
        };
        let mut buf = Vec::new();
        let mut w = HlogWriter::begin(&mut buf, &what, start).map_err(io(&name))?;
        for s in &seconds {
            let length = Duration::from_secs_f64(s.row.interval_s);
            let offset = Duration::from_secs_f64(s.from_s);
            w.interval(&s.histograms[i].2, offset, length).map_err(io(&name))?;
        }
        w.flush().map_err(io(&name))?;
        drop(w);
        files.push((name, buf));
    }
    let mut csv = Vec::new();
    write_summary_csv(&mut csv, &summary).map_err(io("summary.csv"))?;
    files.push(("summary.csv".into(), csv));
    let mut json = Vec::new();
    write_summary_json(&mut json, &summary).map_err(io("summary.json"))?;
    // summary.json last: a folder with one is complete.
    files.push(("summary.json".into(), json));

    std::fs::create_dir_all(out).map_err(Error::output(out))?;
    for (name, bytes) in files {
        let path = out.join(&name);
        let mut f = std::fs::File::create(&path).map_err(Error::output(&path))?;
        f.write_all(&bytes).and_then(|()| f.flush()).map_err(Error::output(&path))?;
    }
    Ok(summary)
}
