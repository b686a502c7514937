//! Key material of one comparison: written to private files for the server children's
//! `--key-file`, and held in memory for the preloader, so preloaded credentials are ones the
//! servers accept.

use std::path::PathBuf;

use anyhow::Result;
use authbench_servers::direct::Codec;
use authbench_servers::direct::Sealer;

/// Keys shared with the server child through `--key-file`, so issued credentials are ones the
/// server would accept.
pub struct IssueKeys {
    pub cookie: Sealer,
    pub jwt: Codec,
}

/// Key material shared with the server children (through `--key-file`) and the preloader.
pub struct Keys {
    pub cookie_file: PathBuf,
    pub jwt_file: PathBuf,
    pub issue: IssueKeys,
    _dir: tempfile::TempDir,
}

impl Keys {
    /// Fresh random keys in a private temporary directory (never in the results folder). The
    /// preloader's keys are derived from the files' bytes by the servers' own function
    /// (`from_key_file`: HKDF), so what it issues is what a server given the file accepts.
    pub fn generate() -> Result<Keys> {
        use rand::RngCore;
        let dir = tempfile::Builder::new().prefix("authbench-keys-").tempdir()?;
        let mut cookie = [0u8; 64];
        let mut jwt = [0u8; 48];
        rand::rng().fill_bytes(&mut cookie);
        rand::rng().fill_bytes(&mut jwt);
        let cookie_file = dir.path().join("cookie.key");
        let jwt_file = dir.path().join("jwt.key");
        std::fs::write(&cookie_file, cookie)?;
        std::fs::write(&jwt_file, jwt)?;
        let ttl = std::time::Duration::from_secs(900);
        let issue = IssueKeys {
            cookie: Sealer::from_key_file(&cookie)?,
            jwt: Codec::from_key_file(authbench_servers::JwtAlg::Hs256, &jwt, ttl, ttl * 96)?,
        };
        Ok(Keys { cookie_file, jwt_file, issue, _dir: dir })
    }
}
