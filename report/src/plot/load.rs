//! Saturation and load (saturation.csv, cpu_vs_load.csv): achieved throughput and p99 against the
//! offered arrival rate, reaching past each scheme's knee, and CPU per request against load.
//!
//! One line per scheme: the search picks different rates in each repeat, so each repeat's curve
//! is read (interpolated) on a common grid of offered rates that every repeat reached, and the
//! line is their mean with a 95% CI band (on log values for the log-scale p99). Twenty-one
//! per-repeat polylines on one chart could not be told apart. CPU per request has the same
//! shares in every repeat and is drawn as the mean with 95% CI whiskers.

use super::chart::{Chart, DrawResult, scheme_color};
use super::style::{draw_legend, frame, label_font, log_bounds, log_ticks, max_of};
use crate::analysis::Analysis;
use crate::saturation::{LoadStepRow, SchemeLoad};
use crate::units;
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;

/// One scheme's runs: one polyline per repeat (sorted by offered rate) and its knees.
struct Runs {
    scheme: String,
    color: RGBColor,
    /// (offered, value) per repeat.
    repeats: Vec<Vec<(f64, f64)>>,
    knees: Vec<(f64, f64)>,
}

fn runs(a: &Analysis<'_>, value: fn(&LoadStepRow) -> Option<f64>) -> Vec<Runs> {
    SchemeLoad::all(&a.results.saturation, &a.results.cpu_vs_load, &a.schemes)
        .into_iter()
        .enumerate()
        .filter_map(|(i, l)| {
            let mut ids: Vec<u32> = l.steps.iter().chain(&l.ladder).map(|x| x.repeat).collect();
            ids.sort_unstable();
            ids.dedup();
            let repeats: Vec<Vec<(f64, f64)>> = ids
                .iter()
                .map(|r| {
                    let mut pts: Vec<(f64, f64)> = l
                        .steps
                        .iter()
                        .chain(&l.ladder)
                        .filter(|x| x.repeat == *r)
                        .filter_map(|x| Some((x.offered_rps, value(x)?)))
                        .collect();
                    pts.sort_by(|a, b| a.0.total_cmp(&b.0));
                    pts
                })
                .filter(|p| !p.is_empty())
                .collect();
            let knees = l.knees().iter().filter_map(|x| Some((x.offered_rps, value(x)?))).collect();
            (!repeats.is_empty()).then(|| Runs {
                color: scheme_color(&l.scheme, i),
                scheme: l.scheme,
                repeats,
                knees,
            })
        })
        .collect()
}

/// Points of the common grid: offered rates every repeat of the scheme reached.
const GRID: usize = 24;

/// `pts` (sorted by x) read at `x`, linearly (in `ln y` when `log`); `None` outside its range.
fn at(pts: &[(f64, f64)], x: f64, log: bool) -> Option<f64> {
    let f = |y: f64| if log { y.max(1e-9).ln() } else { y };
    let w = pts.windows(2).find(|w| w[0].0 <= x && x <= w[1].0)?;
    let (a, b) = (w[0], w[1]);
    let t = if b.0 > a.0 { (x - a.0) / (b.0 - a.0) } else { 0.0 };
    Some(f(a.1) + (f(b.1) - f(a.1)) * t)
}

/// Mean and 95% band (low, high) of the repeats on the common grid: (x, mean, low, high); a
/// single repeat gives its own curve with no band.
fn band(repeats: &[Vec<(f64, f64)>], log: bool) -> Vec<(f64, f64, f64, f64)> {
    if repeats.len() == 1 {
        return repeats[0].iter().map(|&(x, y)| (x, y, y, y)).collect();
    }
    let lo = repeats.iter().filter_map(|r| r.first().map(|p| p.0)).fold(f64::NEG_INFINITY, f64::max);
    let hi = repeats.iter().filter_map(|r| r.last().map(|p| p.0)).fold(f64::INFINITY, f64::min);
    if lo.is_nan() || hi.is_nan() || lo >= hi {
        return Vec::new();
    }
    let back = |v: f64| if log { v.exp() } else { v };
    (0..=GRID)
        .filter_map(|k| {
            let x = lo + (hi - lo) * k as f64 / GRID as f64;
            let ys: Vec<f64> = repeats.iter().filter_map(|r| at(r, x, log)).collect();
            let m = crate::stats::mean_ci(&ys)?;
            Some((x, back(m.mean), back(m.ci95_low.unwrap_or(m.mean)), back(m.ci95_high.unwrap_or(m.mean))))
        })
        .collect()
}

fn draw_runs<DB: DrawingBackend, Y: Ranged<ValueType = f64>>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<plotters::coord::types::RangedCoordf64, Y>>,
    series: &[Runs],
    log: bool,
) -> DrawResult<DB> {
    for s in series {
        let c = s.color;
        let b = band(&s.repeats, log);
        if b.len() >= 2 && s.repeats.len() > 1 {
            let outline: Vec<(f64, f64)> =
                b.iter().map(|p| (p.0, p.3)).chain(b.iter().rev().map(|p| (p.0, p.2))).collect();
            chart.draw_series(std::iter::once(Polygon::new(outline, c.mix(0.18).filled())))?;
        }
        chart
            .draw_series(LineSeries::new(b.iter().map(|p| (p.0, p.1)), c.stroke_width(3)))?
            .label(s.scheme.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], c.stroke_width(3)));
        chart.draw_series(s.knees.iter().map(|&p| Cross::new(p, 10, c.stroke_width(3))))?;
    }
    if series.iter().any(|s| !s.knees.is_empty()) {
        chart
            .draw_series(std::iter::empty::<Cross<(f64, f64), i32>>())?
            .label("knee of each repeat (first offered rate past it)")
            .legend(|(x, y)| Cross::new((x + 12, y), 7, BLACK.stroke_width(3)));
    }
    Ok(())
}

/// The footnote of the two charts drawn with [`band`].
fn band_note(series: &[Runs], log: bool) -> String {
    let n = series.iter().map(|s| s.repeats.len()).max().unwrap_or(0);
    if n < 2 {
        return "one repeat: its own curve, no band".into();
    }
    format!(
        "lines: mean of {n} repeats, read at the offered rates every repeat reached (each repeat's curve interpolated); \
         band: 95% CI (Student t{}); crosses: each repeat's knee",
        if log { " on log latencies" } else { "" }
    )
}

fn repeats_note(series: &[Runs]) -> &'static str {
    if series.iter().all(|s| s.repeats.len() < 2) { " — one repeat, no spread shown" } else { "" }
}

/// Achieved against offered `/api/me` rate (open model), past the knee.
pub struct ThroughputVsLoad {
    series: Vec<Runs>,
}

impl ThroughputVsLoad {
    pub fn new(a: &Analysis<'_>) -> Option<Self> {
        let series = runs(a, |x| Some(x.achieved_rps));
        (!series.is_empty()).then_some(ThroughputVsLoad { series })
    }
}

impl Chart for ThroughputVsLoad {
    fn name(&self) -> &'static str {
        "throughput_vs_load"
    }
    fn title(&self) -> String {
        format!("GET /api/me achieved vs offered rate (open model){}", repeats_note(&self.series))
    }
    fn note(&self) -> String {
        band_note(&self.series, false)
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let pts = || self.series.iter().flat_map(|s| band(&s.repeats, false)).map(|p| (p.0, p.3));
        let xmax =
            max_of(pts().map(|p| p.0).chain(self.series.iter().flat_map(|s| s.knees.iter().map(|k| k.0))))
                .max(1.0)
                * 1.05;
        let ymax = max_of(pts().map(|p| p.1)).max(1.0) * 1.15;
        let mut chart = frame(root, self.title(), 55).build_cartesian_2d(0f64..xmax, 0f64..ymax)?;
        chart
            .configure_mesh()
            .x_desc("offered arrival rate (requests/s)")
            .x_label_formatter(&|v| units::count(*v))
            .y_desc("achieved rate (successful requests/s)")
            .y_label_formatter(&|v| units::count(*v))
            .axis_desc_style(label_font(18))
            .label_style(label_font(15))
            .draw()?;
        let top = xmax.min(ymax);
        let grey = RGBColor(120, 120, 120);
        chart
            .draw_series(std::iter::once(DashedPathElement::new(vec![(0.0, 0.0), (top, top)], 8, 5, grey)))?
            .label("achieved = offered")
            .legend(move |(x, y)| DashedPathElement::new(vec![(x, y), (x + 24, y)], 6, 3, grey));
        draw_runs(&mut chart, &self.series, false)?;
        draw_legend(&mut chart, SeriesLabelPosition::UpperLeft)
    }
}

/// Corrected p99 against the offered rate, with the SLO line.
pub struct LatencyVsLoad {
    series: Vec<Runs>,
    slo_us: Option<f64>,
}

impl LatencyVsLoad {
    pub fn new(a: &Analysis<'_>) -> Option<Self> {
        let series = runs(a, |x| x.me_p99_us);
        let slo_us = a.results.environment.slo_p99_ms.map(|ms| ms * 1e3);
        (!series.is_empty()).then_some(LatencyVsLoad { series, slo_us })
    }
}

impl Chart for LatencyVsLoad {
    fn name(&self) -> &'static str {
        "latency_vs_load"
    }
    fn title(&self) -> String {
        format!("GET /api/me p99 (corrected) vs offered rate{}", repeats_note(&self.series))
    }
    fn note(&self) -> String {
        band_note(&self.series, true)
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let pts =
            || self.series.iter().flat_map(|s| band(&s.repeats, true)).flat_map(|p| [(p.0, p.2), (p.0, p.3)]);
        let xmax =
            max_of(pts().map(|p| p.0).chain(self.series.iter().flat_map(|s| s.knees.iter().map(|k| k.0))))
                .max(1.0)
                * 1.05;
        let (ylo, yhi) = log_bounds(pts().map(|p| p.1).chain(self.slo_us)).unwrap_or((1.0, 10.0));
        let mut chart = frame(root, self.title(), 55)
            .build_cartesian_2d(0f64..xmax, (ylo..yhi).log_scale().with_key_points(log_ticks(ylo, yhi)))?;
        chart
            .configure_mesh()
            .x_desc("offered arrival rate (requests/s)")
            .x_label_formatter(&|v| units::count(*v))
            .y_desc("p99 latency from the intended send (µs, log scale)")
            .y_label_formatter(&|v| units::axis(*v))
            .axis_desc_style(label_font(18))
            .label_style(label_font(15))
            .draw()?;
        if let Some(slo) = self.slo_us {
            chart
                .draw_series(std::iter::once(DashedPathElement::new(
                    vec![(0.0, slo), (xmax, slo)],
                    10,
                    6,
                    BLACK.stroke_width(2),
                )))?
                .label(format!("SLO: p99 {}", units::us(slo)))
                .legend(|(x, y)| {
                    DashedPathElement::new(vec![(x, y), (x + 24, y)], 6, 3, BLACK.stroke_width(2))
                });
        }
        draw_runs(&mut chart, &self.series, true)?;
        draw_legend(&mut chart, SeriesLabelPosition::LowerRight)
    }
}

/// One scheme's CPU per request by share: (share %, total mean, CI half, server mean).
struct CpuLine {
    scheme: String,
    color: RGBColor,
    points: Vec<(f64, f64, Option<f64>, f64)>,
    uses_redis: bool,
}

/// Server + Redis CPU per `/api/me` at fixed shares of each scheme's maximum.
pub struct CpuVsLoad {
    lines: Vec<CpuLine>,
    single: bool,
}

impl CpuVsLoad {
    pub fn new(a: &Analysis<'_>) -> Option<Self> {
        let loads = SchemeLoad::all(&a.results.saturation, &a.results.cpu_vs_load, &a.schemes);
        let mut single = true;
        let lines: Vec<CpuLine> = loads
            .iter()
            .enumerate()
            .filter_map(|(i, l)| {
                let points: Vec<_> = l
                    .shares()
                    .into_iter()
                    .filter_map(|share| {
                        let total = l.at_share(share, |x| {
                            Some(x.server_cpu_us_per_req? + x.redis_cpu_us_per_req.unwrap_or(0.0))
                        })?;
                        let server = l.at_share(share, |x| x.server_cpu_us_per_req)?;
                        single &= total.n < 2;
                        let half = total.ci95_high.map(|h| h - total.mean);
                        Some((share * 100.0, total.mean, half, server.mean))
                    })
                    .collect();
                let uses_redis = points.iter().any(|p| p.1 > p.3);
                (!points.is_empty()).then(|| CpuLine {
                    scheme: l.scheme.clone(),
                    color: scheme_color(&l.scheme, i),
                    points,
                    uses_redis,
                })
            })
            .collect();
        (!lines.is_empty()).then_some(CpuVsLoad { lines, single })
    }
}

impl Chart for CpuVsLoad {
    fn name(&self) -> &'static str {
        "cpu_vs_load"
    }
    fn title(&self) -> String {
        let spread = if self.single { "one repeat, no interval" } else { "mean ± 95% CI" };
        format!("CPU per GET /api/me vs load: server + Redis ({spread})")
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let ymax = max_of(self.lines.iter().flat_map(|l| l.points.iter().map(|p| p.1 + p.2.unwrap_or(0.0))))
            .max(f64::MIN_POSITIVE)
            * 1.2;
        let mut chart = frame(root, self.title(), 55).build_cartesian_2d(0f64..100f64, 0f64..ymax)?;
        chart
            .configure_mesh()
            .x_desc("offered rate, % of the scheme's maximum sustainable throughput")
            .x_label_formatter(&|v| format!("{v:.0}%"))
            .y_desc("CPU time per request (µs)")
            .y_label_formatter(&|v| units::axis(*v))
            .axis_desc_style(label_font(18))
            .label_style(label_font(15))
            .draw()?;
        for l in &self.lines {
            let c = l.color;
            chart
                .draw_series(
                    LineSeries::new(l.points.iter().map(|p| (p.0, p.1)), c.stroke_width(3)).point_size(5),
                )?
                .label(format!("{} server + Redis", l.scheme))
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], c.stroke_width(3)));
            // Whiskers: the 95% CI, cut at 0 (CPU time is never negative).
            chart.draw_series(l.points.iter().filter_map(|p| {
                let h = p.2?;
                let (lo, hi) = ((p.1 - h).max(0.0), p.1 + h);
                Some(PathElement::new(
                    vec![
                        (p.0 - 0.8, lo),
                        (p.0 + 0.8, lo),
                        (p.0, lo),
                        (p.0, hi),
                        (p.0 - 0.8, hi),
                        (p.0 + 0.8, hi),
                    ],
                    c.stroke_width(2),
                ))
            }))?;
            if l.uses_redis {
                chart
                    .draw_series(DashedLineSeries::new(
                        l.points.iter().map(|p| (p.0, p.3)),
                        8,
                        5,
                        c.stroke_width(2),
                    ))?
                    .label(format!("{} server only", l.scheme))
                    .legend(move |(x, y)| {
                        DashedPathElement::new(vec![(x, y), (x + 24, y)], 6, 3, c.stroke_width(2))
                    });
            }
        }
        draw_legend(&mut chart, SeriesLabelPosition::UpperRight)
    }
}
