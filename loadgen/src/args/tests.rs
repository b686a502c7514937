use super::*;
use clap::Parser;

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    args: LoadArgs,
}

fn config(line: &str) -> Result<LoadConfig> {
    let argv = std::iter::once("load").chain(line.split_whitespace());
    Cli::try_parse_from(argv).expect("clap accepts").args.into_config()
}

#[test]
fn https_needs_its_certificate_and_tls_options_need_https() {
    let e = config("https://127.0.0.1:8443 -c 1").unwrap_err().to_string();
    assert!(e.contains("--ca"), "{e}");
    let e = config("http://127.0.0.1:8080 -c 1 --ca /x.pem").unwrap_err().to_string();
    assert!(e.contains("https://"), "{e}");
    let e = config("https://127.0.0.1:8443 -c 1 --ca /nonexistent.pem").unwrap_err().to_string();
    assert!(e.contains("/nonexistent.pem"), "{e}");
    assert!(config("http://127.0.0.1:8080 -c 1 --no-tls-resumption").is_err());
    assert!(config("http://127.0.0.1:8080 -c 1 --http2 --streams 0").is_err());
    let c = config("http://127.0.0.1:8080 -c 1 --http2 --streams 8 --new-connection-per-login").unwrap();
    assert!(c.transport.http2 && c.transport.streams == 8 && c.transport.new_connection_per_login);
    assert_eq!(c.transport.name(), "h2");
}

#[test]
fn remote_targets_need_allow_remote_and_no_server_pid() {
    let e = config("http://10.1.2.3:80 -c 1").unwrap_err();
    assert_eq!(e.exit_code(), 2);
    assert!(e.to_string().contains("--allow-remote"), "{e}");
    let c = config("http://10.1.2.3:80 -c 1 --allow-remote").unwrap();
    assert_eq!(c.target, "10.1.2.3:80".parse().unwrap());
    let c = config("--target [2001:db8::1]:8080 -c 1 --allow-remote").unwrap();
    assert_eq!(c.target, "[2001:db8::1]:8080".parse().unwrap());
    assert!(config("http://localhost:80/healthz -c 1 --allow-remote").unwrap().target.ip().is_loopback());
    let e = config("http://10.1.2.3:80 -c 1 --allow-remote --server-pid 1").unwrap_err();
    assert!(e.to_string().contains("--server-pid") && e.to_string().contains("remote"), "{e}");
    // A loopback target keeps --server-pid.
    assert_eq!(config("127.0.0.1:80 -c 1 --allow-remote --server-pid 1").unwrap().server_pid, Some(1));
}

#[test]
fn builds_each_load_model() {
    let c = config("--target 127.0.0.1:1 --scheme jwt --vus 5 --duration 2s").unwrap();
    assert_eq!(c.model, LoadModel::Closed { stages: Ramp::constant(5.0, Duration::from_secs(2)) });
    assert_eq!(c.scheme, Some(Scheme::new("jwt", authbench_contract::CredentialKind::Bearer)));
    let c = config("--target 127.0.0.1:1 --scheme none --stages 1s:10,1s:0").unwrap();
    assert!(matches!(c.model, LoadModel::Closed { .. }));
    assert_eq!(c.scheme, None);
    let c = config("--target 127.0.0.1:1 --scheme cookie --rate 5k --duration 3s").unwrap();
    assert_eq!(
        c.model,
        LoadModel::Open { rate_stages: Ramp::constant(5000.0, Duration::from_secs(3)), vus: 50 }
    );
    let c = config("--target 127.0.0.1:1 --scheme cookie --rate-stages 1s:100 --vus 3").unwrap();
    assert!(matches!(c.model, LoadModel::Open { vus: 3, .. }));
}

#[test]
fn takes_wrk_and_oha_habits() {
    let c = config("http://127.0.0.1:8080/healthz -c 50 -d 30s").unwrap();
    assert_eq!(c.target, "127.0.0.1:8080".parse().unwrap());
    assert_eq!(c.scheme, None);
    assert_eq!(c.model, LoadModel::Closed { stages: Ramp::constant(50.0, Duration::from_secs(30)) });
    let c = config("http://127.0.0.1:8080 --scheme jwt -R 2k -d 5s -H X-Trace:1 -H x-b:two").unwrap();
    assert!(matches!(c.model, LoadModel::Open { ref rate_stages, .. } if rate_stages.max() == 2000.0));
    let names: Vec<_> = c.headers.iter().map(|(n, v)| format!("{n}={}", v.to_str().unwrap())).collect();
    assert_eq!(names, ["x-trace=1", "x-b=two"]);
    // The long forms stay.
    let c = config("--target 127.0.0.1:8080 --connections 3 --duration 1s --json --abort-on-fail").unwrap();
    assert_eq!(c.model, LoadModel::Closed { stages: Ramp::constant(3.0, Duration::from_secs(1)) });
    assert!(c.json && c.abort_on_fail);
    let c = config("localhost:9 -c 1 --metrics-addr 127.0.0.1:0 --summary-export s.json").unwrap();
    assert_eq!(c.metrics_addr, Some("127.0.0.1:0".parse().unwrap()));
    assert_eq!(c.summary_export, Some(PathBuf::from("s.json")));
}

#[test]
fn rejects_bad_input_naming_the_option() {
    for (line, needle) in [
        ("--target 127.0.0.1:1 --scheme foo --vus 1", "--scheme"),
        ("--target 127.0.0.1:1 --scheme jwt", "load model"),
        ("--target 127.0.0.1:1 --scheme jwt --stages 10x:5", "--stages"),
        ("--target 127.0.0.1:1 --scheme jwt --rate-stages 1s", "--rate-stages"),
        ("--target 127.0.0.1:1 --scheme jwt --vus 1 --duration soon", "--duration"),
        ("--target 127.0.0.1:1 --scheme jwt --vus 1 --think x", "--think"),
        ("--target 127.0.0.1:1 --scheme jwt --vus 1 --timeout 0s", "--timeout"),
        ("--target 127.0.0.1:1 --scheme jwt --vus 1 --mix me=x", "--mix"),
        ("--target 127.0.0.1:1 --scheme jwt --vus 1 --threshold me.p99~3", "--threshold"),
        ("--target 127.0.0.1:1 --scheme jwt --vus 1 --server-pid abc", "--server-pid"),
        ("--target 127.0.0.1:1 --scheme jwt --vus 1 --redis-url nope", "--redis-url"),
        ("--target 127.0.0.1:1 --scheme jwt --stages 1s:1 --rate 5", "one load model"),
        ("--target 127.0.0.1:1 --scheme jwt --stages 1s:1 --vus 5", "--stages"),
        ("--target 127.0.0.1:1 --scheme jwt --vus 0", "--vus"),
        ("--target 8.8.8.8:53 --scheme jwt --vus 1", "loopback"),
        ("http://127.0.0.1:1/api/me -c 1", "/healthz"),
        ("http://127.0.0.1:1 --target 127.0.0.1:1 -c 1", "once"),
        ("-c 1", "no target"),
        ("127.0.0.1:1 -c 1 -H nocolon", "-H"),
        ("127.0.0.1:1 -c 1 -H Host:x", "-H"),
        ("127.0.0.1:1 -c 1 --summary-export /nonexistent-dir/s.json", "--summary-export"),
        ("127.0.0.1:1 -c 1 --metrics-addr 0.0.0.0:9", "--metrics-addr"),
    ] {
        let e = config(line).unwrap_err();
        assert_eq!(e.exit_code(), 2, "{line}");
        let text = e.to_string();
        assert!(text.contains(needle), "{line}: {text}");
        assert!(!text.contains('\n'), "one line: {text}");
    }
}
