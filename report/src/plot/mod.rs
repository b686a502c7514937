//! The charts. Each is a [`Chart`] drawn once on a PNG bitmap and once on an SVG string, so
//! both files show the same picture. PNG text uses DejaVu Sans embedded in the binary
//! (`fonts/`, registered through plotters' `ab_glyph` feature), never the system's fonts.
//!
//! One file per chart family: [`users`] (latency, throughput vs concurrent users), [`load`]
//! (achieved rate and p99 vs offered rate past the knee, CPU vs load), [`sessions`]
//! (latency, memory vs stored sessions), [`cpu`], [`spectrum`], [`credentials`], [`revocation`],
//! [`revocation_memory`] (the JWT variants' Redis memory against logout rate),
//! [`timeline`] (one `authbench load` run over time), [`design`] (CPU per request against
//! revocation window, a point per scheme);
//! [`chart`], [`style`] and [`series`] hold what they share; [`spread`] draws the spread across repeats
//! (CI bands and whiskers) and words the footnote that says what it is, or that there is none.

mod chart;
mod cpu;
mod credentials;
mod design;
mod load;
mod revocation;
mod revocation_memory;
mod series;
mod sessions;
mod spectrum;
pub mod spread;
mod style;
mod timeline;
mod users;

pub use chart::{Chart, Rendered, RenderedPlot, register_font, scheme_color};
pub use cpu::CpuPerRequest;
pub use credentials::CredentialBytes;
pub use design::DesignSpace;
pub use load::{CpuVsLoad, LatencyVsLoad, ThroughputVsLoad};
pub use revocation::Revocation;
pub use revocation_memory::MemoryVsLogoutRate;
pub use sessions::{LatencyVsSessions, MemoryVsSessions};
pub use spectrum::Spectrum;
pub use timeline::{TimeLine, Timeline};
pub use users::{LatencyVsUsers, ThroughputVsUsers};

use chart::{DrawResult, SIZE};

use crate::analysis::Analysis;
use crate::error::Error;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;

/// Height of one footnote line, and the most characters of 14 px text that fit one line of the
/// chart's width (DejaVu Sans averages about 7.6 px a character at 14 px).
const NOTE_LINE: u32 = 20;
const NOTE_CHARS: usize = 140;

/// `text` broken at spaces into lines of at most `width` characters.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = vec![String::new()];
    for word in text.split(' ') {
        let line = lines.last_mut().expect("one line at least");
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(word.to_owned());
        } else {
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
    }
    lines
}

/// Draw `chart` on `root`, with its footnote (if any), wrapped, in a strip along the bottom.
fn draw_with_note<C: Chart, DB: DrawingBackend>(chart: &C, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
    let note = chart.note();
    if note.is_empty() {
        return chart.draw(root);
    }
    let lines = wrap(&note, NOTE_CHARS);
    let (_, h) = root.dim_in_pixel();
    let (body, foot) = root.split_vertically(h.saturating_sub(NOTE_LINE * lines.len() as u32 + 10));
    chart.draw(&body)?;
    let style = style::label_font(14).color(&RGBColor(70, 70, 70));
    for (i, line) in lines.iter().enumerate() {
        foot.draw(&Text::new(line.clone(), (20, 4 + NOTE_LINE as i32 * i as i32), style.clone()))?;
    }
    Ok(())
}

/// Draw every chart that has data into `dir`; charts without data are skipped.
pub fn render_all(a: &Analysis<'_>, dir: &Path) -> Result<Vec<Rendered>, Error> {
    register_font();
    let mut out = Vec::new();
    if let Some(c) = LatencyVsUsers::new(a) {
        out.push(render(&c, dir)?);
    }
    if let Some(c) = ThroughputVsUsers::new(a) {
        out.push(render(&c, dir)?);
    }
    if let Some(c) = ThroughputVsLoad::new(a) {
        out.push(render(&c, dir)?);
    }
    if let Some(c) = LatencyVsLoad::new(a) {
        out.push(render(&c, dir)?);
    }
    if let Some(c) = CpuVsLoad::new(a) {
        out.push(render(&c, dir)?);
    }
    if let Some(c) = LatencyVsSessions::new(a) {
        out.push(render(&c, dir)?);
    }
    if let Some(c) = MemoryVsSessions::new(a) {
        out.push(render(&c, dir)?);
    }
    if let Some(c) = CpuPerRequest::new(a) {
        out.push(render(&c, dir)?);
    }
    if let Some(c) = Spectrum::new(a) {
        out.push(render(&c, dir)?);
    }
    if let Some(c) = CredentialBytes::new(a) {
        out.push(render(&c, dir)?);
    }
    if let Some(c) = Revocation::new(a) {
        out.push(render(&c, dir)?);
    }
    if let Some(c) = MemoryVsLogoutRate::new(a) {
        out.push(render(&c, dir)?);
    }
    if let Some(c) = DesignSpace::new(a) {
        out.push(render(&c, dir)?);
    }
    Ok(out)
}

/// Write `<name>.png` and `<name>.svg` for one chart.
pub fn render<C: Chart>(chart: &C, dir: &Path) -> Result<Rendered, Error> {
    register_font();
    let name = chart.name();
    let err = |message: String| Error::Plot { plot: name.to_string(), message };
    let png = dir.join(format!("{name}.png"));
    {
        let root = BitMapBackend::new(&png, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(|e| err(e.to_string()))?;
        draw_with_note(chart, &root).map_err(|e| err(e.to_string()))?;
        root.present().map_err(|e| err(e.to_string()))?;
    }
    let mut svg_text = String::new();
    {
        let root = SVGBackend::with_string(&mut svg_text, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(|e| err(e.to_string()))?;
        draw_with_note(chart, &root).map_err(|e| err(e.to_string()))?;
        root.present().map_err(|e| err(e.to_string()))?;
    }
    let svg = dir.join(format!("{name}.svg"));
    std::fs::write(&svg, &svg_text).map_err(|source| Error::Io { path: svg.clone(), source })?;
    Ok(Rendered { plot: RenderedPlot { name: name.to_string(), title: chart.title(), png, svg }, svg_text })
}
