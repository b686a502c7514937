//! The design space: one point per scheme, CPU per authenticated request (server + store, with
//! its CI across repeats) against the revocation window after logout (log scale), labelled with
//! the store bytes per logged-in user. Which design buys which property, at what cost.

use super::spread::{Domain, Estimate, interval_note};
use super::style::{frame, label_font, max_of};
use super::{Chart, DrawResult, scheme_color};
use crate::analysis::Analysis;
use crate::metric::Metric;
use crate::units;
use plotters::coord::Shift;
use plotters::prelude::*;

/// One scheme's place in the design space.
struct Point {
    scheme: String,
    cpu: Estimate,
    window_s: f64,
    store_bytes: Option<f64>,
}

/// CPU per request against revocation window, a point per scheme.
pub struct DesignSpace {
    points: Vec<Point>,
}

impl DesignSpace {
    pub fn new(a: &Analysis<'_>) -> Option<Self> {
        let points: Vec<Point> = a
            .schemes
            .iter()
            .filter_map(|s| {
                let window_s = a.revocation(s, "logout")?.window_s.max(0.0);
                let cpu = match a.metric(s, Metric::MeCpuTotal) {
                    Some(row) => Estimate::from_summary(0.0, row, Domain::NonNegative),
                    None => {
                        let c = a.cpu(s)?;
                        Estimate::single(0.0, c.server_us + c.redis_us.max(0.0))
                    }
                };
                let store_bytes =
                    if a.uses_store(s) { a.store_slope(s).map(|m| m.bytes_per_session) } else { Some(0.0) };
                Some(Point { scheme: s.clone(), cpu, window_s, store_bytes })
            })
            .collect();
        (points.len() >= 2).then_some(DesignSpace { points })
    }

    fn label(p: &Point) -> String {
        let bytes = match p.store_bytes {
            Some(b) if b.abs() < 16.0 => "no store bytes per user".to_string(),
            Some(b) => format!("{} store bytes per user", b.round()),
            None => "store bytes per user not measured".to_string(),
        };
        format!("{} ({bytes})", p.scheme)
    }
}

impl Chart for DesignSpace {
    fn name(&self) -> &'static str {
        "design_space"
    }
    fn title(&self) -> String {
        "Design space: CPU per authenticated request against revocation window".into()
    }
    fn note(&self) -> String {
        let cpus: Vec<Estimate> = self.points.iter().map(|p| p.cpu).collect();
        format!(
            "{}; window: one cross-server probe per scheme after logout (not repeated): no interval",
            interval_note("horizontal whiskers (CPU)", &cpus)
        )
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let xmax = max_of(self.points.iter().map(|p| p.cpu.range().1)).max(f64::MIN_POSITIVE) * 1.6;
        let floor = 1e-4;
        let ymax = max_of(self.points.iter().map(|p| p.window_s)).max(1.0) * 20.0;
        let ticks: Vec<f64> = [1e-4, 1e-3, 1e-2, 0.1, 1.0, 10.0, 60.0, 900.0, 3600.0]
            .into_iter()
            .filter(|t| *t <= ymax)
            .collect();
        let mut chart = frame(root, self.title(), 50)
            .build_cartesian_2d(0f64..xmax, (floor..ymax).log_scale().with_key_points(ticks))?;
        chart
            .configure_mesh()
            .x_desc("CPU time per GET /api/me, auth server + redis-server (µs)")
            .y_desc("revocation window after logout, across servers (log scale)")
            .x_label_formatter(&|v| units::axis(*v))
            .y_label_formatter(&|v| units::duration(*v))
            .axis_desc_style(label_font(18))
            .label_style(label_font(15))
            .draw()?;
        for (i, p) in self.points.iter().enumerate() {
            let color = scheme_color(&p.scheme, i);
            let y = p.window_s.max(floor * 1.01);
            if let Some((lo, hi)) = p.cpu.ci {
                chart.draw_series(std::iter::once(PathElement::new(
                    vec![(lo, y), (hi, y)],
                    color.stroke_width(2),
                )))?;
            }
            chart.draw_series(std::iter::once(Circle::new((p.cpu.mean, y), 7, color.filled())))?;
            chart.draw_series(std::iter::once(Text::new(
                Self::label(p),
                (p.cpu.mean, y),
                label_font(14).pos(plotters::style::text_anchor::Pos::new(
                    plotters::style::text_anchor::HPos::Left,
                    plotters::style::text_anchor::VPos::Bottom,
                )),
            )))?;
        }
        Ok(())
    }
}
