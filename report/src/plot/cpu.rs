//! CPU per request: server + redis-server (+ HAProxy in front of replicas), stacked, against the
//! `/healthz` baseline (summary.csv).

use super::chart::{Chart, DrawResult, PROXY_COLOR, REDIS_COLOR, SERVER_COLOR};
use super::spread::{Domain, Estimate, draw_whiskers, interval_note};
use super::style::{category_label, centered, draw_legend, frame, label_font, max_of};
use crate::analysis::Analysis;
use crate::units;
use plotters::coord::Shift;
use plotters::prelude::*;

/// CPU µs per `/api/me`, stacked server + redis-server, with the `/healthz` baseline.
/// Server + Redis CPU per request at `x`, with its interval where it has one.
pub(super) fn total(x: f64, c: &crate::analysis::CpuPerRequest) -> Estimate {
    match c.total_ci_half {
        Some(h) => Estimate::new(
            x,
            &crate::stats::MeanCi {
                n: c.n,
                mean: c.total_us(),
                std_dev: None,
                ci95_low: Some(c.total_us() - h),
                ci95_high: Some(c.total_us() + h),
            },
            Domain::NonNegative,
        ),
        None => Estimate::single(x, c.total_us()),
    }
}

pub struct CpuPerRequest {
    /// (scheme, server, Redis, `/healthz` baseline, HAProxy) µs per request.
    bars: Vec<(String, f64, f64, Option<f64>, f64)>,
    /// The total (server + Redis) with its CI across repeats, one per bar.
    totals: Vec<Estimate>,
    /// The share of the maximum the figures were read at (the answer's one definition), or
    /// `None` for an older folder's saturated closed-loop figures.
    share: Option<f64>,
}

impl CpuPerRequest {
    pub fn new(a: &Analysis<'_>) -> Option<Self> {
        let bars: Vec<_> = a
            .schemes
            .iter()
            .filter_map(|s| {
                a.cpu(s)
                    .map(|c| (s.clone(), c.server_us, c.redis_us.max(0.0), c.healthz_us, c.proxy_us.max(0.0)))
            })
            .collect();
        let cpus: Vec<_> = a.schemes.iter().filter_map(|s| a.cpu(s)).collect();
        let share = cpus.first().and_then(|c| c.share);
        let totals = cpus.iter().enumerate().map(|(i, c)| total(i as f64, c)).collect();
        (!bars.is_empty()).then_some(CpuPerRequest { bars, totals, share })
    }
}

impl Chart for CpuPerRequest {
    fn name(&self) -> &'static str {
        "cpu_per_request"
    }
    fn title(&self) -> String {
        let what = if self.bars.iter().any(|b| b.4 > 0.0) {
            "server replicas + Redis + haproxy"
        } else {
            "auth server + redis-server"
        };
        match self.share {
            Some(s) => format!("CPU per GET /api/me at {:.0}% of each scheme's maximum: {what}", s * 100.0),
            None => format!("CPU per GET /api/me, steady closed-loop run: {what}"),
        }
    }
    fn note(&self) -> String {
        interval_note("whiskers (on the total)", &self.totals)
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let names: Vec<String> = self.bars.iter().map(|b| b.0.clone()).collect();
        let n = self.bars.len() as f64;
        let ymax = max_of(
            self.bars
                .iter()
                .flat_map(|b| [b.1 + b.2 + b.4, b.3.unwrap_or(0.0)])
                .chain(self.totals.iter().map(|e| e.range().1)),
        )
        .max(f64::MIN_POSITIVE)
            * 1.25;
        let mut chart = frame(root, self.title(), 50).build_cartesian_2d(-0.6f64..n - 0.4, 0f64..ymax)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(self.bars.len() * 4 + 4)
            .x_label_formatter(&|x| category_label(&names, *x))
            .x_desc("scheme")
            .y_desc("CPU time per request (µs)")
            .y_label_formatter(&|v| units::axis(*v))
            .axis_desc_style(label_font(18))
            .label_style(label_font(16))
            .draw()?;
        let w = 0.3;
        chart
            .draw_series(self.bars.iter().enumerate().map(|(i, b)| {
                Rectangle::new([(i as f64 - w, 0.0), (i as f64 + w, b.1)], SERVER_COLOR.filled())
            }))?
            .label("auth server process (utime+stime)")
            .legend(|(x, y)| Rectangle::new([(x, y - 6), (x + 18, y + 6)], SERVER_COLOR.filled()));
        chart
            .draw_series(self.bars.iter().enumerate().map(|(i, b)| {
                Rectangle::new([(i as f64 - w, b.1), (i as f64 + w, b.1 + b.2)], REDIS_COLOR.filled())
            }))?
            .label("redis-server process")
            .legend(|(x, y)| Rectangle::new([(x, y - 6), (x + 18, y + 6)], REDIS_COLOR.filled()));
        if self.bars.iter().any(|b| b.4 > 0.0) {
            chart
                .draw_series(self.bars.iter().enumerate().map(|(i, b)| {
                    let base = b.1 + b.2;
                    Rectangle::new([(i as f64 - w, base), (i as f64 + w, base + b.4)], PROXY_COLOR.filled())
                }))?
                .label("haproxy process (load balancer in front of the replicas)")
                .legend(|(x, y)| Rectangle::new([(x, y - 6), (x + 18, y + 6)], PROXY_COLOR.filled()));
        }
        if self.bars.iter().any(|b| b.3.is_some()) {
            chart
                .draw_series(self.bars.iter().enumerate().filter_map(|(i, b)| {
                    let h = b.3?;
                    Some(PathElement::new(
                        vec![(i as f64 - w - 0.05, h), (i as f64 + w + 0.05, h)],
                        BLACK.stroke_width(3),
                    ))
                }))?
                .label("server CPU for GET /healthz (no auth baseline)")
                .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], BLACK.stroke_width(3)));
        }
        draw_whiskers(&mut chart, &self.totals, RGBColor(30, 30, 30), 0.0)?;
        chart.draw_series(self.bars.iter().enumerate().map(|(i, b)| {
            let total = b.1 + b.2 + b.4;
            // The total only: the stack shows its parts (three figures per bar ran off the chart).
            let label = units::us(total);
            // Above the bar and its whisker.
            let top = self.totals.get(i).map_or(total, |e| e.range().1.max(total));
            Text::new(label, (i as f64, top + ymax * 0.015), centered(16))
        }))?;
        draw_legend(&mut chart, SeriesLabelPosition::UpperRight)
    }
}
