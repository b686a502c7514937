//! deploy/agents-job.yaml, the Kubernetes Indexed Job of docs/distributed.md: it parses, it is an
//! Indexed Job of as many completions as agents, and its command turns each pod's 0-based
//! `JOB_COMPLETION_INDEX` into `--agent INDEX+1/N` — run through `sh` as the pod would, with a
//! stub `authbench` that prints its arguments, which `authbench load`'s own parser then accepts.

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use clap::Parser;
use serde_yaml::Value;

#[derive(Parser)]
struct Load {
    #[command(flatten)]
    args: authbench_loadgen::LoadArgs,
}

fn manifest() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/agents-job.yaml");
    serde_yaml::from_str(&std::fs::read_to_string(path).unwrap()).expect("the manifest is YAML")
}

#[test]
fn indexed_job_passes_the_one_based_agent_index_through() {
    let job = manifest();
    assert_eq!(job["apiVersion"], "batch/v1");
    assert_eq!(job["kind"], "Job");
    let spec = &job["spec"];
    assert_eq!(spec["completionMode"], "Indexed");
    let n = spec["completions"].as_u64().unwrap();
    assert_eq!(spec["parallelism"].as_u64(), Some(n), "every agent runs at once");
    let pod = &spec["template"]["spec"];
    assert_eq!(pod["restartPolicy"], "Never", "a restarted agent would run its slice twice");
    let container = &pod["containers"][0];
    let env: Vec<(String, String)> = container["env"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|e| (e["name"].as_str().unwrap().to_owned(), e["value"].as_str().unwrap().to_owned()))
        .collect();
    let get = |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap();
    assert_eq!(get("AGENTS").parse::<u64>().unwrap(), n, "AGENTS = completions");
    let command: Vec<&str> =
        container["command"].as_sequence().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
    assert_eq!(command, ["/bin/sh", "-c"]);
    let script = container["args"][0].as_str().unwrap();

    let stub = tempfile::tempdir().unwrap();
    let bin = stub.path().join("authbench");
    std::fs::write(&bin, "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done\n").unwrap();
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!("{}:{}", stub.path().display(), std::env::var("PATH").unwrap_or_default());
    let mut starts = Vec::new();
    for index in 0..n {
        let out = Command::new("/bin/sh")
            .args(["-c", script])
            .env("PATH", &path)
            .env("JOB_COMPLETION_INDEX", index.to_string())
            .env("AGENTS", get("AGENTS"))
            .env("START_AT", get("START_AT"))
            // An address, so the parser below need not resolve the cluster's service name.
            .env("TARGET", "http://10.0.0.1:8080")
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let argv: Vec<String> = String::from_utf8(out.stdout).unwrap().lines().map(str::to_owned).collect();
        assert_eq!(argv[0], "load");
        let after = |flag: &str| argv.iter().position(|a| a == flag).map(|i| argv[i + 1].clone()).unwrap();
        assert_eq!(after("--agent"), format!("{}/{n}", index + 1), "pod {index}: {argv:?}");
        assert_eq!(after("--out"), format!("/results/agent-{}", index + 1));
        // What the pod runs is a valid `authbench load` line: this agent's slice of the test.
        let parsed = Load::try_parse_from(&argv).unwrap_or_else(|e| panic!("{argv:?}: {e}"));
        let config = parsed.args.into_config().unwrap_or_else(|e| panic!("{argv:?}: {e}"));
        let slice = config.agent.unwrap();
        assert_eq!((slice.agent.index, slice.agent.count), (index + 1, n));
        assert_eq!(slice.test.agents, n);
        starts.push(config.start_at.unwrap());
    }
    assert!(starts.windows(2).all(|w| w[0] == w[1]), "one --start-at for all");
}
