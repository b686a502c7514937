//! `authbench report DIR`: read a results folder's CSVs (or a load run's files) and write its
//! plots, `report.md` and `report.html` into it.

use std::path::{Path, PathBuf};

use crate::data;
use crate::error::Error;
use crate::plot::RenderedPlot;
use crate::results::Results;
use crate::write::write_file;
use crate::{analysis, content, html, load_run, markdown, plot, ramp_levels};

/// Everything [`render`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedReport {
    pub markdown: PathBuf,
    pub html: PathBuf,
    pub plots: Vec<RenderedPlot>,
    /// Input files that were absent (their sections say "not measured in this run").
    pub missing: Vec<String>,
}

/// Files of which a compare run holds at least one.
const COMPARE_FILES: [&str; 8] = [
    data::file::SUMMARY,
    data::file::RAMP,
    data::file::SESSIONS,
    data::file::SPECTRUM,
    data::file::REVOCATION,
    data::file::CREDENTIALS,
    data::file::CHECKS,
    data::file::ENVIRONMENT,
];

/// Read the CSVs in `dir` and write plots, `report.md` and `report.html` into it.
pub fn render(dir: &Path) -> Result<RenderedReport, Error> {
    if !dir.is_dir() {
        return Err(Error::NotADirectory(dir.to_path_buf()));
    }
    if load_run::is_load_dir(dir) {
        let (summary, ts, plots) = load_run::render_charts(dir)?;
        let document = load_run::document(&summary, &ts, &plots);
        let markdown_path = dir.join(data::file::REPORT_MD);
        write_file(&markdown_path, |w| markdown::write(w, &document))?;
        let html_path = dir.join(data::file::REPORT_HTML);
        let svgs = plots.iter().map(|p| (p.plot.name.clone(), p.svg_text.clone())).collect();
        write_file(&html_path, |w| html::write(w, &document, &svgs))?;
        return Ok(RenderedReport {
            markdown: markdown_path,
            html: html_path,
            plots: plots.into_iter().map(|p| p.plot).collect(),
            missing: Vec::new(),
        });
    }
    if !COMPARE_FILES.iter().any(|f| dir.join(f).is_file()) {
        return Err(Error::NoResults(dir.to_path_buf()));
    }
    let results = Results::read_dir(dir)?;
    let analysis = analysis::Analysis::new(&results);
    if results.ramp_levels_source == ramp_levels::Source::Histograms {
        let path = dir.join(data::file::RAMP_LEVELS);
        write_file(&path, |w| data::write_csv(w, &results.ramp_levels).map_err(std::io::Error::other))?;
    }
    let plots = plot::render_all(&analysis, dir)?;
    let document = content::build(&analysis, &plots);
    // The answer as files: the README includes answer.md (a test keeps the two equal).
    if let Some((md, csv)) = content::answer_files(&analysis) {
        write_file(&dir.join(data::file::ANSWER_MD), |w| std::io::Write::write_all(w, &md))?;
        write_file(&dir.join(data::file::ANSWER_CSV), |w| std::io::Write::write_all(w, &csv))?;
    }

    let markdown_path = dir.join(data::file::REPORT_MD);
    write_file(&markdown_path, |w| markdown::write(w, &document))?;

    let html_path = dir.join(data::file::REPORT_HTML);
    let svgs = plots.iter().map(|p| (p.plot.name.clone(), p.svg_text.clone())).collect();
    write_file(&html_path, |w| html::write(w, &document, &svgs))?;

    Ok(RenderedReport {
        markdown: markdown_path,
        html: html_path,
        plots: plots.into_iter().map(|p| p.plot).collect(),
        missing: results.missing.clone(),
    })
}
