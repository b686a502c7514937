//! The shell entry points answer `--help` on a fresh machine without installing or building
//! anything: `cargo`, `apt-get`, `dpkg`, `sudo` and `rustup` are replaced by stubs that record any
//! call, and no call may happen.

use std::path::Path;
use std::process::Command;

#[test]
fn help_installs_and_builds_nothing() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let stubs = tempfile::tempdir().unwrap();
    let calls = stubs.path().join("calls.log");
    for tool in ["cargo", "apt-get", "dpkg", "sudo", "rustup"] {
        let stub = stubs.path().join(tool);
        std::fs::write(&stub, format!("#!/bin/sh\necho \"{tool} $*\" >> '{}'\nexit 1\n", calls.display()))
            .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&stub, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let path = format!("{}:/usr/local/bin:/usr/bin:/bin", stubs.path().display());
    for (script, says) in [
        ("compare.sh", "scripts/compare.sh --quick"),
        ("faults.sh", "scripts/faults.sh [RESULTS_DIR]"),
        ("test.sh", "format, lint"),
        ("cpu-ratio.sh", "scripts/cpu-ratio.sh [OUT_DIR]"),
        ("bench-loadgen.sh", "scripts/bench-loadgen.sh [throughput|vus10k|all]"),
        ("bench-transport.sh", "scripts/bench-transport.sh"),
    ] {
        for flag in ["--help", "-h"] {
            let out = Command::new("bash")
                .arg(root.join("scripts").join(script))
                .arg(flag)
                .env("PATH", &path)
                .current_dir(root)
                .output()
                .unwrap();
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert!(out.status.success(), "{script} {flag}: {out:?}");
            assert!(stdout.contains(says), "{script} {flag} printed:\n{stdout}");
            assert!(!stdout.contains("#!/"), "{script} {flag} printed its shebang");
            let called = std::fs::read_to_string(&calls).unwrap_or_default();
            assert!(called.is_empty(), "{script} {flag} called: {called}");
        }
    }
}
