//! Build information for `environment.json`: the commit and rustc that built this binary (not the
//! HEAD of whatever directory the binary later runs in).
//!
//! Re-runs when the checkout's HEAD, the branch it points to, packed refs or the index change, and
//! when any source of the workspace changes (so `git_dirty` follows edits). Outside a git checkout
//! (a source tarball) the commit is simply absent.

use std::path::Path;
use std::process::Command;

fn output(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program).args(args).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

fn git(args: &[&str]) -> Option<String> {
    output("git", args)
}

fn main() {
    // Every workspace member: an edit anywhere in the build must turn `git_dirty` on.
    for source in [
        "build.rs",
        "Cargo.toml",
        "Cargo.lock",
        "src",
        "contract",
        "util",
        "procs",
        "servers",
        "loadgen",
        "report",
        "benches",
    ] {
        println!("cargo:rerun-if-changed={source}");
    }
    // `--git-path` resolves each file in a linked worktree as well as in a plain clone.
    let mut watched = vec!["HEAD".to_owned(), "index".to_owned(), "packed-refs".to_owned()];
    if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
        watched.push(branch);
    }
    for name in watched {
        if let Some(path) = git(&["rev-parse", "--git-path", &name]).filter(|p| Path::new(p).exists()) {
            println!("cargo:rerun-if-changed={path}");
        }
    }
    if let Some(commit) = git(&["rev-parse", "HEAD"]) {
        println!("cargo:rustc-env=AUTHBENCH_GIT_COMMIT={commit}");
        // Tracked files differing from that commit (untracked files are not part of the build).
        if let Some(status) = git(&["status", "--porcelain", "--untracked-files=no"]) {
            println!("cargo:rustc-env=AUTHBENCH_GIT_DIRTY={}", !status.is_empty());
        }
    }
    println!("cargo:rerun-if-env-changed=RUSTC");
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    if let Some(version) = output(&rustc, &["--version"]) {
        println!("cargo:rustc-env=AUTHBENCH_RUSTC={version}");
    }
}
