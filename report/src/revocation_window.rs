//! What a revocation window is made of, and what it would be at the default TTL: a credential
//! the action did not revoke stays valid for the rest of its lifetime (the test TTL the server
//! ran with) plus the verifier's leeway after expiry; a revoked one is rejected on the next
//! request whatever the TTL.

use crate::data::RevocationRow;
use crate::units;

/// The parts of one measured window, when `revocation.csv` records the TTL and leeway.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Makeup {
    /// The measured window minus the leeway: what was left of the credential's lifetime.
    pub remaining_s: f64,
    pub leeway_s: f64,
    pub ttl_s: f64,
    pub default_ttl_s: Option<f64>,
}

impl Makeup {
    /// Of a credential the action did not revoke; `None` when it was revoked or the file does not
    /// record the TTL.
    pub fn of(r: &RevocationRow) -> Option<Makeup> {
        if r.rejected {
            return None;
        }
        let ttl_s = r.ttl_s?;
        let leeway_s = r.leeway_s.unwrap_or(0.0).max(0.0);
        Some(Makeup {
            remaining_s: (r.window_s - leeway_s).max(0.0),
            leeway_s,
            ttl_s,
            default_ttl_s: r.default_ttl_s,
        })
    }

    /// The longest window at the default TTL: a credential used right after it was issued stays
    /// valid for the whole TTL plus the leeway (projected, not measured).
    pub fn projected_s(&self) -> Option<f64> {
        self.default_ttl_s.map(|t| t + self.leeway_s)
    }
}

/// "remaining lifetime of the 3 s test TTL + the verifier's 5 s leeway", or for a revoked
/// credential "server-side: rejected on the next request".
pub fn made_of(r: &RevocationRow) -> String {
    if r.rejected && r.window_s > 0.25 {
        // A per-server cache (session-cached): the other server's copy lives until it expires there.
        return format!(
            "server-side delete, seen by the other server once its cached copy expired ({})",
            units::seconds(r.window_s)
        );
    }
    if r.rejected && r.scheme == "session-tracked" {
        return "server-side delete, pushed to the other server's cache by Redis (CLIENT TRACKING)".into();
    }
    if r.rejected {
        return "server-side delete: rejected on the next request".into();
    }
    match Makeup::of(r) {
        Some(m) => {
            let leeway = if m.leeway_s > 0.0 {
                format!(" + the verifier's {} leeway after expiry", units::duration(m.leeway_s))
            } else {
                String::new()
            };
            // Expiry is checked in whole seconds: the rest can exceed the TTL by up to 1 s.
            let whole = if m.remaining_s > m.ttl_s { " (expiry counts whole seconds)" } else { "" };
            format!("the rest of its {} test TTL{leeway}{whole}", units::duration(m.ttl_s))
        }
        None => "the rest of its lifetime (TTL not recorded in revocation.csv)".into(),
    }
}

/// The window projected for the default TTL: "up to 15 min + 5 s leeway"; a revoked
/// credential's window does not depend on the TTL.
pub fn at_default_ttl(r: &RevocationRow) -> String {
    if r.rejected {
        return format!("{} (does not depend on the TTL)", units::seconds(r.window_s));
    }
    match Makeup::of(r) {
        Some(Makeup { default_ttl_s: Some(t), leeway_s, .. }) if leeway_s > 0.0 => {
            format!("up to {} + {} leeway", units::duration(t), units::duration(leeway_s))
        }
        Some(Makeup { default_ttl_s: Some(t), .. }) => format!("up to {}", units::duration(t)),
        _ => "not recorded".into(),
    }
}

/// One scheme and action's window over its independent probes (`revocation.csv` rows): the
/// geometric mean and the 95% Student-t interval of the log windows. Windows are positive and
/// span microseconds to minutes, and are read on a log axis: on log windows the interval is
/// symmetric there and never reaches below zero.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Window {
    pub n: usize,
    pub mean_s: f64,
    /// `None` with a single probe.
    pub ci: Option<(f64, f64)>,
    /// Probes in which the action revoked the copy (the server rejected it long before expiry).
    pub rejected: usize,
    /// The median, over probes, of an always-valid credential's round trip through the probed
    /// server just before the action (`floor_s`): a window near it is immediate. `None` in results
    /// written before the floor was measured.
    pub floor_s: Option<f64>,
}

impl Window {
    pub fn of(rows: &[&RevocationRow]) -> Option<Window> {
        // 1 µs floor: a window is never measured below a request's round trip.
        let logs: Vec<f64> = rows.iter().map(|r| r.window_s.max(1e-6).ln()).collect();
        let m = crate::stats::mean_ci(&logs)?;
        let ci = m.ci95_low.zip(m.ci95_high).map(|(lo, hi)| (lo.exp(), hi.exp()));
        Some(Window {
            n: m.n,
            mean_s: m.mean.exp(),
            ci,
            rejected: rows.iter().filter(|r| r.rejected).count(),
            floor_s: median(rows.iter().filter_map(|r| r.floor_s).collect()),
        })
    }

    /// Every probe revoked the copy.
    pub fn all_rejected(&self) -> bool {
        self.rejected == self.n
    }

    /// "1.02 ms [0.81 ms, 1.30 ms] (5 probes; a valid request's round trip 0.40 ms)",
    /// "8.78 s (1 probe)".
    pub fn text(&self) -> String {
        let mut probes = if self.n == 1 { "1 probe".to_string() } else { format!("{} probes", self.n) };
        if let Some(f) = self.floor_s {
            probes.push_str(&format!("; a valid request's round trip {}", units::seconds(f)));
        }
        match self.ci {
            Some((lo, hi)) => format!(
                "{} [{}, {}] ({probes})",
                units::seconds(self.mean_s),
                units::seconds(lo),
                units::seconds(hi)
            ),
            None => format!("{} ({probes})", units::seconds(self.mean_s)),
        }
    }
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    v.retain(|x| x.is_finite());
    v.sort_by(f64::total_cmp);
    let n = v.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(v[n / 2]),
        _ => Some((v[n / 2 - 1] + v[n / 2]) / 2.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_over_probes_is_a_geometric_mean_with_a_positive_interval() {
        let rows: Vec<RevocationRow> =
            [0.001, 0.002, 0.004].iter().map(|w| row("session", *w, true, Some(0.0))).collect();
        let w = Window::of(&rows.iter().collect::<Vec<_>>()).unwrap();
        assert!((w.mean_s - 0.002).abs() < 1e-12, "{w:?}");
        let (lo, hi) = w.ci.unwrap();
        assert!(lo > 0.0 && lo < 0.002 && hi > 0.002, "{w:?}");
        assert!(((0.002 / lo) - (hi / 0.002)).abs() < 1e-9, "symmetric on a log axis");
        assert!(w.all_rejected());
        let one = Window::of(&[&rows[0]]).unwrap();
        assert_eq!((one.ci, one.text()), (None, "1.00 ms (1 probe)".to_string()));
        // Beside each probe its floor, a valid credential's round trip: their median is shown.
        let floored: Vec<RevocationRow> = [0.0004, 0.0002, 0.0009]
            .iter()
            .map(|f| RevocationRow { floor_s: Some(*f), ..row("session", 0.001, true, Some(0.0)) })
            .collect();
        let w = Window::of(&floored.iter().collect::<Vec<_>>()).unwrap();
        assert_eq!(w.floor_s, Some(0.0004));
        assert!(w.text().ends_with("(3 probes; a valid request's round trip 400 µs)"), "{}", w.text());
    }

    fn row(scheme: &str, window_s: f64, rejected: bool, leeway: Option<f64>) -> RevocationRow {
        RevocationRow {
            scheme: scheme.into(),
            action: "logout".into(),
            probe: None,
            window_s,
            rejected,
            note: String::new(),
            ttl_s: Some(3.0),
            leeway_s: leeway,
            default_ttl_s: Some(900.0),
            floor_s: None,
        }
    }

    #[test]
    fn a_jwt_window_is_the_rest_of_the_ttl_plus_the_leeway() {
        let jwt = row("jwt", 8.78, false, Some(5.0));
        let m = Makeup::of(&jwt).unwrap();
        assert!((m.remaining_s - 3.78).abs() < 1e-9);
        assert_eq!(m.projected_s(), Some(905.0));
        assert_eq!(
            made_of(&jwt),
            "the rest of its 3 s test TTL + the verifier's 5 s leeway after expiry (expiry counts whole seconds)"
        );
        assert_eq!(at_default_ttl(&jwt), "up to 15 min + 5 s leeway");
        let cookie = row("cookie", 2.11, false, Some(0.0));
        assert_eq!(made_of(&cookie), "the rest of its 3 s test TTL");
        assert_eq!(at_default_ttl(&cookie), "up to 15 min");
    }

    #[test]
    fn a_revoked_credential_does_not_depend_on_the_ttl() {
        let session = row("session", 0.00113, true, Some(0.0));
        assert_eq!(Makeup::of(&session), None);
        assert_eq!(at_default_ttl(&session), "1.13 ms (does not depend on the TTL)");
    }

    #[test]
    fn older_files_without_the_ttl_say_so() {
        let mut old = row("jwt", 8.78, false, None);
        old.ttl_s = None;
        assert_eq!(Makeup::of(&old), None);
        assert_eq!(at_default_ttl(&old), "not recorded");
        assert!(made_of(&old).contains("not recorded"));
    }
}
