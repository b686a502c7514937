//! Redis memory against logout rate (revocation_memory.csv), log–log: per JWT variant the memory
//! measured at each paced rate with short test lifetimes (points), and the same rates carried
//! over to the default lifetimes (dashed line, projected). Both scale linearly with the rate;
//! the gap between them is the ratio of the lifetimes.

use super::chart::{Chart, DrawResult, scheme_color};
use super::style::{draw_legend, frame, label_font, log_bounds, log_ticks};
use crate::analysis::Analysis;
use crate::revocation_entries::lifetime;
use crate::units;
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;

/// One scheme: (rate, measured bytes, whether at the plateau) and (rate, projected bytes).
struct Series {
    scheme: String,
    color: RGBColor,
    measured: Vec<(f64, f64, bool)>,
    projected: Vec<(f64, f64)>,
}

/// Redis memory held by revocation entries against logouts per second.
pub struct MemoryVsLogoutRate {
    series: Vec<Series>,
    /// "1 s access, 1 s refresh" of the measuring server, and the defaults.
    test_lifetimes: String,
    default_lifetimes: String,
}

impl MemoryVsLogoutRate {
    pub fn new(a: &Analysis<'_>) -> Option<Self> {
        let rows = &a.results.revocation_memory;
        let first = rows.first()?;
        let lifetimes =
            |access: f64, refresh: f64| format!("{} access, {} refresh", lifetime(access), lifetime(refresh));
        let mut schemes: Vec<&str> = Vec::new();
        for r in rows {
            if !schemes.contains(&r.scheme.as_str()) {
                schemes.push(&r.scheme);
            }
        }
        let series: Vec<Series> = schemes
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let mut mine: Vec<_> =
                    rows.iter().filter(|r| r.scheme == *s && r.achieved_rps > 0.0).collect();
                mine.sort_by(|x, y| x.achieved_rps.total_cmp(&y.achieved_rps));
                Series {
                    scheme: s.to_string(),
                    color: scheme_color(s, i + 3),
                    measured: mine.iter().map(|r| (r.achieved_rps, r.memory_bytes, r.plateau())).collect(),
                    projected: mine
                        .iter()
                        .filter_map(|r| Some((r.achieved_rps, r.projected_bytes()?)))
                        .collect(),
                }
            })
            .filter(|s| !s.measured.is_empty())
            .collect();
        (!series.is_empty()).then(|| MemoryVsLogoutRate {
            series,
            test_lifetimes: format!(
                "{}, + {} leeway",
                lifetimes(first.access_ttl_s, first.refresh_ttl_s),
                lifetime(first.leeway_s)
            ),
            default_lifetimes: lifetimes(first.default_access_ttl_s, first.default_refresh_ttl_s),
        })
    }
}

impl Chart for MemoryVsLogoutRate {
    fn name(&self) -> &'static str {
        "memory_vs_logout_rate"
    }
    fn title(&self) -> String {
        "Redis memory held by revocations vs logout rate (JWT variants)".into()
    }
    fn note(&self) -> String {
        "Single run per rate, no interval. Hollow: still rising when the rate ended. Dashed: projected for the default lifetimes (upper bound).".into()
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let xs = self.series.iter().flat_map(|s| s.measured.iter().map(|p| p.0));
        let (xlo, xhi) = log_bounds(xs).unwrap_or((1.0, 10.0));
        let ys = self
            .series
            .iter()
            .flat_map(|s| s.measured.iter().map(|p| p.1).chain(s.projected.iter().map(|p| p.1)));
        let (ylo, yhi) = log_bounds(ys).unwrap_or((1.0, 10.0));
        let mut chart = frame(root, self.title(), 55).build_cartesian_2d(
            (xlo..xhi).log_scale().with_key_points(log_ticks(xlo, xhi)),
            (ylo..yhi).log_scale().with_key_points(byte_ticks(ylo, yhi)),
        )?;
        chart
            .configure_mesh()
            .x_desc("logouts per second (paced, achieved; log scale)")
            .y_desc("Redis used_memory above baseline (log scale)")
            .axis_desc_style(label_font(18))
            .label_style(label_font(15))
            .x_label_formatter(&|v| units::axis(*v))
            .y_label_formatter(&|v| units::trim_zeros(&units::bytes(*v)))
            .draw()?;
        for s in &self.series {
            let c = s.color;
            chart
                .draw_series(LineSeries::new(s.measured.iter().map(|p| (p.0, p.1)), c.stroke_width(2)))?
                .label(format!("{} measured ({})", s.scheme, self.test_lifetimes))
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], c.stroke_width(2)));
            // Filled: at the plateau; hollow: the level ended while memory was still rising.
            chart.draw_series(s.measured.iter().map(|&(x, y, flat)| {
                let style = if flat { c.filled() } else { c.stroke_width(2) };
                Circle::new((x, y), 6, style)
            }))?;
            if !s.projected.is_empty() {
                chart
                    .draw_series(std::iter::once(DashedPathElement::new(
                        s.projected.clone(),
                        8,
                        5,
                        c.stroke_width(2),
                    )))?
                    .label(format!("{} projected ({})", s.scheme, self.default_lifetimes))
                    .legend(move |(x, y)| {
                        DashedPathElement::new(vec![(x, y), (x + 24, y)], 5, 3, c.stroke_width(2))
                    });
                chart.draw_series(
                    s.projected.iter().map(|&(x, y)| Cross::new((x, y), 6, c.stroke_width(2))),
                )?;
            }
        }
        // Measured (KiB) and projected (GiB) lie decades apart: the middle is free.
        draw_legend(&mut chart, SeriesLabelPosition::MiddleRight)
    }
}

/// 1, 10, 100 × 1024^k inside [lo, hi]: ticks that read as round binary sizes (1 KiB, 10 MiB).
fn byte_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let mut ticks = Vec::new();
    let mut unit = 1.0;
    while unit <= hi {
        for m in [1.0, 10.0, 100.0] {
            let t = unit * m;
            if t >= lo && t <= hi {
                ticks.push(t);
            }
        }
        unit *= 1024.0;
    }
    ticks
}

#[cfg(test)]
mod tests {
    #[test]
    fn byte_ticks_are_round_binary_sizes() {
        let k = 1024.0;
        assert_eq!(super::byte_ticks(50.0 * k, 2.0 * k * k), vec![100.0 * k, k * k]);
    }
}
