//! Number formatting shared by plots and text: three significant digits and a readable unit.

/// `x` to `sig` significant digits, no exponent; integers ≥ 10,000 get thousands separators.
pub fn sig(x: f64, sig: usize) -> String {
    if !x.is_finite() {
        return "n/a".to_string();
    }
    if x == 0.0 {
        return "0".to_string();
    }
    let mag = x.abs().log10().floor() as i64;
    let decimals = (sig as i64 - 1 - mag).max(0) as usize;
    let rounded = if decimals == 0 {
        let factor = 10f64.powi((mag - sig as i64 + 1).max(0) as i32);
        (x / factor).round() * factor
    } else {
        x
    };
    let s = format!("{rounded:.decimals$}");
    if decimals == 0 && rounded.abs() >= 10_000.0 { group(&s) } else { s }
}

fn group(int: &str) -> String {
    let (sign, digits) = int.strip_prefix('-').map_or(("", int), |d| ("-", d));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    format!("{sign}{out}")
}

/// An axis label: three significant digits without trailing zeros ("8", "2.5", "10").
pub fn axis(x: f64) -> String {
    let s = sig(x, 3);
    if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_string() } else { s }
}

/// An integer as is ("212"), anything else to three significant digits.
pub fn plain(x: f64) -> String {
    if x.is_finite() && x.fract() == 0.0 && x.abs() < 1e15 { format!("{x:.0}") } else { sig(x, 3) }
}

/// Microseconds as µs / ms / s.
pub fn us(x: f64) -> String {
    let a = x.abs();
    if a < 1_000.0 {
        format!("{} µs", sig(x, 3))
    } else if a < 1_000_000.0 {
        format!("{} ms", sig(x / 1e3, 3))
    } else {
        format!("{} s", sig(x / 1e6, 3))
    }
}

/// Seconds as µs / ms / s / min / h.
pub fn seconds(s: f64) -> String {
    let a = s.abs();
    if a < 1.0 {
        us(s * 1e6)
    } else if a < 120.0 {
        format!("{} s", sig(s, 3))
    } else if a < 7_200.0 {
        format!("{} min", sig(s / 60.0, 3))
    } else {
        format!("{} h", sig(s / 3_600.0, 3))
    }
}

/// Bytes in binary units (B, KiB, MiB, GiB, TiB).
pub fn bytes(b: f64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = b;
    let mut i = 0;
    while v.abs() >= 1024.0 && i < UNITS.len() - 1 {
        v /= 1024.0;
        i += 1;
    }
    format!("{} {}", sig(v, 3), UNITS[i])
}

/// A count as 0, 950, 1k, 10k, 1.5M, 100M.
pub fn count(n: f64) -> String {
    let a = n.abs();
    let (v, suffix) = if a >= 1e9 {
        (n / 1e9, "G")
    } else if a >= 1e6 {
        (n / 1e6, "M")
    } else if a >= 1e3 {
        (n / 1e3, "k")
    } else {
        (n, "")
    };
    let s = sig(v, 3);
    let s = if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_string() } else { s };
    format!("{s}{suffix}")
}

/// Percent change from `from` to `to`, signed ("+12%", "−3.4%").
pub fn change(from: f64, to: f64) -> String {
    if from == 0.0 || !from.is_finite() || !to.is_finite() {
        return "n/a".to_string();
    }
    let pct = (to - from) / from * 100.0;
    if pct >= 0.0 { format!("+{}%", sig(pct, 2)) } else { format!("−{}%", sig(-pct, 2)) }
}

/// A mean and its CI half width in one unit: "1.11 ms ± 128 µs". The half width gets two
/// significant digits; one below 0.1% of the mean is shown as "± <0.1%" rather than as a long
/// string of zeros, and an exact 0 as "± 0" (every repeat gave the same value).
pub fn plus_minus(mean: f64, half: f64, f: impl Fn(f64) -> String) -> String {
    if half == 0.0 {
        format!("{} ± 0", f(mean))
    } else if mean != 0.0 && half.abs() < 1e-3 * mean.abs() {
        format!("{} ± <0.1%", f(mean))
    } else {
        format!("{} ± {}", f(mean), two_sig(half, &f))
    }
}

/// `f(x)` with two significant digits in place of three (µs/ms/s, B/KiB, k/M keep their unit):
/// round first, then drop the zero the three-digit formatter pads with ("1.10 µs" → "1.1 µs").
fn two_sig(x: f64, f: &impl Fn(f64) -> String) -> String {
    if x == 0.0 || !x.is_finite() {
        return f(x);
    }
    let factor = 10f64.powf(x.abs().log10().floor() - 1.0);
    trim_zeros(&f((x / factor).round() * factor))
}

/// Drop the zeros a fixed number of significant digits pads a number with: "3.00 s" → "3 s",
/// "1.10 µs" → "1.1 µs"; text after the number (its unit) is kept.
pub fn trim_zeros(text: &str) -> String {
    let end =
        text.find(|c: char| !(c.is_ascii_digit() || c == '.' || c == ',' || c == '-')).unwrap_or(text.len());
    let (number, rest) = text.split_at(end);
    if number.contains('.') && number.ends_with('0') {
        let trimmed = number.trim_end_matches('0');
        let trimmed = trimmed.strip_suffix('.').unwrap_or(trimmed);
        format!("{trimmed}{rest}")
    } else {
        text.to_string()
    }
}

/// A set duration (a TTL, a leeway) without padding zeros: "3 s", "5 s", "15 min".
pub fn duration(s: f64) -> String {
    trim_zeros(&seconds(s))
}

/// Below this many bytes per stored session a memory slope is noise of the memory reading, not
/// storage: one stored record cannot take less than Redis's (or malloc's) smallest allocation,
/// 16 B. A stateless scheme's used_memory drifts by a few KiB between levels (client buffers,
/// allocator), which over 10k sessions reads as ±1 B/session.
pub const SLOPE_RESOLUTION_BYTES: f64 = 16.0;

/// Bytes per stored session, a slope: "≈ 0 B/session" when its magnitude is below
/// [`SLOPE_RESOLUTION_BYTES`] (nothing is kept per session; float noise of a flat fit like 2.8e-20 B
/// or an allocator's drift of −1.1 B must not print as a number) or when its CI includes 0; else
/// "371 B/session".
pub fn bytes_per_session(slope: f64, ci_half: Option<f64>) -> String {
    if is_about_zero(slope, ci_half, SLOPE_RESOLUTION_BYTES) {
        "≈ 0 B/session".into()
    } else {
        match ci_half.filter(|h| *h > 0.0) {
            Some(h) => format!("{}/session ± {}", bytes(slope), bytes(h)),
            None => format!("{}/session", bytes(slope)),
        }
    }
}

/// Whether a slope is indistinguishable from 0: below `resolution` in magnitude, or inside its
/// own CI half width.
pub fn is_about_zero(x: f64, ci_half: Option<f64>, resolution: f64) -> bool {
    x.is_finite() && (x.abs() < resolution || ci_half.is_some_and(|h| x.abs() <= h))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(sig(1.23456, 3), "1.23");
        assert_eq!(sig(1234.0, 3), "1230");
        assert_eq!(sig(1_234_567.0, 3), "1,230,000");
        assert_eq!(sig(0.000123456, 3), "0.000123");
        assert_eq!(us(85.4), "85.4 µs");
        assert_eq!(us(1530.0), "1.53 ms");
        assert_eq!(seconds(900.0), "15.0 min");
        assert_eq!(seconds(0.0012), "1.20 ms");
        assert_eq!(bytes(200.0), "200 B");
        assert_eq!(bytes(16.0 * 1024.0 * 1024.0 * 1024.0), "16.0 GiB");
        assert_eq!(axis(8.0), "8");
        assert_eq!(axis(2.5), "2.5");
        assert_eq!(axis(10.0), "10");
        assert_eq!(plain(212.0), "212");
        assert_eq!(plain(212.5), "213");
        assert_eq!(count(0.0), "0");
        assert_eq!(count(1_000_000.0), "1M");
        assert_eq!(count(100_000_000.0), "100M");
        assert_eq!(count(1_500.0), "1.5k");
        assert_eq!(change(100.0, 112.0), "+12%");
        assert_eq!(change(100.0, 96.6), "−3.4%");
    }

    #[test]
    fn means_with_their_interval() {
        assert_eq!(plus_minus(1110.0, 128.0, us), "1.11 ms ± 130 µs");
        // Two significant digits for the half width, in its own unit.
        assert_eq!(plus_minus(1_620_000.0, 48_712.0, count), "1.62M ± 49k");
        assert_eq!(plus_minus(9.48, 1.1134, us), "9.48 µs ± 1.1 µs");
        // A half width far below the mean's last digit is not a string of zeros.
        assert_eq!(plus_minus(371.3, 0.00275, bytes), "371 B ± <0.1%");
        assert_eq!(plus_minus(0.998, 0.000000995, |x| sig(x, 3)), "0.998 ± <0.1%");
        assert_eq!(plus_minus(104.0, 0.0, bytes), "104 B ± 0");
    }

    #[test]
    fn near_zero_slopes_are_about_zero() {
        // Float noise of a flat fit, and a slope inside its own CI, are "≈ 0".
        assert_eq!(bytes_per_session(0.0000000000000000000283, None), "≈ 0 B/session");
        assert_eq!(bytes_per_session(-0.0000000000000000000283, None), "≈ 0 B/session");
        assert_eq!(bytes_per_session(0.119, Some(1.09)), "≈ 0 B/session");
        assert_eq!(bytes_per_session(-3.45, Some(16.2)), "≈ 0 B/session");
        // A stateless scheme's allocator drift over two levels, with no interval to judge it by.
        assert_eq!(bytes_per_session(-1.13, None), "≈ 0 B/session");
        assert_eq!(bytes_per_session(-14.3, None), "≈ 0 B/session");
        assert_eq!(bytes_per_session(556.0, None), "556 B/session");
        // With repeats, the slope carries its interval wherever it appears.
        assert_eq!(bytes_per_session(577.4, Some(0.62)), "577 B/session ± 0.620 B");
        assert_eq!(bytes_per_session(371.3, Some(0.003)), "371 B/session ± 0.00300 B");
        assert_eq!(bytes_per_session(553.0, None), "553 B/session");
        assert!(!is_about_zero(2.0, Some(1.0), 0.5));
        assert!(!is_about_zero(f64::NAN, None, 0.5));
    }

    #[test]
    fn microseconds_are_always_written_with_the_micro_sign() {
        for x in [0.5, 85.4, 999.0] {
            let s = us(x);
            assert!(s.ends_with(" µs") && !s.contains("us"), "{s}");
        }
        assert_eq!(seconds(0.000421), "421 µs");
    }

    #[test]
    fn set_durations_without_padding() {
        assert_eq!(duration(3.0), "3 s");
        assert_eq!(duration(900.0), "15 min");
        assert_eq!(duration(2.5), "2.5 s");
        assert_eq!(trim_zeros("1,230,000 requests"), "1,230,000 requests");
        assert_eq!(trim_zeros("1.10 µs"), "1.1 µs");
    }
}
