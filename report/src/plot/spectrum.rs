//! The HdrHistogram percentile spectrum of `/api/me` (spectrum.csv).

use super::chart::{Chart, DrawResult, scheme_color};
use super::series::{Line, Spread, draw_lines};
use super::spread::Estimate;
use super::style::{draw_legend, frame, label_font, log_bounds, log_ticks, max_of};
use crate::analysis::Analysis;
use crate::units;
use plotters::coord::Shift;
use plotters::prelude::*;

/// HdrHistogram percentile spectrum per scheme, log-log (x = 1/(1−p)).
pub struct Spectrum {
    series: Vec<Line>,
    /// The common open-model arrival rate of the runs (environment.json `spectrum_rate_rps`).
    rate_rps: Option<f64>,
}

/// Cap of the 1/(1−p) axis: 99.9999th percentile.
const SPECTRUM_X_MAX: f64 = 1e6;

impl Spectrum {
    pub fn new(a: &Analysis<'_>) -> Option<Self> {
        let series: Vec<_> = a
            .spectrum
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let points = s
                    .points
                    .iter()
                    // p = 100 (the maximum) has no place on a 1/(1−p) axis; the text gives it.
                    .filter(|(p, v)| *v > 0.0 && *p < 100.0)
                    .map(|&(p, v)| Estimate::single((1.0 / (1.0 - p / 100.0)).clamp(1.0, SPECTRUM_X_MAX), v))
                    .collect();
                Line { scheme: s.scheme.clone(), color: scheme_color(&s.scheme, i), points }
            })
            .collect();
        let rate_rps = a.results.environment.spectrum_rate_rps;
        (!series.is_empty()).then_some(Spectrum { series, rate_rps })
    }
}

fn percentile_label(x: f64) -> String {
    let p = 100.0 * (1.0 - 1.0 / x);
    if p <= 0.0 {
        return "0%".into();
    }
    let decimals = (-(100.0 - p).log10()).round().max(0.0) as usize;
    format!("{p:.decimals$}%")
}

impl Chart for Spectrum {
    fn name(&self) -> &'static str {
        "latency_spectrum"
    }
    fn title(&self) -> String {
        match self.rate_rps {
            Some(r) => format!(
                "GET /api/me latency by percentile at {} req/s for every scheme (corrected, repeats merged)",
                units::count(r)
            ),
            None => "GET /api/me latency by percentile (HdrHistogram, all repeats merged)".into(),
        }
    }
    fn note(&self) -> String {
        "one histogram per scheme, every repeat's requests merged: no interval across repeats".into()
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let xmax = max_of(self.series.iter().flat_map(|s| s.points.iter().map(|e| e.x))).max(10.0);
        let (ylo, yhi) = log_bounds(self.series.iter().flat_map(|s| s.points.iter().map(|e| e.mean)))
            .unwrap_or((1.0, 10.0));
        let mut chart = frame(root, self.title(), 55).build_cartesian_2d(
            (1f64..xmax * 1.5).log_scale(),
            (ylo..yhi).log_scale().with_key_points(log_ticks(ylo, yhi)),
        )?;
        chart
            .configure_mesh()
            .x_desc("percentile (log scale of 1/(1−p))")
            .y_desc("latency (µs, log scale)")
            .axis_desc_style(label_font(18))
            .label_style(label_font(15))
            .x_label_formatter(&|x| percentile_label(*x))
            .y_label_formatter(&|v| units::axis(*v))
            .draw()?;
        draw_lines(&mut chart, &self.series, Spread::Band)?;
        draw_legend(&mut chart, SeriesLabelPosition::UpperLeft)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_axis_labels() {
        assert_eq!(percentile_label(1.0), "0%");
        assert_eq!(percentile_label(10.0), "90%");
        assert_eq!(percentile_label(100.0), "99%");
        assert_eq!(percentile_label(1000.0), "99.9%");
        assert_eq!(percentile_label(1e4), "99.99%");
    }
}
