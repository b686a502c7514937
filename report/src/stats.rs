//! Summary statistics: mean with a Student-t 95% confidence interval across repeats, and an
//! ordinary least-squares line with its R² and its slope's CI (memory against stored sessions),
//! paired differences across repeats with a control, and the verdict a test of a claim reads.

/// Mean of `n` values with the two-sided 95% confidence interval of the mean (Student t).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MeanCi {
    pub n: usize,
    pub mean: f64,
    /// Sample standard deviation (n − 1); `None` when n < 2.
    pub std_dev: Option<f64>,
    /// `None` when n < 2: one repeat has no measurable spread.
    pub ci95_low: Option<f64>,
    pub ci95_high: Option<f64>,
}

impl MeanCi {
    /// Half width of the interval, when there is one.
    pub fn half_width(&self) -> Option<f64> {
        Some((self.ci95_high? - self.ci95_low?) / 2.0)
    }
}

/// Mean and 95% CI of `values` (non-finite values are ignored). `None` when nothing is left.
pub fn mean_ci(values: &[f64]) -> Option<MeanCi> {
    let v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    let n = v.len();
    if n == 0 {
        return None;
    }
    let mean = v.iter().sum::<f64>() / n as f64;
    if n < 2 {
        return Some(MeanCi { n, mean, std_dev: None, ci95_low: None, ci95_high: None });
    }
    let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    let sd = var.sqrt();
    let half = t_975(n - 1) * sd / (n as f64).sqrt();
    Some(MeanCi { n, mean, std_dev: Some(sd), ci95_low: Some(mean - half), ci95_high: Some(mean + half) })
}

/// Geometric mean of positive `values` with the 95% interval of the mean of their logarithms,
/// taken back: positive, and symmetric on a log axis (what a log-scale chart can draw; an
/// arithmetic interval of a skewed figure such as a p99 can cross zero there). Non-positive and
/// non-finite values are ignored.
pub fn geometric_ci(values: &[f64]) -> Option<MeanCi> {
    let logs: Vec<f64> = values.iter().filter(|x| x.is_finite() && **x > 0.0).map(|x| x.ln()).collect();
    let m = mean_ci(&logs)?;
    Some(MeanCi {
        n: m.n,
        mean: m.mean.exp(),
        std_dev: None,
        ci95_low: m.ci95_low.map(f64::exp),
        ci95_high: m.ci95_high.map(f64::exp),
    })
}

/// Plain mean (`None` for no finite value).
pub fn mean(values: &[f64]) -> Option<f64> {
    mean_ci(values).map(|m| m.mean)
}

/// 0.975 quantile of Student's t distribution with `df` degrees of freedom (two-sided 95%).
/// Exact table to 30, then the Cornish–Fisher expansion (error < 1e-4).
pub fn t_975(df: usize) -> f64 {
    const TABLE: [f64; 30] = [
        12.706205, 4.302653, 3.182446, 2.776445, 2.570582, 2.446912, 2.364624, 2.306004, 2.262157, 2.228139,
        2.200985, 2.178813, 2.160369, 2.144787, 2.131450, 2.119905, 2.109816, 2.100922, 2.093024, 2.085963,
        2.079614, 2.073873, 2.068658, 2.063899, 2.059539, 2.055529, 2.051831, 2.048407, 2.045230, 2.042272,
    ];
    match df {
        0 => f64::NAN,
        1..=30 => TABLE[df - 1],
        _ => {
            let z = 1.959_963_984_540_054_f64;
            let d = df as f64;
            z + (z.powi(3) + z) / (4.0 * d) + (5.0 * z.powi(5) + 16.0 * z.powi(3) + 3.0 * z) / (96.0 * d * d)
        }
    }
}

/// Least-squares line `y = intercept + slope · x` and its coefficient of determination.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LinearFit {
    pub n: usize,
    pub slope: f64,
    pub intercept: f64,
    /// 1 − SS_res / SS_tot; NaN when every y is equal (nothing to explain).
    pub r2: f64,
}

impl LinearFit {
    pub fn predict(&self, x: f64) -> f64 {
        self.intercept + self.slope * x
    }
}

/// Fit `points` (x, y); non-finite points are ignored. `None` with fewer than two distinct x.
pub fn linear_fit(points: &[(f64, f64)]) -> Option<LinearFit> {
    let p: Vec<(f64, f64)> = points.iter().copied().filter(|(x, y)| x.is_finite() && y.is_finite()).collect();
    let n = p.len();
    if n < 2 {
        return None;
    }
    let mx = p.iter().map(|q| q.0).sum::<f64>() / n as f64;
    let my = p.iter().map(|q| q.1).sum::<f64>() / n as f64;
    let sxx: f64 = p.iter().map(|q| (q.0 - mx).powi(2)).sum();
    if sxx == 0.0 {
        return None;
    }
    let sxy: f64 = p.iter().map(|q| (q.0 - mx) * (q.1 - my)).sum();
    let slope = sxy / sxx;
    let intercept = my - slope * mx;
    let ss_tot: f64 = p.iter().map(|q| (q.1 - my).powi(2)).sum();
    let ss_res: f64 = p.iter().map(|q| (q.1 - (intercept + slope * q.0)).powi(2)).sum();
    let r2 = if ss_tot == 0.0 { f64::NAN } else { 1.0 - ss_res / ss_tot };
    Some(LinearFit { n, slope, intercept, r2 })
}

/// A least-squares slope with its 95% confidence interval: `slope ± t(0.975, n − 2) · se`, where
/// `se = √(SS_res / (n − 2) / Sxx)` (ordinary least squares, independent errors). With two points
/// the line passes through both and there is no interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SlopeCi {
    pub fit: LinearFit,
    /// Standard error of the slope; `None` with fewer than 3 points.
    pub std_err: Option<f64>,
    pub ci95_low: Option<f64>,
    pub ci95_high: Option<f64>,
}

impl SlopeCi {
    pub fn half_width(&self) -> Option<f64> {
        Some((self.ci95_high? - self.ci95_low?) / 2.0)
    }
}

/// Fit `points` and give the slope's 95% CI (see [`SlopeCi`]). `None` as for [`linear_fit`].
pub fn slope_ci(points: &[(f64, f64)]) -> Option<SlopeCi> {
    let fit = linear_fit(points)?;
    let p: Vec<(f64, f64)> = points.iter().copied().filter(|(x, y)| x.is_finite() && y.is_finite()).collect();
    if fit.n < 3 {
        return Some(SlopeCi { fit, std_err: None, ci95_low: None, ci95_high: None });
    }
    let mx = p.iter().map(|q| q.0).sum::<f64>() / p.len() as f64;
    let sxx: f64 = p.iter().map(|q| (q.0 - mx).powi(2)).sum();
    let ss_res: f64 = p.iter().map(|q| (q.1 - fit.predict(q.0)).powi(2)).sum();
    let df = fit.n - 2;
    let se = (ss_res / df as f64 / sxx).sqrt();
    let half = t_975(df) * se;
    Some(SlopeCi {
        fit,
        std_err: Some(se),
        ci95_low: Some(fit.slope - half),
        ci95_high: Some(fit.slope + half),
    })
}

/// The paired difference `after − before` of each repeat, minus the control's own difference in
/// the same repeat when one is given (what the machine drifted by, seen by a scheme the change
/// cannot affect); mean and 95% CI across repeats. Slices are indexed by repeat; a repeat with a
/// non-finite value anywhere is left out. `None` when no repeat is left.
pub fn difference_ci(before: &[f64], after: &[f64], control: Option<&[f64]>) -> Option<MeanCi> {
    let diffs: Vec<f64> = before
        .iter()
        .zip(after)
        .enumerate()
        .filter_map(|(i, (b, a))| {
            let c = match control {
                Some(c) => *c.get(i)?,
                None => 0.0,
            };
            let d = a - b - c;
            d.is_finite().then_some(d)
        })
        .collect();
    mean_ci(&diffs)
}

/// Repeats a verdict needs: with fewer, a 95% interval is too wide to read (t = 12.7 at 2).
pub const MIN_REPEATS_FOR_VERDICT: usize = 3;

/// Where a difference's 95% interval lies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// The whole interval is above zero.
    Up,
    /// The whole interval is below zero.
    Down,
    /// The interval includes zero (or there is none): inside the noise.
    Unclear,
}

pub fn direction(d: &MeanCi) -> Direction {
    match (d.ci95_low, d.ci95_high) {
        (Some(lo), _) if lo > 0.0 => Direction::Up,
        (_, Some(hi)) if hi < 0.0 => Direction::Down,
        _ => Direction::Unclear,
    }
}

/// The outcome of testing a claim that some figures rise ("X gets slower as Y grows").
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// At least one figure rose beyond its 95% interval.
    Supports,
    /// None rose; at least one fell beyond its interval.
    Contradicts,
    /// Fewer than [`MIN_REPEATS_FOR_VERDICT`] repeats, or every interval includes zero: `why`.
    NoVerdict { why: String },
}

impl Verdict {
    /// `supports`, `contradicts` or exactly `no verdict`.
    pub fn label(&self) -> &'static str {
        match self {
            Verdict::Supports => "supports",
            Verdict::Contradicts => "contradicts",
            Verdict::NoVerdict { .. } => "no verdict",
        }
    }
}

/// Test the claim "these figures rise" from each figure's difference CI across repeats (see
/// [`difference_ci`]): any interval wholly above zero supports it; otherwise any wholly below
/// contradicts it; otherwise — or with fewer than 3 repeats — there is no verdict.
pub fn verdict(diffs: &[MeanCi]) -> Verdict {
    let n = diffs.iter().map(|d| d.n).min().unwrap_or(0);
    if diffs.is_empty() {
        return Verdict::NoVerdict { why: "nothing was measured".into() };
    }
    if n < MIN_REPEATS_FOR_VERDICT {
        return Verdict::NoVerdict {
            why: format!(
                "{n} repeat{} (at least {MIN_REPEATS_FOR_VERDICT} are needed for a 95% interval worth reading)",
                if n == 1 { "" } else { "s" }
            ),
        };
    }
    let dirs: Vec<Direction> = diffs.iter().map(direction).collect();
    if dirs.contains(&Direction::Up) {
        Verdict::Supports
    } else if dirs.contains(&Direction::Down) {
        Verdict::Contradicts
    } else {
        Verdict::NoVerdict {
            why: "every difference's 95% interval includes zero: a change inside the noise".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn mean_ci_of_one_to_five() {
        let m = mean_ci(&[1.0, 2.0, 3.0, 4.0, 5.0]).unwrap();
        assert_eq!(m.n, 5);
        assert!(close(m.mean, 3.0, 1e-12));
        assert!(close(m.std_dev.unwrap(), 2.5f64.sqrt(), 1e-12));
        // t(0.975, 4) = 2.776445, se = sqrt(2.5 / 5) → half width 1.963243
        assert!(close(m.ci95_low.unwrap(), 1.036757, 1e-5), "{m:?}");
        assert!(close(m.ci95_high.unwrap(), 4.963243, 1e-5), "{m:?}");
        assert!(close(m.half_width().unwrap(), 1.963243, 1e-5));
    }

    #[test]
    fn mean_ci_edge_cases() {
        assert_eq!(mean_ci(&[]), None);
        assert_eq!(mean_ci(&[f64::NAN]), None);
        let one = mean_ci(&[7.0]).unwrap();
        assert_eq!((one.n, one.mean, one.ci95_low, one.ci95_high), (1, 7.0, None, None));
        let same = mean_ci(&[2.0, 2.0, 2.0]).unwrap();
        assert_eq!((same.ci95_low, same.ci95_high), (Some(2.0), Some(2.0)));
    }

    #[test]
    fn t_quantiles() {
        assert!(close(t_975(1), 12.706205, 1e-6));
        assert!(close(t_975(30), 2.042272, 1e-6));
        assert!(close(t_975(40), 2.021075, 1e-4));
        assert!(close(t_975(120), 1.979930, 1e-4));
        assert!(close(t_975(100_000), 1.959964, 1e-4));
    }

    #[test]
    fn fit_of_an_exact_line() {
        let pts: Vec<(f64, f64)> =
            [0.0, 1e3, 1e4, 1e5, 1e6].iter().map(|&x| (x, 1_000_000.0 + 96.0 * x)).collect();
        let f = linear_fit(&pts).unwrap();
        assert!(close(f.slope, 96.0, 1e-9));
        assert!(close(f.intercept, 1_000_000.0, 1e-3));
        assert!(close(f.r2, 1.0, 1e-12));
        assert!(close(f.predict(2e6), 1_000_000.0 + 192e6, 1e-3));
    }

    #[test]
    fn fit_of_noisy_points() {
        // By hand: mx = my = 2.5, sxx = 5, sxy = 3 → slope 0.6, intercept 1.0;
        // ss_tot = 5, ss_res = ss_tot − slope·sxy = 3.2 → R² = 0.36.
        let pts = [(1.0, 2.0), (2.0, 1.0), (3.0, 4.0), (4.0, 3.0)];
        let f = linear_fit(&pts).unwrap();
        assert!(close(f.slope, 0.6, 1e-12));
        assert!(close(f.intercept, 1.0, 1e-12));
        assert!(close(f.r2, 0.36, 1e-12));
    }

    #[test]
    fn fit_degenerate() {
        assert_eq!(linear_fit(&[(1.0, 1.0)]), None);
        assert_eq!(linear_fit(&[(1.0, 1.0), (1.0, 2.0)]), None);
        let flat = linear_fit(&[(0.0, 5.0), (10.0, 5.0)]).unwrap();
        assert_eq!(flat.slope, 0.0);
        assert!(flat.r2.is_nan());
    }

    #[test]
    fn slope_ci_by_hand() {
        // slope 0.6, SS_res 3.2, Sxx 5, n − 2 = 2 → se = √(3.2 / 2 / 5) = 0.565685;
        // t(0.975, 2) = 4.302653 → half width 2.433948.
        let s = slope_ci(&[(1.0, 2.0), (2.0, 1.0), (3.0, 4.0), (4.0, 3.0)]).unwrap();
        assert!(close(s.fit.slope, 0.6, 1e-12));
        assert!(close(s.std_err.unwrap(), 0.32f64.sqrt(), 1e-12));
        assert!(close(s.ci95_low.unwrap(), 0.6 - 2.433948, 1e-5), "{s:?}");
        assert!(close(s.ci95_high.unwrap(), 0.6 + 2.433948, 1e-5), "{s:?}");
        assert!(close(s.half_width().unwrap(), 2.433948, 1e-5));
        // An exact line has a zero-width interval; two points have none.
        let exact = slope_ci(&[(0.0, 1.0), (1e5, 1.0 + 5.5e7), (2e5, 1.0 + 1.1e8)]).unwrap();
        assert!(close(exact.ci95_low.unwrap(), 550.0, 1e-6) && close(exact.ci95_high.unwrap(), 550.0, 1e-6));
        let two = slope_ci(&[(0.0, 1.0), (1.0, 3.0)]).unwrap();
        assert_eq!((two.fit.slope, two.ci95_low, two.std_err), (2.0, None, None));
        assert_eq!(slope_ci(&[(1.0, 1.0)]), None);
    }

    #[test]
    fn difference_ci_pairs_repeats_and_subtracts_the_control() {
        let before = [10.0, 12.0, 11.0];
        let after = [13.0, 15.5, 13.5];
        // Raw differences 3, 3.5, 2.5; the control drifted 1, 1.5, 0.5 → 2, 2, 2.
        let raw = difference_ci(&before, &after, None).unwrap();
        assert!(close(raw.mean, 3.0, 1e-12));
        let d = difference_ci(&before, &after, Some(&[1.0, 1.5, 0.5])).unwrap();
        assert_eq!((d.n, d.ci95_low, d.ci95_high), (3, Some(2.0), Some(2.0)));
        // A repeat missing from the control is left out.
        assert_eq!(difference_ci(&before, &after, Some(&[1.0])).unwrap().n, 1);
        assert_eq!(difference_ci(&[], &[], None), None);
    }

    #[test]
    fn a_difference_inside_the_noise_gives_no_verdict() {
        // Differences −5, +1, +6 (mean 0.67, CI ≈ ±13.7): the interval includes zero.
        let noisy = difference_ci(&[100.0, 100.0, 100.0], &[95.0, 101.0, 106.0], None).unwrap();
        assert_eq!(direction(&noisy), Direction::Unclear);
        let v = verdict(&[noisy]);
        assert_eq!(v.label(), "no verdict");
        assert!(matches!(&v, Verdict::NoVerdict { why } if why.contains("includes zero")), "{v:?}");
        // A clear rise with only two repeats is still no verdict, and says why.
        let two = difference_ci(&[100.0, 100.0], &[150.0, 151.0], None).unwrap();
        let v = verdict(&[two]);
        assert_eq!(v.label(), "no verdict");
        assert!(matches!(&v, Verdict::NoVerdict { why } if why.contains("2 repeats")), "{v:?}");
    }

    #[test]
    fn a_clear_difference_gives_a_verdict() {
        let rise = difference_ci(&[100.0, 102.0, 98.0], &[140.0, 141.0, 139.0], None).unwrap();
        let flat = difference_ci(&[100.0, 100.0, 100.0], &[95.0, 101.0, 106.0], None).unwrap();
        assert_eq!(direction(&rise), Direction::Up);
        // One figure rising beyond its interval is enough, even beside a flat one.
        assert_eq!(verdict(&[flat, rise]), Verdict::Supports);
        assert_eq!(verdict(&[flat, rise]).label(), "supports");
        let fall = difference_ci(&[100.0, 102.0, 98.0], &[60.0, 61.0, 59.0], None).unwrap();
        assert_eq!(verdict(&[fall, flat]), Verdict::Contradicts);
        // Drift the control saw is not the store's: the same rise, matched by the control, is noise.
        let drifted =
            difference_ci(&[100.0, 102.0, 98.0], &[140.0, 141.0, 139.0], Some(&[35.0, 45.0, 40.0])).unwrap();
        assert_eq!(verdict(&[drifted]).label(), "no verdict");
    }
}
