//! `authbench capacity`: the answer's arithmetic on a synthetic results folder, checked by hand,
//! and bad input.

mod common;

use std::process::Command;

use common::BIN;

fn write(dir: &std::path::Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

#[test]
fn the_answer_from_a_synthetic_folder_matches_the_arithmetic_by_hand() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let mut cpu = String::from(
        "scheme,repeat,step,share,offered_rps,achieved_rps,vus,me_p99_us,errors,dropped,server_cpu_us_per_req,\
         generator_cpu_pct,generator_lag_ms,generator_saturated,limits\n",
    );
    // session at 60%: 30, 33, 36 µs in repeats 1–3; jwt: 20 µs each time. p99 800 µs at 60%.
    for (scheme, us) in [("session", [30.0, 33.0, 36.0]), ("jwt", [20.0, 20.0, 20.0])] {
        for (r, u) in us.iter().enumerate() {
            cpu.push_str(&format!(
                "{scheme},{},1,0.25,1000,1000,10,500,0,0,{},10,1,false,ok\n",
                r + 1,
                u * 1.5
            ));
            cpu.push_str(&format!("{scheme},{},2,0.6,2400,2400,10,800,0,0,{u},10,1,false,ok\n", r + 1));
            cpu.push_str(&format!(
                "{scheme},{},3,0.75,3000,3000,10,2000,0,0,{},10,1,false,ok\n",
                r + 1,
                u * 0.9
            ));
        }
    }
    write(d, "cpu_vs_load.csv", &cpu);
    write(
        d,
        "redis_direct.csv",
        "lookup,repeat,keyspace,target_busy,busy,offered_rps,achieved_rps,us_per_lookup,connections\n\
         GETEX,1,1000000,0.6,0.6,200000,200000,3.0,300\nGETEX,2,1000000,0.6,0.6,200000,200000,3.0,300\n",
    );
    write(
        d,
        "store_bytes.csv",
        "scheme,item,repeat,items,bytes_per_item\nsession,session,1,1000000,400\nsession,session,1,10000000,400\n",
    );
    write(
        d,
        "credentials.csv",
        "scheme,header,credential_bytes,request_bytes,response_bytes\nsession,cookie,55,112,188\njwt,authorization,223,287,188\n",
    );
    write(
        d,
        "revocation.csv",
        "scheme,action,probe,window_s,rejected,note\nsession,logout,0,0.002,true,x\nsession,logout,1,0.003,true,x\nsession,logout,2,0.004,true,x\n",
    );
    let out = d.join("answer");
    let o = Command::new(BIN)
        .args([
            "capacity",
            d.to_str().unwrap(),
            "--users",
            "10m",
            "--logins-per-day",
            "0",
            "--logouts-per-day",
            "0",
        ])
        .args(["--out", out.to_str().unwrap()])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let rows: Vec<csv::StringRecord> =
        csv::Reader::from_path(out.join("answer.csv")).unwrap().records().map(Result::unwrap).collect();
    let header = csv::Reader::from_path(out.join("answer.csv")).unwrap().headers().unwrap().clone();
    let get = |scheme: &str, col: &str| -> f64 {
        let i = header.iter().position(|h| h == col).unwrap_or_else(|| panic!("no column {col}"));
        rows.iter().find(|r| &r[1] == scheme).unwrap()[i].parse().unwrap()
    };
    // 1e6 req/s × 33 µs (the mean of 30/33/36) ÷ 0.6 = 55 cores; the interval is across repeats.
    assert!((get("session", "app_cores") - 55.0).abs() < 1e-6);
    assert!(get("session", "app_cores_low") < 55.0 && get("session", "app_cores_high") > 55.0);
    // Redis: 1e6 × 3 µs = 3 cores ÷ 0.6 → 5 shards by CPU; 1e7 × 400 B = 3.7 GiB → 1 by memory.
    assert!((get("session", "redis_cores") - 3.0).abs() < 1e-6);
    assert_eq!(get("session", "shards"), 5.0);
    assert_eq!(get("session", "redis_memory_bytes"), 4e9);
    assert_eq!(get("session", "redis_memory_total_bytes"), 8e9, "one replica by default");
    // Wire: 1e6 × (112 + 188) B.
    assert_eq!(get("session", "bytes_s"), 3e8);
    assert!((get("session", "window_s") - 0.003).abs() < 1e-9);
    assert_eq!(get("session", "p99_us"), 800.0);
    // jwt: 1e6 × 20 ÷ 0.6, no Redis, the access lifetime + 5 s leeway.
    // A refresh per user per access lifetime (15 min), counted at /api/me's CPU.
    assert!((get("jwt", "app_cores") - (1e6 * 20.0 + 1e7 / 900.0 * 20.0) / 1e6 / 0.6).abs() < 1e-6);
    assert_eq!(get("jwt", "shards"), 0.0);
    assert_eq!(get("jwt", "window_s"), 905.0);
    assert!(stdout.contains("| **session** |") && stdout.contains("Assumptions"), "{stdout}");
    assert!(std::fs::read_to_string(out.join("answer.md")).unwrap().contains("| **jwt** |"));

    // Over h2-tls: jwt's CPU × (its h2-tls ÷ h1 CPU at one offered rate, per repeat), its bytes as
    // counted over h2-tls; session was not measured over it, so it gets no answer, and says why.
    let mut tr = String::from(
        "scheme,repeat,transport,cookie,offered_rps,achieved_rps,p50_us,p99_us,errors,server_cpu_us_per_req,\
         bytes_sent_per_req,bytes_received_per_req,login_cpu_us,resumed_share,sent_1,sent_2,sent_100,\
         bare_sent_1,bare_sent_2,bare_sent_100\n",
    );
    for r in 1..=3 {
        tr.push_str(&format!("jwt,{r},h1,,1000,1000,100,800,0,10,287,188,300,,0,0,0,0,0,0\n"));
        tr.push_str(&format!("jwt,{r},h2-tls,,1000,1000,100,900,0,15,120,80,500,0.9,0,0,0,0,0,0\n"));
    }
    write(d, "transport.csv", &tr);
    let tls = d.join("tls");
    let o = Command::new(BIN)
        .args(["capacity", d.to_str().unwrap(), "--users", "10m", "--logins-per-day", "0"])
        .args(["--logouts-per-day", "0", "--transport", "h2-tls", "--out", tls.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let printed = String::from_utf8_lossy(&o.stdout);
    assert!(printed.contains("session: h2-tls not measured"), "{printed}");
    let text = std::fs::read_to_string(tls.join("answer.csv")).unwrap();
    let mut rd = csv::Reader::from_reader(text.as_bytes());
    let h = rd.headers().unwrap().clone();
    let rows: Vec<csv::StringRecord> = rd.records().map(Result::unwrap).collect();
    assert!(rows.iter().all(|r| &r[1] != "session"), "{text}");
    let col = |c: &str| h.iter().position(|x| x == c).unwrap();
    let jwt = rows.iter().find(|r| &r[1] == "jwt").unwrap();
    let cores: f64 = jwt[col("app_cores")].parse().unwrap();
    assert!((cores - (1e6 * 30.0 + 1e7 / 900.0 * 30.0) / 1e6 / 0.6).abs() < 1e-6, "{cores}");
    assert_eq!(jwt[col("bytes_s")].parse::<f64>().unwrap(), 2e8);
    assert_eq!(jwt[col("p99_us")].parse::<f64>().unwrap(), 900.0);

    // A workload out of range, and a folder with nothing to answer from: exit 2, one clear line.
    let bad =
        Command::new(BIN).args(["capacity", d.to_str().unwrap(), "--utilisation", "1.5"]).output().unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("utilisation must be in (0, 1]"));
    let empty = tempfile::tempdir().unwrap();
    let none = Command::new(BIN).args(["capacity", empty.path().to_str().unwrap()]).output().unwrap();
    assert_eq!(none.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&none.stderr).contains("nothing to answer from"));
}

/// `--calibrate` measures `/healthz` and Redis's GETEX here and rescales the folder's CPU figures
/// by here ÷ there: the rescaled app cores are the folder's times the factor it prints.
#[test]
fn calibrate_carries_the_answer_to_this_machine() {
    common::require_redis();
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    write(
        d,
        "cpu_vs_load.csv",
        "scheme,repeat,step,share,offered_rps,achieved_rps,vus,me_p99_us,errors,dropped,server_cpu_us_per_req,\
         generator_cpu_pct,generator_lag_ms,generator_saturated,limits\n\
         jwt,1,1,0.6,2000,2000,10,800,0,0,40,10,1,false,ok\njwt,2,1,0.6,2000,2000,10,800,0,0,44,10,1,false,ok\n",
    );
    // "There", /healthz cost 20 µs at 2,000 req/s, and GETEX 3 µs at 60% busy.
    write(
        d,
        "healthz_pairs.csv",
        "scheme,repeat,share,offered_rps,me_server_cpu_us,healthz_server_cpu_us\njwt,1,0.6,2000,40,20\n",
    );
    write(
        d,
        "redis_direct.csv",
        "lookup,repeat,keyspace,target_busy,busy,offered_rps,achieved_rps,us_per_lookup,connections\n\
         GETEX,1,10000,0.6,0.6,200000,200000,3.0,300\n",
    );
    let out = d.join("answer");
    let o = Command::new(BIN)
        .args([
            "capacity",
            d.to_str().unwrap(),
            "--calibrate",
            "--users",
            "1m",
            "--out",
            out.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{}\n{stdout}", String::from_utf8_lossy(&o.stderr));
    assert!(stdout.contains("As measured on") && stdout.contains("Carried to this machine"), "{stdout}");
    let note =
        stdout.lines().find(|l| l.contains("calibrated: /healthz")).expect("the calibration is stated");
    let factor: f64 = note.split("(app CPU × ").nth(1).unwrap().split(')').next().unwrap().parse().unwrap();
    assert!(factor > 0.05 && factor < 20.0, "{note}");
    let csv = std::fs::read_to_string(out.join("answer.csv")).unwrap();
    let row: Vec<&str> = csv.lines().nth(1).unwrap().split(',').collect();
    // 1e5 req/s × 42 µs ÷ 0.6 = 7 cores there, times the factor here (a refresh adds 42 µs × N/900).
    let there = (1e5 * 42.0 + 1e6 / 900.0 * 42.0) / 1e6 / 0.6;
    let here: f64 = row[4].parse().unwrap();
    assert!((here / there / factor - 1.0).abs() < 0.02, "{here} vs {there} × {factor}: {csv}");
}
