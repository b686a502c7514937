//! Per-scheme series and how they are drawn: p50/p99 curves, single lines, memory points.

use super::DrawResult;
use plotters::element::DashedPathElement;
use plotters::prelude::*;

/// One scheme's p50 and p99 curves.
pub(super) struct Curves {
    pub(super) scheme: String,
    pub(super) color: RGBColor,
    pub(super) p50: Vec<(f64, f64)>,
    pub(super) p99: Vec<(f64, f64)>,
}

/// One scheme's line.
pub(super) struct Line {
    pub(super) scheme: String,
    pub(super) color: RGBColor,
    pub(super) points: Vec<(f64, f64)>,
}

/// Measured memory of one scheme and its fitted line (label, two end points).
pub(super) struct MemorySeries {
    pub(super) scheme: String,
    pub(super) color: RGBColor,
    pub(super) points: Vec<(f64, f64)>,
    pub(super) fit: Option<(String, [(f64, f64); 2])>,
}

pub(super) fn draw_curves<DB: DrawingBackend, X: Ranged<ValueType = f64>, Y: Ranged<ValueType = f64>>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<X, Y>>,
    curves: &[Curves],
    markers: bool,
) -> DrawResult<DB> {
    for cv in curves {
        let c = cv.color;
        let size = if markers { 5 } else { 0 };
        chart
            .draw_series(LineSeries::new(cv.p50.iter().copied(), c.stroke_width(3)).point_size(size))?
            .label(format!("{} p50", cv.scheme))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], c.stroke_width(3)));
        chart
            .draw_series(DashedLineSeries::new(cv.p99.iter().copied(), 8, 5, c.stroke_width(2)))?
            .label(format!("{} p99", cv.scheme))
            .legend(move |(x, y)| DashedPathElement::new(vec![(x, y), (x + 24, y)], 6, 3, c.stroke_width(2)));
        if markers {
            chart.draw_series(cv.p99.iter().map(|&p| TriangleMarker::new(p, 5, c.filled())))?;
        }
    }
    Ok(())
}

pub(super) fn draw_lines<DB: DrawingBackend, X: Ranged<ValueType = f64>, Y: Ranged<ValueType = f64>>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<X, Y>>,
    lines: &[Line],
) -> DrawResult<DB> {
    for line in lines {
        let c = line.color;
        chart
            .draw_series(LineSeries::new(line.points.iter().copied(), c.stroke_width(3)))?
            .label(line.scheme.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], c.stroke_width(3)));
    }
    Ok(())
}
