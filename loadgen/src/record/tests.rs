use super::*;

fn ok(endpoint: Endpoint, us: u64) -> Sample {
    Sample {
        endpoint,
        request: 0,
        outcome: Ok(us),
        status: 0,
        end: Instant::now(),
        uncorrected_us: None,
        bytes_sent: 100,
        bytes_received: 200,
        credential_bytes: Some(40),
    }
}

#[test]
fn shards_merge_into_totals_and_reset() {
    let r = Recorder::with_named(4, 0);
    assert_eq!(r.last_seen(), (None, None));
    for i in 0..1000u64 {
        r.record(i as usize, &ok(Endpoint::Me, 100 + i));
    }
    r.record(
        1,
        &Sample { outcome: Err(ErrorKind::Timeout), credential_bytes: None, ..ok(Endpoint::Login, 0) },
    );
    let mut interval = Stats::default();
    r.drain_into(&mut interval);
    let me = interval.endpoint(Endpoint::Me);
    assert_eq!(me.count(), 1000);
    assert_eq!(me.bytes_sent, 100_000);
    assert_eq!(me.credential_bytes, 40_000);
    assert_eq!(me.latency.max(), 1099);
    assert_eq!(interval.endpoint(Endpoint::Login).errors[ErrorKind::Timeout as usize], 1);
    assert_eq!(interval.error_count(), 1);
    let mut again = Stats::default();
    r.drain_into(&mut again);
    assert_eq!(again.count(), 0, "a drain resets the shards");
    let (answer, unanswered) = r.last_seen();
    assert!(answer.is_some() && unanswered.is_some(), "the last-seen gauges survive a drain");
    assert_eq!(again.last_answer, answer);
}

#[test]
fn statuses_unfinished_and_dropped_are_counted() {
    let r = Recorder::with_named(2, 0);
    let fail = |status: u16| Sample {
        outcome: Err(ErrorKind::from_status(status)),
        status,
        credential_bytes: None,
        ..ok(Endpoint::Me, 0)
    };
    r.record(0, &fail(503));
    r.record(1, &fail(503));
    r.record(1, &fail(401));
    r.record(0, &ok(Endpoint::Me, 10));
    r.record(0, &Sample { outcome: Err(ErrorKind::Timeout), ..ok(Endpoint::Me, 0) });
    r.unfinished(0, Endpoint::Me, 1500);
    r.unfinished(1, Endpoint::Me, 900);
    r.dropped(1, 7, 2_000_000);
    let mut s = Stats::default();
    r.drain_into(&mut s);
    let me = s.endpoint(Endpoint::Me);
    assert_eq!(me.statuses().collect::<Vec<_>>(), vec![(401, 1), (503, 2)]);
    assert_eq!((me.unfinished, me.unfinished_max_age_us), (2, 1500));
    assert_eq!((s.dropped, s.dropped_oldest_age_us), (7, 2_000_000));
    assert_eq!(s.answered(), 4, "three statuses and one success; the timeout is no answer");
    assert_eq!(s.unanswered(), 1);
    assert_eq!(me.attempts(), 5, "unfinished requests are not attempts that finished");
}

#[test]
fn huge_latencies_saturate_instead_of_panicking() {
    let mut s = Stats::default();
    s.record(&ok(Endpoint::Me, u64::MAX));
    s.record(&ok(Endpoint::Me, 0));
    assert_eq!(s.endpoint(Endpoint::Me).count(), 2);
    assert!(s.endpoint(Endpoint::Me).latency.max() >= MAX_LATENCY_US);
}

#[test]
fn a_flows_requests_are_kept_apart_by_index_and_add_up_to_me() {
    let r = Recorder::with_named(2, 2);
    r.record(0, &Sample { request: 1, ..ok(Endpoint::Me, 10) });
    r.record(
        1,
        &Sample { request: 1, outcome: Err(ErrorKind::Status4xx), status: 403, ..ok(Endpoint::Me, 0) },
    );
    r.record(1, &ok(Endpoint::Me, 20));
    r.record(0, &ok(Endpoint::Login, 30));
    let mut s = Stats::default();
    r.drain_into(&mut s);
    assert_eq!(s.named.len(), 2);
    assert_eq!((s.named[0].count(), s.named[0].error_count()), (1, 0));
    assert_eq!((s.named[1].count(), s.named[1].error_count()), (1, 1));
    assert_eq!(s.endpoint(Endpoint::Me).attempts(), 3, "me still counts them all");
    // One request: nothing kept apart (a built-in scheme's run records what it always did).
    assert!(Stats::with_named(1).named.is_empty());
}
