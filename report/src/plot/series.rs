//! Per-scheme series and how they are drawn: p50/p99 curves, single lines, memory points. Every
//! point is an [`Estimate`] (mean across repeats with its CI), so every series draws its spread.

use super::chart::DrawResult;
use super::spread::{Estimate, draw_band, draw_whiskers};
use plotters::element::DashedPathElement;
use plotters::prelude::*;

/// How a series shows its CI: a shaded band (dense x) or whiskers (few points, categories).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Spread {
    Band,
    /// Whiskers offset by this much along x (bars that are not drawn at their point's x).
    Whiskers(f64),
}

/// Offset along x of series `i` of `n` at one category, so their whiskers stay apart.
pub(super) fn dodge(i: usize, n: usize, step: f64) -> f64 {
    step * (i as f64 - (n as f64 - 1.0) / 2.0)
}

/// One scheme's p50 and p99 curves.
pub(super) struct Curves {
    pub(super) scheme: String,
    pub(super) color: RGBColor,
    pub(super) p50: Vec<Estimate>,
    pub(super) p99: Vec<Estimate>,
}

impl Curves {
    pub(super) fn estimates(&self) -> impl Iterator<Item = &Estimate> {
        self.p50.iter().chain(&self.p99)
    }
}

/// One scheme's line.
pub(super) struct Line {
    pub(super) scheme: String,
    pub(super) color: RGBColor,
    pub(super) points: Vec<Estimate>,
}

/// Measured memory of one scheme and its fitted line (label, two end points).
pub(super) struct MemorySeries {
    pub(super) scheme: String,
    pub(super) color: RGBColor,
    pub(super) points: Vec<Estimate>,
    pub(super) fit: Option<(String, [(f64, f64); 2])>,
}

/// Means as (x, y) for a line.
pub(super) fn means(points: &[Estimate]) -> impl Iterator<Item = (f64, f64)> + Clone + '_ {
    points.iter().map(|e| (e.x, e.mean))
}

/// The CI of `points` as `spread` says, in the series' colour.
pub(super) fn draw_spread<DB: DrawingBackend, X: Ranged<ValueType = f64>, Y: Ranged<ValueType = f64>>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<X, Y>>,
    points: &[Estimate],
    color: RGBColor,
    spread: Spread,
) -> DrawResult<DB> {
    match spread {
        Spread::Band => draw_band(chart, points, color),
        Spread::Whiskers(dx) => draw_whiskers(chart, points, color, dx),
    }
}

pub(super) fn draw_curves<DB: DrawingBackend, X: Ranged<ValueType = f64>, Y: Ranged<ValueType = f64>>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<X, Y>>,
    curves: &[Curves],
    spread: Spread,
) -> DrawResult<DB> {
    let markers = matches!(spread, Spread::Whiskers(_));
    for cv in curves {
        draw_spread(chart, &cv.p50, cv.color, spread)?;
        draw_spread(chart, &cv.p99, cv.color, spread)?;
    }
    for cv in curves {
        let c = cv.color;
        let size = if markers { 5 } else { 0 };
        chart
            .draw_series(LineSeries::new(means(&cv.p50), c.stroke_width(3)).point_size(size))?
            .label(format!("{} p50", cv.scheme))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], c.stroke_width(3)));
        chart
            .draw_series(DashedLineSeries::new(means(&cv.p99), 8, 5, c.stroke_width(2)))?
            .label(format!("{} p99", cv.scheme))
            .legend(move |(x, y)| DashedPathElement::new(vec![(x, y), (x + 24, y)], 6, 3, c.stroke_width(2)));
        if markers {
            chart.draw_series(means(&cv.p99).map(|p| TriangleMarker::new(p, 5, c.filled())))?;
        }
    }
    Ok(())
}

pub(super) fn draw_lines<DB: DrawingBackend, X: Ranged<ValueType = f64>, Y: Ranged<ValueType = f64>>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<X, Y>>,
    lines: &[Line],
    spread: Spread,
) -> DrawResult<DB> {
    for line in lines {
        draw_spread(chart, &line.points, line.color, spread)?;
    }
    for line in lines {
        let c = line.color;
        chart
            .draw_series(LineSeries::new(means(&line.points), c.stroke_width(3)))?
            .label(line.scheme.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], c.stroke_width(3)));
    }
    Ok(())
}
