//! The design space: one point per scheme, CPU per authenticated request (server + store, with
//! its CI across repeats) against the revocation window after logout (log scale), labelled with
//! the store bytes per logged-in user. Which design buys which property, at what cost.

use super::chart::{Chart, DrawResult, scheme_color};
use super::spread::{Estimate, interval_note};
use super::style::{frame, label_font, max_of};
use crate::analysis::Analysis;
use crate::metric::Metric;
use crate::units;
use plotters::coord::Shift;
use plotters::prelude::*;

/// One scheme's place in the design space.
struct Point {
    scheme: String,
    cpu: Estimate,
    /// Revocation window after logout: geometric mean over the probes, its 95% CI.
    window_s: f64,
    window_ci: Option<(f64, f64)>,
    probes: usize,
    store_bytes: Option<f64>,
    /// The JWT variants store nothing per user, but bytes per revoked token.
    revoked_token_bytes: Option<f64>,
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
                let (row, w) = a.revocation_summary(s, "logout")?;
                // The one definition of CPU per request ([`Analysis::cpu`]: at the run's utilisation).
                let c = a.cpu(s)?;
                let cpu = super::cpu::total(0.0, &c);
                // A credential the scheme does not revoke stays valid to its expiry: placed at the
                // default lifetime (+ leeway), not at the short test TTL the probe ran with.
                let projected = crate::revocation_window::Makeup::of(&row).and_then(|m| m.projected_s());
                let (window_s, window_ci) = match projected {
                    Some(p) => (p, None),
                    None => (w.mean_s, w.ci),
                };
                let store_bytes =
                    if a.uses_store(s) { a.store_slope(s).map(|m| m.bytes_per_session) } else { Some(0.0) };
                Some(Point {
                    scheme: s.clone(),
                    cpu,
                    window_s,
                    window_ci,
                    probes: w.n,
                    store_bytes,
                    revoked_token_bytes: a.metric_mean(s, Metric::StoreBytesPerRevokedToken),
                })
            })
            .collect();
        (points.len() >= 2).then_some(DesignSpace { points })
    }

    fn label(p: &Point) -> String {
        let bytes = match (p.store_bytes, p.revoked_token_bytes) {
            (_, Some(r)) => format!("{} store bytes per revoked token", r.round()),
            (Some(b), _) if b.abs() < 16.0 => "no store bytes per user".to_string(),
            (Some(b), _) => format!("{} store bytes per user", b.round()),
            (None, _) => "store bytes per user not measured".to_string(),
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
        let probes = self.points.iter().map(|p| p.probes).max().unwrap_or(0);
        let window = if probes > 1 {
            format!(
                "vertical whiskers: 95% CI of the window over {probes} cross-server probes (geometric mean)"
            )
        } else {
            "window: one cross-server probe per scheme after logout (not repeated): no interval".to_string()
        };
        format!(
            "x: CPU per request at the run's utilisation of each scheme's maximum; {}; {window}; schemes that \
             cannot revoke sit at their default lifetime (+ leeway), projected",
            interval_note("horizontal whiskers (CPU)", &cpus)
        )
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let xmax = max_of(self.points.iter().map(|p| p.cpu.range().1)).max(f64::MIN_POSITIVE) * 1.6;
        let floor = 1e-4;
        let ymax =
            max_of(self.points.iter().map(|p| p.window_ci.map_or(p.window_s, |c| c.1))).max(1.0) * 20.0;
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
        let label_ys = label_heights(&self.points, xmax);
        for (i, p) in self.points.iter().enumerate() {
            let color = scheme_color(&p.scheme, i);
            let y = p.window_s.max(floor * 1.01);
            if let Some((lo, hi)) = p.window_ci {
                chart.draw_series(std::iter::once(PathElement::new(
                    vec![(p.cpu.mean, lo.max(floor * 1.01)), (p.cpu.mean, hi.max(floor * 1.01))],
                    color.stroke_width(2),
                )))?;
            }
            if let Some((lo, hi)) = p.cpu.ci {
                chart.draw_series(std::iter::once(PathElement::new(
                    vec![(lo, y), (hi, y)],
                    color.stroke_width(2),
                )))?;
            }
            chart.draw_series(std::iter::once(Circle::new((p.cpu.mean, y), 7, color.filled())))?;
            if label_ys[i] > y * 1.01 {
                // A raised label: a thin leader back to its point.
                chart.draw_series(std::iter::once(PathElement::new(
                    vec![(p.cpu.mean, y), (p.cpu.mean, label_ys[i])],
                    color.mix(0.5).stroke_width(1),
                )))?;
            }
            chart.draw_series(std::iter::once(Text::new(
                Self::label(p),
                (p.cpu.mean, label_ys[i]),
                label_font(14).pos(plotters::style::text_anchor::Pos::new(
                    plotters::style::text_anchor::HPos::Left,
                    plotters::style::text_anchor::VPos::Bottom,
                )),
            )))?;
        }
        Ok(())
    }
}

/// Where each point's label sits: at the point, or raised above labels that would overlap it
/// (labels within a factor 1.6 of window and a third of the CPU axis of each other; the schemes
/// with a ~1 ms window crowd there).
fn label_heights(points: &[Point], xmax: f64) -> Vec<f64> {
    let mut order: Vec<usize> = (0..points.len()).collect();
    order.sort_by(|&a, &b| points[a].window_s.total_cmp(&points[b].window_s));
    let mut ys = vec![0.0; points.len()];
    let mut placed: Vec<(f64, f64)> = Vec::new();
    for i in order {
        let x = points[i].cpu.mean;
        let mut y = points[i].window_s.max(1e-4);
        while placed.iter().any(|&(px, py)| (px - x).abs() < xmax / 3.0 && (y / py).ln().abs() < 1.6f64.ln())
        {
            y *= 1.6;
        }
        placed.push((x, y));
        ys[i] = y;
    }
    ys
}
