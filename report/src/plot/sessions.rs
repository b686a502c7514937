//! The session-scaling sweep: latency and memory against stored sessions (sessions.csv).

use super::chart::{Chart, DrawResult, scheme_color};
use super::series::{Curves, MemorySeries, Spread, dodge, draw_curves, draw_spread, means};
use super::spread::{Domain, Estimate, interval_note};
use super::style::{
    caption_font, category_label, draw_legend, frame, label_font, log_bounds, log_ticks, max_of,
};
use crate::analysis::Analysis;
use crate::stats::MeanCi;
use crate::units;
use plotters::coord::Shift;
use plotters::prelude::*;

/// `/api/me` p50 / p99 at each level of stored sessions (sessions.csv), levels as categories.
pub struct LatencyVsSessions {
    levels: Vec<u64>,
    series: Vec<Curves>,
}

impl LatencyVsSessions {
    pub fn new(a: &Analysis<'_>) -> Option<Self> {
        let mut levels: Vec<u64> =
            a.sessions.iter().flat_map(|s| s.levels.iter().map(|l| l.sessions)).collect();
        levels.sort_unstable();
        levels.dedup();
        if levels.is_empty() {
            return None;
        }
        let pos = |n: u64| levels.iter().position(|&l| l == n).unwrap_or(0) as f64;
        let schemes = a.sessions.len();
        let series = a
            .sessions
            .iter()
            .enumerate()
            .map(|(i, s)| {
                // Schemes side by side at each level, so their whiskers do not hide each other.
                let x = |n: u64| pos(n) + dodge(i, schemes, 0.06);
                let at = |n: u64, m: &MeanCi| Estimate::new(x(n), m, Domain::NonNegative);
                // Geometric means with intervals on log values: an arithmetic interval of a p99 can
                // cross 0, which a log axis cannot show (it was cut there).
                let p50 = s.levels.iter().map(|l| at(l.sessions, &l.p50_geo)).collect();
                let p99 = s.levels.iter().map(|l| at(l.sessions, &l.p99_geo)).collect();
                Curves { scheme: s.scheme.clone(), color: scheme_color(&s.scheme, i), p50, p99 }
            })
            .collect();
        Some(LatencyVsSessions { levels, series })
    }
}

impl Chart for LatencyVsSessions {
    fn name(&self) -> &'static str {
        "latency_vs_sessions"
    }
    fn title(&self) -> String {
        "GET /api/me latency vs stored sessions (fixed arrival rate)".into()
    }
    fn note(&self) -> String {
        let n = self.series.iter().flat_map(|s| s.estimates()).map(|e| e.n).max().unwrap_or(0);
        if n > 1 {
            format!(
                "points: geometric mean of {n} repeats; whiskers: its 95% CI (t on log latencies), positive on the log axis"
            )
        } else {
            interval_note("whiskers", self.series.iter().flat_map(|s| s.estimates()))
        }
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let names: Vec<String> = self.levels.iter().map(|&n| units::count(n as f64)).collect();
        let n = self.levels.len() as f64;
        let (ylo, yhi) = log_bounds(
            self.series.iter().flat_map(|s| s.estimates().flat_map(|e| [e.mean, e.range().0, e.range().1])),
        )
        .unwrap_or((1.0, 10.0));
        // Headroom above the data for the legend, so it hides no point (it hid the 0 level's).
        let yhi = yhi * (yhi / ylo).powf(0.6);
        let mut chart = frame(root, self.title(), 55).build_cartesian_2d(
            -0.3f64..n - 0.7,
            (ylo..yhi).log_scale().with_key_points(log_ticks(ylo, yhi)),
        )?;
        chart
            .configure_mesh()
            .x_desc("idle logged-in users preloaded (sessions stored; cookie/JWT store nothing)")
            .y_desc("latency (µs, log scale)")
            .axis_desc_style(label_font(18))
            .label_style(label_font(15))
            .x_labels(self.levels.len() * 4 + 4)
            .x_label_formatter(&|x| category_label(&names, *x))
            .y_label_formatter(&|v| units::axis(*v))
            .disable_x_mesh()
            .draw()?;
        draw_curves(&mut chart, &self.series, Spread::Whiskers(0.0))?;
        draw_legend(&mut chart, SeriesLabelPosition::UpperMiddle)
    }
}

/// Redis used_memory (left) and server RSS (right) against stored sessions, with fitted slopes.
pub struct MemoryVsSessions {
    xmax: f64,
    /// Points are (sessions, MiB).
    redis: Vec<MemorySeries>,
    rss: Vec<MemorySeries>,
}

impl MemoryVsSessions {
    pub fn new(a: &Analysis<'_>) -> Option<Self> {
        const MIB: f64 = 1024.0 * 1024.0;
        let xmax =
            a.sessions.iter().flat_map(|s| s.levels.iter().map(|l| l.sessions as f64)).fold(0.0, f64::max);
        let mut redis = Vec::new();
        let mut rss = Vec::new();
        for (i, s) in a.sessions.iter().enumerate() {
            let c = scheme_color(&s.scheme, i);
            let enough_levels = s.levels.len() >= 3;
            let fit_line = |f: Option<crate::stats::LinearFit>| {
                f.map(|f| {
                    let r2 = match (enough_levels, f.r2.is_finite()) {
                        (true, true) => format!(", R² {:.3}", f.r2),
                        (false, _) => " (2 levels)".to_string(),
                        (true, false) => String::new(),
                    };
                    (
                        format!("{} fit: {}{r2}", s.scheme, units::bytes_per_session(f.slope, None)),
                        [(0.0, f.predict(0.0) / MIB), (xmax, f.predict(xmax) / MIB)],
                    )
                })
            };
            let mib = |l: &crate::analysis::SessionLevel, m: Option<MeanCi>| {
                let m = m?;
                let scaled = MeanCi {
                    mean: m.mean / MIB,
                    ci95_low: m.ci95_low.map(|v| v / MIB),
                    ci95_high: m.ci95_high.map(|v| v / MIB),
                    std_dev: m.std_dev.map(|v| v / MIB),
                    ..m
                };
                Some(Estimate::new(l.sessions as f64, &scaled, Domain::NonNegative))
            };
            let pts: Vec<Estimate> = s.levels.iter().filter_map(|l| mib(l, l.redis_used_memory)).collect();
            if !pts.is_empty() {
                redis.push(MemorySeries {
                    scheme: s.scheme.clone(),
                    color: c,
                    points: pts,
                    fit: fit_line(s.redis_fit),
                });
            }
            let pts: Vec<Estimate> = s.levels.iter().filter_map(|l| mib(l, l.server_rss_bytes)).collect();
            if !pts.is_empty() {
                rss.push(MemorySeries {
                    scheme: s.scheme.clone(),
                    color: c,
                    points: pts,
                    fit: fit_line(s.rss_fit),
                });
            }
        }
        (!redis.is_empty() || !rss.is_empty()).then_some(MemoryVsSessions { xmax: xmax.max(1.0), redis, rss })
    }

    fn panel<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        title: &str,
        series: &[MemorySeries],
    ) -> DrawResult<DB> {
        let ymax = max_of(series.iter().flat_map(|s| {
            s.points.iter().map(|e| e.range().1).chain(s.fit.iter().flat_map(|f| f.1.map(|p| p.1)))
        }))
        .max(1.0);
        // Headroom above the data for the legend (one entry per scheme), so it hides no line.
        let rows = series.len().max(1) as f64;
        let mut chart = ChartBuilder::on(area)
            .caption(title, label_font(20))
            .margin(15)
            .x_label_area_size(55)
            .y_label_area_size(80)
            .build_cartesian_2d(0f64..self.xmax * 1.03, 0f64..ymax * (1.15 + 0.13 * rows))?;
        chart
            .configure_mesh()
            .x_desc("stored sessions (idle logged-in users)")
            .y_desc("memory (MiB)")
            .axis_desc_style(label_font(16))
            .label_style(label_font(14))
            .x_label_formatter(&|v| units::count(*v))
            .y_label_formatter(&|v| units::axis(*v))
            .draw()?;
        if series.is_empty() {
            area.draw(&Text::new("not measured in this run", (200, 250), label_font(18)))?;
        }
        // Schemes that store the same thing draw the same line: wider lines underneath, each
        // scheme its own marker, so every one stays visible (three lay exactly on one another).
        let n = series.len();
        for (k, MemorySeries { scheme, color, points, fit }) in series.iter().enumerate() {
            let c = *color;
            let width = 2 + 3 * (n - 1 - k) as u32;
            draw_spread(&mut chart, points, c, Spread::Whiskers(0.0))?;
            let means: Vec<(f64, f64)> = means(points).collect();
            chart.draw_series(LineSeries::new(means.iter().copied(), c.stroke_width(width)))?;
            let label = match fit {
                Some((label, _)) => label.clone(),
                None => format!("{scheme} measured"),
            };
            // Each scheme its own marker shape (circle, triangle, square).
            match k % 3 {
                0 => {
                    chart
                        .draw_series(means.iter().map(|&p| Circle::new(p, 6, c.filled())))?
                        .label(label)
                        .legend(move |(x, y)| Circle::new((x + 12, y), 6, c.filled()));
                }
                1 => {
                    chart
                        .draw_series(means.iter().map(|&p| TriangleMarker::new(p, 8, c.filled())))?
                        .label(label)
                        .legend(move |(x, y)| TriangleMarker::new((x + 12, y), 8, c.filled()));
                }
                _ => {
                    chart
                        .draw_series(means.iter().map(|&p| Cross::new(p, 6, c.stroke_width(3))))?
                        .label(label)
                        .legend(move |(x, y)| Cross::new((x + 12, y), 6, c.stroke_width(3)));
                }
            }
            if let Some((_, line)) = fit {
                chart.draw_series(DashedLineSeries::new(
                    line.iter().copied(),
                    6,
                    4,
                    c.mix(0.8).stroke_width(1),
                ))?;
            }
        }
        draw_legend(&mut chart, SeriesLabelPosition::UpperLeft)
    }
}

impl Chart for MemoryVsSessions {
    fn name(&self) -> &'static str {
        "memory_vs_sessions"
    }
    fn title(&self) -> String {
        "Memory vs stored sessions (dashed: least-squares fit, slope = bytes per session)".into()
    }
    fn note(&self) -> String {
        interval_note("whiskers", self.redis.iter().chain(&self.rss).flat_map(|s| &s.points))
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let body = root.titled(&self.title(), caption_font())?;
        let panels = body.split_evenly((1, 2));
        self.panel(&panels[0], "Redis used_memory", &self.redis)?;
        self.panel(&panels[1], "auth server RSS", &self.rss)
    }
}
