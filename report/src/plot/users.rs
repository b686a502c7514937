//! The closed-model ramp: latency and throughput against concurrent virtual users (ramp.csv).

use super::chart::{Chart, DrawResult, scheme_color};
use super::series::{Curves, Line, Spread, draw_curves, draw_lines};
use super::spread::{Domain, Estimate, interval_note};
use super::style::{draw_legend, frame, label_font, log_bounds, log_ticks, max_of};
use crate::analysis::Analysis;
use crate::ramp_levels::Source;
use crate::stats::MeanCi;
use crate::units;
use plotters::coord::Shift;
use plotters::prelude::*;

/// p50 / p99 of `/api/me` against concurrent virtual users, schemes overlaid (ramp.csv).
pub struct LatencyVsUsers {
    series: Vec<Curves>,
    source: Source,
}

impl LatencyVsUsers {
    pub fn new(a: &Analysis<'_>) -> Option<Self> {
        let series: Vec<_> = a
            .ramp
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let at = |l: &crate::analysis::RampLevel, m: Option<MeanCi>| {
                    Some(Estimate::new(l.active_vus as f64, &m?, Domain::NonNegative))
                };
                let p50 = r.levels.iter().filter_map(|l| at(l, l.p50_us)).collect();
                let p99 = r.levels.iter().filter_map(|l| at(l, l.p99_us)).collect();
                Curves { scheme: r.scheme.clone(), color: scheme_color(&r.scheme, i), p50, p99 }
            })
            .collect();
        let source = a.results.ramp_levels_source;
        series.iter().any(|s| !s.p50.is_empty()).then_some(LatencyVsUsers { series, source })
    }
}

impl Chart for LatencyVsUsers {
    fn name(&self) -> &'static str {
        "latency_vs_users"
    }
    fn title(&self) -> String {
        "GET /api/me latency vs concurrent users (p50 solid, p99 dashed)".into()
    }
    fn note(&self) -> String {
        let what = match self.source {
            Source::Histograms | Source::File => "per users level: percentiles of the merged histograms",
            Source::PerSecond => "per users level: mean of per-second percentiles (no histograms here)",
        };
        format!("{what}; {}", interval_note("shaded", self.series.iter().flat_map(|s| s.estimates())))
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let xmax = max_of(self.series.iter().flat_map(|s| s.estimates().map(|e| e.x))).max(1.0);
        let (ylo, yhi) =
            log_bounds(self.series.iter().flat_map(|s| s.estimates().map(|e| e.mean))).unwrap_or((1.0, 10.0));
        let mut chart = frame(root, self.title(), 55).build_cartesian_2d(
            0f64..xmax * 1.03,
            (ylo..yhi).log_scale().with_key_points(log_ticks(ylo, yhi)),
        )?;
        chart
            .configure_mesh()
            .x_desc("concurrent virtual users (closed model)")
            .x_label_formatter(&|v| units::count(*v))
            .y_desc("latency (µs, log scale)")
            .axis_desc_style(label_font(18))
            .label_style(label_font(15))
            .y_label_formatter(&|v| units::axis(*v))
            .draw()?;
        draw_curves(&mut chart, &self.series, Spread::Band)?;
        draw_legend(&mut chart, SeriesLabelPosition::UpperLeft)
    }
}

/// Completed `/api/me` requests per second against concurrent users (ramp.csv).
pub struct ThroughputVsUsers {
    series: Vec<Line>,
}

impl ThroughputVsUsers {
    pub fn new(a: &Analysis<'_>) -> Option<Self> {
        let series: Vec<_> = a
            .ramp
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let points = r
                    .levels
                    .iter()
                    .map(|l| Estimate::new(l.active_vus as f64, &l.rps, Domain::NonNegative))
                    .collect();
                Line { scheme: r.scheme.clone(), color: scheme_color(&r.scheme, i), points }
            })
            .collect();
        (!series.is_empty()).then_some(ThroughputVsUsers { series })
    }
}

impl Chart for ThroughputVsUsers {
    fn name(&self) -> &'static str {
        "throughput_vs_users"
    }
    fn title(&self) -> String {
        "GET /api/me throughput vs concurrent users".into()
    }
    fn note(&self) -> String {
        interval_note("shaded", self.series.iter().flat_map(|s| &s.points))
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let xmax = max_of(self.series.iter().flat_map(|s| s.points.iter().map(|e| e.x))).max(1.0);
        let ymax = max_of(self.series.iter().flat_map(|s| s.points.iter().map(|e| e.range().1))).max(1.0);
        let mut chart =
            frame(root, self.title(), 55).build_cartesian_2d(0f64..xmax * 1.03, 0f64..ymax * 1.15)?;
        chart
            .configure_mesh()
            .x_desc("concurrent virtual users (closed model)")
            .x_label_formatter(&|v| units::count(*v))
            .y_desc("completed requests per second")
            .axis_desc_style(label_font(18))
            .label_style(label_font(15))
            .y_label_formatter(&|v| units::count(*v))
            .draw()?;
        draw_lines(&mut chart, &self.series, Spread::Band)?;
        draw_legend(&mut chart, SeriesLabelPosition::LowerRight)
    }
}
