//! Spread across repeats on a chart, the same way on every chart: a mean with its 95% CI
//! (Student t across repeats, [`crate::stats::mean_ci`]) is an [`Estimate`]; dense x (one point
//! per second or per users level) draws a shaded [`draw_band`], sparse or categorical x draws
//! [`draw_whiskers`]; every chart with repeats says what its spread is in a footnote
//! ([`interval_note`], returned by [`super::chart::Chart::note`] and drawn by [`super::render`]), and
//! with one repeat says that there is no interval.

use plotters::element::{EmptyElement, PathElement, Polygon};
use plotters::prelude::*;

use super::chart::DrawResult;
use crate::stats::MeanCi;

/// Which values a quantity can take; a CI is clamped to it (a latency is never below 0).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Domain {
    /// Latency, CPU, memory, bytes, counts, rates.
    NonNegative,
    /// R² and other fractions.
    Fraction,
    /// Slopes and differences: any sign.
    Any,
}

impl Domain {
    fn bounds(self) -> (f64, f64) {
        match self {
            Domain::NonNegative => (0.0, f64::INFINITY),
            Domain::Fraction => (0.0, 1.0),
            Domain::Any => (f64::NEG_INFINITY, f64::INFINITY),
        }
    }
}

/// One plotted value: the mean across `n` repeats at `x`, with its 95% CI when n ≥ 2.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    pub x: f64,
    pub mean: f64,
    /// (low, high), already clamped to the quantity's [`Domain`]; `None` with one repeat.
    pub ci: Option<(f64, f64)>,
    pub n: usize,
    /// The Student-t interval reached outside the domain and was cut at its edge.
    pub clamped: bool,
}

impl Estimate {
    pub fn new(x: f64, m: &MeanCi, domain: Domain) -> Estimate {
        let (lo, hi) = domain.bounds();
        let ci = m.ci95_low.zip(m.ci95_high);
        let clamped = ci.is_some_and(|(l, h)| l < lo || h > hi);
        Estimate { x, mean: m.mean, ci: ci.map(|(l, h)| (l.max(lo), h.min(hi))), n: m.n, clamped }
    }

    /// A `summary.csv` figure: its mean, CI and number of repeats.
    pub fn from_summary(x: f64, row: &crate::data::SummaryRow, domain: Domain) -> Estimate {
        let m = MeanCi {
            n: row.n,
            mean: row.mean,
            std_dev: None,
            ci95_low: row.ci95_low,
            ci95_high: row.ci95_high,
        };
        Estimate::new(x, &m, domain)
    }

    /// A value measured once (no repeats behind it).
    pub fn single(x: f64, value: f64) -> Estimate {
        Estimate { x, mean: value, ci: None, n: 1, clamped: false }
    }

    /// Low and high end of what is drawn: the CI, else the mean.
    pub fn range(&self) -> (f64, f64) {
        self.ci.unwrap_or((self.mean, self.mean))
    }
}

/// The footnote of a chart whose points are `estimates`: how many repeats, what the shading or
/// whiskers are, whether an interval was clamped; with one repeat, that there is no interval.
/// `shape` names how the chart draws the interval ("shaded", "whiskers").
pub fn interval_note<'a>(shape: &str, estimates: impl IntoIterator<Item = &'a Estimate>) -> String {
    let (mut n_min, mut n_max, mut clamped, mut any) = (usize::MAX, 0, false, false);
    for e in estimates {
        any = true;
        n_min = n_min.min(e.n);
        n_max = n_max.max(e.n);
        clamped |= e.clamped;
    }
    if !any {
        return String::new();
    }
    if n_max < 2 {
        return "1 repeat: no interval (run with --repeat 3 or more for a 95% CI)".into();
    }
    let repeats =
        if n_min == n_max { format!("{n_max} repeats") } else { format!("{n_min}–{n_max} repeats") };
    let clamp = if clamped { "; intervals crossing 0 are cut at 0" } else { "" };
    format!("mean of {repeats}; {shape}: 95% CI of the mean (Student t){clamp}")
}

/// A shaded band from each point's CI low to high, in the series' colour. Points without a CI
/// draw nothing. Values below the chart's y range (a log axis cannot show 0) are drawn at its
/// bottom.
pub fn draw_band<DB, X, Y>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<X, Y>>,
    points: &[Estimate],
    color: RGBColor,
) -> DrawResult<DB>
where
    DB: DrawingBackend,
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    let floor = chart.y_range().start;
    // One polygon per run of consecutive points that have a CI.
    for run in points.split(|e| e.ci.is_none()).filter(|r| r.len() >= 2) {
        let upper = run.iter().map(|e| (e.x, e.range().1.max(floor)));
        let lower = run.iter().rev().map(|e| (e.x, e.range().0.max(floor)));
        let outline: Vec<(f64, f64)> = upper.chain(lower).collect();
        chart.draw_series(std::iter::once(Polygon::new(outline, color.mix(0.18).filled())))?;
    }
    Ok(())
}

/// A vertical whisker with caps from each point's CI low to high, at `x + dx` (to set the
/// whiskers of several series at one category side by side).
pub fn draw_whiskers<DB, X, Y>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<X, Y>>,
    points: &[Estimate],
    color: RGBColor,
    dx: f64,
) -> DrawResult<DB>
where
    DB: DrawingBackend,
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    let floor = chart.y_range().start;
    let style = color.stroke_width(2);
    for e in points {
        let Some((lo, hi)) = e.ci else { continue };
        let (x, lo, hi) = (e.x + dx, lo.max(floor), hi.max(floor));
        chart.draw_series(std::iter::once(PathElement::new(vec![(x, lo), (x, hi)], style)))?;
        for y in [lo, hi] {
            chart.draw_series(std::iter::once(
                EmptyElement::at((x, y)) + PathElement::new(vec![(-6, 0), (6, 0)], style),
            ))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::mean_ci;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-5
    }

    #[test]
    fn whisker_bounds_are_the_student_t_interval_of_the_repeats() {
        // Five repeats 1..5: mean 3, t(0.975, 4) = 2.776445, se = √(2.5/5) → ± 1.963243.
        let e = Estimate::new(7.0, &mean_ci(&[1.0, 2.0, 3.0, 4.0, 5.0]).unwrap(), Domain::NonNegative);
        let (lo, hi) = e.ci.unwrap();
        assert!(close(lo, 1.036757) && close(hi, 4.963243), "{e:?}");
        assert_eq!((e.x, e.n, e.clamped), (7.0, 5, false));
        assert_eq!(e.range(), (lo, hi));
    }

    #[test]
    fn a_non_negative_quantity_is_cut_at_zero_and_says_so() {
        // Seconds of a saturated generator per repeat: 0, 0, 2 → mean 0.667, t interval
        // [−2.2, 3.5]; a count is never negative.
        let m = mean_ci(&[0.0, 0.0, 2.0]).unwrap();
        assert!(m.ci95_low.unwrap() < -2.0);
        let e = Estimate::new(0.0, &m, Domain::NonNegative);
        assert_eq!(e.ci.unwrap().0, 0.0);
        assert!(close(e.ci.unwrap().1, m.ci95_high.unwrap()));
        assert!(e.clamped);
        assert!(interval_note("whiskers", [&e]).contains("cut at 0"));
        // R² above 1 is cut at 1; a slope keeps its sign.
        let r2 = Estimate::new(0.0, &mean_ci(&[0.99, 1.0, 0.999]).unwrap(), Domain::Fraction);
        assert!(r2.ci.unwrap().1 <= 1.0 && r2.clamped);
        let slope = Estimate::new(0.0, &mean_ci(&[-1.0, 0.5, 0.2]).unwrap(), Domain::Any);
        assert!(slope.ci.unwrap().0 < -1.0 && !slope.clamped);
    }

    #[test]
    fn one_repeat_has_no_interval_and_the_note_says_so() {
        let one = Estimate::new(1.0, &mean_ci(&[42.0]).unwrap(), Domain::NonNegative);
        assert_eq!((one.ci, one.range()), (None, (42.0, 42.0)));
        let note = interval_note("shaded", [&one, &Estimate::single(2.0, 5.0)]);
        assert!(note.starts_with("1 repeat: no interval"), "{note}");
        let three = Estimate::new(1.0, &mean_ci(&[10.0, 11.0, 12.0]).unwrap(), Domain::NonNegative);
        let note = interval_note("shaded", [&three]);
        assert_eq!(note, "mean of 3 repeats; shaded: 95% CI of the mean (Student t)");
        assert_eq!(interval_note("shaded", []), "");
    }
}
