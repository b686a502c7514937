//! The request mix of a logged-in virtual user: `--mix me=98,refresh=1,logout=1`.

use crate::error::{Error, Result};

/// What a logged-in virtual user does next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Me,
    Refresh,
    Logout,
}

/// Integer weights of each action; picked with a per-user random number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Mix {
    pub me: u32,
    pub refresh: u32,
    pub logout: u32,
}

impl Default for Mix {
    fn default() -> Self {
        Mix { me: 98, refresh: 1, logout: 1 }
    }
}

impl Mix {
    /// Parse `me=98,refresh=1,logout=1`; unnamed actions get weight 0.
    pub fn parse(text: &str) -> Result<Mix> {
        let bad = |why: String| {
            Error::BadInput(format!("--mix `{text}`: {why}; expected e.g. me=98,refresh=1,logout=1"))
        };
        let mut mix = Mix { me: 0, refresh: 0, logout: 0 };
        for entry in text.split(',').map(str::trim) {
            let (k, v) = entry.split_once('=').ok_or_else(|| bad(format!("`{entry}` has no `=`")))?;
            let w: u32 = v.trim().parse().map_err(|_| bad(format!("`{v}` is not a whole number")))?;
            match k.trim() {
                "me" => mix.me = w,
                "refresh" => mix.refresh = w,
                "logout" => mix.logout = w,
                other => return Err(bad(format!("unknown action `{other}` (me, refresh, logout)"))),
            }
        }
        if mix.total() == 0 {
            return Err(bad("all weights are 0".into()));
        }
        Ok(mix)
    }

    /// The mix a flow can run: no refresh where it has none, no logout where it has none. `None`
    /// when nothing is left to draw.
    pub fn fit(self, has_refresh: bool, has_logout: bool) -> Option<Mix> {
        let mix = Mix {
            me: self.me,
            refresh: if has_refresh { self.refresh } else { 0 },
            logout: if has_logout { self.logout } else { 0 },
        };
        (mix.total() > 0).then_some(mix)
    }

    fn total(&self) -> u64 {
        u64::from(self.me) + u64::from(self.refresh) + u64::from(self.logout)
    }

    /// The action for a uniformly random `r`.
    pub fn pick(&self, r: u64) -> Action {
        let x = r % self.total();
        if x < u64::from(self.me) {
            Action::Me
        } else if x < u64::from(self.me) + u64::from(self.refresh) {
            Action::Refresh
        } else {
            Action::Logout
        }
    }
}

/// xorshift64*: a few instructions per draw, one per virtual user, seeded from its index.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rejects() {
        assert_eq!(Mix::parse("me=98,refresh=1,logout=1").unwrap(), Mix::default());
        assert_eq!(Mix::parse("me=1").unwrap(), Mix { me: 1, refresh: 0, logout: 0 });
        for bad in ["me", "me=x", "me=0", "login=5", "me=-1"] {
            assert!(Mix::parse(bad).unwrap_err().to_string().starts_with("--mix"), "{bad}");
        }
    }

    #[test]
    fn fits_a_flow_without_refresh_or_logout() {
        assert_eq!(Mix::default().fit(true, true), Some(Mix::default()));
        assert_eq!(Mix::default().fit(false, false), Some(Mix { me: 98, refresh: 0, logout: 0 }));
        assert_eq!(Mix { me: 0, refresh: 1, logout: 0 }.fit(false, true), None);
    }

    #[test]
    fn picks_in_proportion() {
        let mix = Mix::parse("me=90,refresh=5,logout=5").unwrap();
        let mut rng = Rng::new(7);
        let mut counts = [0u32; 3];
        for _ in 0..100_000 {
            counts[mix.pick(rng.next_u64()) as usize] += 1;
        }
        assert!((89_000..91_000).contains(&counts[0]), "{counts:?}");
        assert!((4_500..5_500).contains(&counts[1]), "{counts:?}");
        assert!((4_500..5_500).contains(&counts[2]), "{counts:?}");
    }
}
