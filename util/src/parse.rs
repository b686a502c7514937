//! One grammar for counts and durations on every command line (`serve --users 100k`,
//! `load --vus 10k --duration 30s`, `compare --sessions 1m`).

use std::time::Duration;

/// Parse "15m", "500ms", "7d", "30s" into a Duration (humantime's grammar).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    humantime::parse_duration(s.trim())
        .map_err(|e| format!("`{s}` is not a duration like 500ms, 30s, 15m, 7d ({e})"))
}

/// The inverse of [`parse_duration`]: "15m", "1s 500ms"; parses back to the same duration.
pub fn format_duration(d: Duration) -> String {
    humantime::format_duration(d).to_string()
}

/// Parse "100000", "100k", "1m" (million) into a count.
pub fn parse_count(s: &str) -> Result<u64, String> {
    let t = s.trim().to_ascii_lowercase().replace('_', "");
    let (digits, mult) = match t.as_bytes().last() {
        Some(b'k') => (&t[..t.len() - 1], 1_000),
        Some(b'm') => (&t[..t.len() - 1], 1_000_000),
        _ => (&t[..], 1),
    };
    digits
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(mult))
        .ok_or_else(|| format!("`{s}` is not a count like 10000, 10k or 1m"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_accept_suffixes_and_reject_junk() {
        assert_eq!(parse_count("100k").unwrap(), 100_000);
        assert_eq!(parse_count("1m").unwrap(), 1_000_000);
        assert_eq!(parse_count("10_000").unwrap(), 10_000);
        assert!(parse_count("ten").is_err());
        assert!(parse_count("-5").is_err());
        assert!(parse_count("99999999999999999999m").is_err());
    }

    #[test]
    fn durations_parse_and_explain_errors() {
        assert_eq!(parse_duration("15m").unwrap(), Duration::from_secs(900));
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        for d in [Duration::ZERO, Duration::from_millis(1500), Duration::from_secs(7 * 86400 + 1)] {
            assert_eq!(parse_duration(&format_duration(d)).unwrap(), d);
        }
        let err = parse_duration("soon").unwrap_err();
        assert!(err.contains("500ms"), "{err}");
    }
}
