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

#[cfg(test)]
mod tests {
    use super::*;

    fn row(scheme: &str, window_s: f64, rejected: bool, leeway: Option<f64>) -> RevocationRow {
        RevocationRow {
            scheme: scheme.into(),
            action: "logout".into(),
            window_s,
            rejected,
            note: String::new(),
            ttl_s: Some(3.0),
            leeway_s: leeway,
            default_ttl_s: Some(900.0),
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
