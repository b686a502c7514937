//! Who logs in: user `n` (1-based, `--first-user` and the agents' slices as ever) by a pattern
//! (`user{i}` / `password{i}`), or the n-th line of a user list kept beside the flow file. A
//! password may come from an environment variable instead, so it need not be written anywhere;
//! it is held here and sent, never written into a result.

use std::path::{Component, Path, PathBuf};

/// Where user `n`'s name and password come from.
#[derive(Clone, PartialEq, Eq)]
pub struct Users {
    names: Names,
    password: Password,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Names {
    /// `{i}` replaced by the user's number.
    Pattern(String),
    /// Names (and, when the list has a second column, passwords), user n on line n (wrapping).
    List(Vec<(String, Option<String>)>),
}

#[derive(Clone, PartialEq, Eq)]
enum Password {
    Pattern(String),
    /// From the environment: one secret for every user.
    Secret(String),
    /// The list's second column.
    Listed,
}

impl std::fmt::Debug for Users {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let password = match &self.password {
            Password::Pattern(p) => p.as_str(),
            Password::Secret(_) => "<from the environment>",
            Password::Listed => "<listed>",
        };
        f.debug_struct("Users").field("names", &self.names).field("password", &password).finish()
    }
}

/// The `[users]` table of a flow file.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UsersFile {
    /// Default `user{i}`.
    pub name: Option<String>,
    /// Default `password{i}`.
    pub password: Option<String>,
    /// The environment variable holding every user's password.
    pub password_env: Option<String>,
    /// A file beside the flow: one user per line, `name` or `name,password`; `#` comments.
    pub list: Option<String>,
}

impl Users {
    /// `user{i}` / `password{i}`: authbench's own servers' users.
    pub fn numbered() -> Users {
        Users { names: Names::Pattern("user{i}".into()), password: Password::Pattern("password{i}".into()) }
    }

    /// Read a flow's `[users]`: the list from `folder` (never outside it), the password from the
    /// environment when named there.
    pub fn from_file(f: &UsersFile, folder: &Path) -> Result<Users, String> {
        let names = match (&f.list, &f.name) {
            (Some(_), Some(_)) => return Err("users: give `name` (a pattern) or `list`, not both".into()),
            (Some(list), None) => Names::List(read_list(&inside(folder, list)?)?),
            (None, name) => Names::Pattern(name.clone().unwrap_or_else(|| "user{i}".into())),
        };
        let listed = matches!(&names, Names::List(l) if l.iter().all(|(_, p)| p.is_some()));
        let password = match (&f.password_env, &f.password) {
            (Some(_), Some(_)) => return Err("users: give `password` or `password_env`, not both".into()),
            (Some(var), None) => Password::Secret(std::env::var(var).map_err(|_| {
                format!("users.password_env: the environment variable {var} is not set (or not UTF-8)")
            })?),
            (None, Some(p)) => Password::Pattern(p.clone()),
            (None, None) if listed => Password::Listed,
            (None, None) if matches!(names, Names::List(_)) => {
                return Err("users.list: a line has no password: add `name,password` columns, or \
                            password_env / password"
                    .into());
            }
            (None, None) => Password::Pattern("password{i}".into()),
        };
        Ok(Users { names, password })
    }

    /// User `n` (1-based): name and password.
    pub fn get(&self, n: u64) -> (String, String) {
        let number = n.to_string();
        let (name, listed) = match &self.names {
            Names::Pattern(p) => (p.replace("{i}", &number), None),
            Names::List(l) => {
                let (name, password) = &l[((n.max(1) - 1) % l.len() as u64) as usize];
                (name.clone(), password.as_deref())
            }
        };
        let password = match (&self.password, listed) {
            (Password::Pattern(p), _) => p.replace("{i}", &number),
            (Password::Secret(s), _) => s.clone(),
            (Password::Listed, l) => l.unwrap_or_default().to_owned(),
        };
        (name, password)
    }

    /// Whether the password is a secret (from the environment or a list), not a pattern.
    pub fn secret_passwords(&self) -> bool {
        !matches!(self.password, Password::Pattern(_))
    }
}

/// `name` resolved in `folder`, refused when it leaves it (absolute, `..`, or a link out).
pub fn inside(folder: &Path, name: &str) -> Result<PathBuf, String> {
    let rel = Path::new(name);
    if rel.is_absolute() || rel.components().any(|c| !matches!(c, Component::Normal(_) | Component::CurDir)) {
        return Err(format!("`{name}`: a flow reads only files in its own folder (no absolute path, no ..)"));
    }
    let path = folder.join(rel);
    let (real, root) = match (path.canonicalize(), folder.canonicalize()) {
        (Ok(r), Ok(f)) => (r, f),
        (Err(e), _) | (_, Err(e)) => return Err(format!("`{}`: {e}", path.display())),
    };
    if !real.starts_with(&root) {
        return Err(format!("`{name}` leads out of the flow's folder (a link to {})", real.display()));
    }
    Ok(real)
}

fn read_list(path: &Path) -> Result<Vec<(String, Option<String>)>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("users.list {}: {e}", path.display()))?;
    let users: Vec<_> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| match l.split_once(',') {
            Some((n, p)) => (n.trim().to_owned(), Some(p.trim().to_owned())),
            None => (l.to_owned(), None),
        })
        .collect();
    if users.is_empty() {
        return Err(format!("users.list {}: no users in it", path.display()));
    }
    Ok(users)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_lists_and_secrets() {
        assert_eq!(Users::numbered().get(7), ("user7".into(), "password7".into()));
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("u.csv"), "# name,password\nalice,a1\n\nbob, b2\n").unwrap();
        let f = UsersFile { list: Some("u.csv".into()), ..UsersFile::default() };
        let u = Users::from_file(&f, dir.path()).unwrap();
        assert_eq!(u.get(1), ("alice".into(), "a1".into()));
        assert_eq!(u.get(2), ("bob".into(), "b2".into()));
        assert_eq!(u.get(3).0, "alice", "wraps around");
        assert!(u.secret_passwords());
        let missing =
            UsersFile { password_env: Some("AUTHBENCH_NO_SUCH_VARIABLE_7f3".into()), ..UsersFile::default() };
        assert!(
            Users::from_file(&missing, dir.path()).unwrap_err().contains("AUTHBENCH_NO_SUCH_VARIABLE_7f3")
        );
        // A variable every test process has (setting one would need `unsafe`).
        let path = std::env::var("PATH").unwrap();
        let f = UsersFile {
            name: Some("svc-{i}".into()),
            password_env: Some("PATH".into()),
            ..Default::default()
        };
        let u = Users::from_file(&f, dir.path()).unwrap();
        assert_eq!(u.get(4), ("svc-4".into(), path.clone()));
        assert!(!format!("{u:?}").contains(&path));
    }

    #[test]
    fn a_flow_reads_only_inside_its_folder() {
        let dir = tempfile::tempdir().unwrap();
        let flows = dir.path().join("flows");
        std::fs::create_dir(&flows).unwrap();
        std::fs::write(dir.path().join("secret.csv"), "root,x\n").unwrap();
        std::fs::write(flows.join("ok.csv"), "a,b\n").unwrap();
        assert!(inside(&flows, "ok.csv").is_ok());
        for bad in ["../secret.csv", "/etc/passwd", "sub/../../secret.csv"] {
            assert!(inside(&flows, bad).unwrap_err().contains("own folder"), "{bad}");
        }
        std::os::unix::fs::symlink(dir.path().join("secret.csv"), flows.join("link.csv")).unwrap();
        assert!(inside(&flows, "link.csv").unwrap_err().contains("out of the flow's folder"));
        let f = UsersFile { list: Some("../secret.csv".into()), ..UsersFile::default() };
        assert!(Users::from_file(&f, &flows).is_err());
    }
}
