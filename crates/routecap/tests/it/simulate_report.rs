//! `routecap::simulate` report numbers against hand-checked small scenarios.

use chrono::{DateTime, Timelike, Utc};
use proptest::prelude::*;
use routecap::simulate::{portable_ln, simulate, Profile, SimParams, SimReport};
use routecap_core::eligibility::ReasonCode;
use routecap_core::formats::parse_config;
use routecap_core::model::Config;
use routecap_core::money::Money;
use routecap_core::zone::{Instant, Zone};

fn config(json: &str) -> Config {
    parse_config(json.as_bytes(), "test.json", None).expect("valid config")
}

fn t(s: &str) -> Instant {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn run(config: &Config, p: &SimParams) -> SimReport {
    simulate(config, p, &mut |_| {}).expect("valid params")
}

/// Every call is answered and converts; calls are short.
fn certain(from: &str, to: &str, seed: u64) -> SimParams {
    SimParams {
        calls_per_hour: 10.0,
        answer_rate: 1.0,
        convert_rate: 1.0,
        revenue: Money(1250),
        mean_duration_secs: 30.0,
        ..SimParams::new(t(from), t(to), seed)
    }
}

fn rejections(r: &SimReport, target: usize, code: ReasonCode) -> u64 {
    r.targets[target]
        .rejections
        .iter()
        .filter(|x| x.code == code && x.group.is_none())
        .map(|x| x.calls)
        .sum()
}

#[test]
fn daily_cap_of_three_connects_exactly_three_a_day() {
    let c = config(r#"{"targets": [{"id": "a", "caps": {"daily": 3}}]}"#);
    let p = certain("2026-03-02T00:00:00Z", "2026-03-06T00:00:00Z", 7);
    let r = run(&c, &p);
    let days = 4;
    // ~240 calls a day: far more than 3 (P(fewer than 3) is ~1e-100).
    assert!(r.calls > 900, "{}", r.calls);
    assert_eq!(r.connected, 3 * days);
    assert_eq!(r.converted, 3 * days);
    assert_eq!(r.revenue, Money(3 * 1250 * days as i64));
    let a = &r.targets[0];
    assert_eq!(
        (a.offered, a.answered, a.connected, a.refused),
        (12, 12, 12, 0)
    );
    assert_eq!(a.revenue, Money(3 * 1250 * 4));
    // everything else is lost with daily_cap, and nothing goes unanswered
    assert_eq!(r.no_eligible, r.calls - 3 * days);
    assert_eq!(r.unanswered, 0);
    assert_eq!(a.ineligible, r.no_eligible);
    assert_eq!(rejections(&r, 0, ReasonCode::DailyCap), r.no_eligible);
    assert_eq!(a.rejections.len(), 1);
    // exactly 3 per UTC day, in that day's first hours
    for day in r.hours.chunks(24) {
        let connected: u64 = day.iter().map(|h| h.connected[0]).sum();
        let calls: u64 = day.iter().map(|h| h.calls).sum();
        let lost: u64 = day.iter().map(|h| h.no_eligible).sum();
        assert_eq!(connected, 3);
        assert_eq!(lost, calls - 3);
        // usage sampled at the end of each hour never exceeds the cap
        assert!(day.iter().all(|h| h.usage[0].daily <= 3));
        assert_eq!(day[23].usage[0].daily, 3);
    }
    assert_eq!(r.hours.len(), 24 * days as usize);
}

#[test]
fn closed_hours_lose_calls_exactly_in_those_hours() {
    // open 09:00-17:00 UTC every day, no caps
    let hours: Vec<String> = (0..7)
        .map(|d| format!(r#"{{"day": {d}, "open": "09:00", "close": "17:00"}}"#))
        .collect();
    let c = config(&format!(
        r#"{{"targets": [{{"id": "day-shift", "hours": [{}]}}]}}"#,
        hours.join(",")
    ));
    let mut p = certain("2026-03-02T00:00:00Z", "2026-03-04T00:00:00Z", 3);
    p.calls_per_hour = 30.0;
    let r = run(&c, &p);
    assert_eq!(r.unanswered, 0);
    for h in &r.hours {
        let open = (9..17).contains(&h.start.hour());
        assert!(h.calls > 0, "an hour without calls at 30/h: {:?}", h.start);
        if open {
            assert_eq!(h.no_eligible, 0, "{:?}", h.start);
            assert_eq!(h.connected[0], h.calls, "{:?}", h.start);
        } else {
            assert_eq!(h.no_eligible, h.calls, "{:?}", h.start);
            assert_eq!(h.connected[0], 0, "{:?}", h.start);
        }
    }
    assert_eq!(rejections(&r, 0, ReasonCode::Closed), r.no_eligible);
    assert_eq!(r.connected + r.no_eligible, r.calls);
    let by_hod = routecap::simulate::lost_by_hour_of_day(&r);
    for (h, (ne, un)) in by_hod.iter().enumerate() {
        assert_eq!(*un, 0);
        assert_eq!(*ne > 0, !(9..17).contains(&h), "hour {h}");
    }
}

#[test]
fn same_seed_same_report_other_seed_other_report() {
    let c = config(include_str!("../../../../examples/native.json"));
    let p = SimParams::new(t("2026-11-23T00:00:00Z"), t("2026-11-25T00:00:00Z"), 11);
    let a = run(&c, &p);
    let b = run(&c, &p);
    assert_eq!(a, b);
    let other = run(
        &c,
        &SimParams {
            seed: 12,
            ..p.clone()
        },
    );
    assert_ne!(a.calls, other.calls);
}

#[test]
fn arrivals_do_not_depend_on_answer_or_convert_rates() {
    let c = config(r#"{"targets": [{"id": "a"}]}"#);
    let p = SimParams::new(t("2026-03-02T00:00:00Z"), t("2026-03-03T00:00:00Z"), 5);
    let a = run(&c, &p);
    let b = run(
        &c,
        &SimParams {
            answer_rate: 0.2,
            convert_rate: 0.9,
            ..p.clone()
        },
    );
    let per_hour = |r: &SimReport| r.hours.iter().map(|h| h.calls).collect::<Vec<_>>();
    assert_eq!(per_hour(&a), per_hour(&b));
    assert!(b.connected < a.connected);
}

#[test]
fn arrival_count_is_poisson_around_the_rate() {
    let c = config(r#"{"targets": [{"id": "a"}]}"#);
    for seed in 0..5 {
        let p = SimParams {
            calls_per_hour: 500.0,
            ..SimParams::new(t("2026-03-02T00:00:00Z"), t("2026-03-04T00:00:00Z"), seed)
        };
        let r = run(&c, &p);
        // mean 24000, sd ~155: within 5 sd
        let n = r.calls as f64;
        assert!((n - 24_000.0).abs() < 5.0 * 155.0, "seed {seed}: {n}");
    }
}

#[test]
fn answer_rate_splits_answered_and_unanswered() {
    let c = config(r#"{"targets": [{"id": "a"}]}"#);
    let p = SimParams {
        calls_per_hour: 1000.0,
        answer_rate: 0.25,
        ..SimParams::new(t("2026-03-02T00:00:00Z"), t("2026-03-03T00:00:00Z"), 9)
    };
    let r = run(&c, &p);
    let a = &r.targets[0];
    assert_eq!(a.offered, r.calls);
    assert_eq!(a.connected + r.unanswered, r.calls);
    let share = a.connected as f64 / r.calls as f64;
    // 24000 trials at 0.25: sd ~0.0028
    assert!((share - 0.25).abs() < 0.015, "{share}");
    let conv = a.converted as f64 / a.connected as f64;
    assert!((conv - 0.3).abs() < 0.03, "{conv}");
    assert_eq!(a.revenue, Money(2000 * a.converted as i64));
}

#[test]
fn profile_zero_hours_get_no_calls() {
    let c = config(r#"{"targets": [{"id": "a"}]}"#);
    // only 12:00-13:00 New York time carries traffic
    let mut w = vec!["0"; 24];
    w[12] = "1";
    let profile = Profile::parse(&format!(
        r#"{{"time_zone": "America/New_York", "weights": [{}]}}"#,
        w.join(",")
    ))
    .unwrap();
    let p = SimParams {
        calls_per_hour: 10.0,
        profile: Some(profile),
        ..SimParams::new(t("2026-03-02T00:00:00Z"), t("2026-03-12T00:00:00Z"), 1)
    };
    let r = run(&c, &p);
    // EST (UTC-5) until 8 March 02:00 local, EDT (UTC-4) from then on
    for h in &r.hours {
        let day = h.start.format("%d").to_string();
        let busy_utc = if day.as_str() < "08" { 17 } else { 16 };
        if h.start.hour() != busy_utc {
            assert_eq!(h.calls, 0, "{:?}", h.start);
        }
    }
    // 10/h on average over the week, all of it in one hour a day: ~240 a day
    let n = r.calls as f64;
    assert!((n - 2400.0).abs() < 5.0 * 49.0, "{n}");
}

#[test]
fn profile_parsing() {
    let flat = Profile::parse(&vec!["1"; 24].join(",")).unwrap();
    assert_eq!(flat.zone, Zone::utc());
    assert!(flat.weights.iter().all(|w| *w == 1.0));
    let rows = format!(
        "[{}]",
        vec![format!("[{}]", vec!["2"; 24].join(",")); 7].join(",")
    );
    assert_eq!(Profile::parse(&rows).unwrap().weights[167], 2.0);
    for bad in [
        "1,2,3",
        "[]",
        "0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0",
        "x",
        "{\"weights\": 3}",
    ] {
        assert!(Profile::parse(bad).is_err(), "{bad}");
    }
    let neg = format!("-1,{}", vec!["1"; 23].join(","));
    assert!(Profile::parse(&neg).is_err());
    let huge = vec!["1e308"; 24].join(",");
    assert!(Profile::parse(&huge).is_err());
    let err = Profile::parse(r#"{"time_zone": "Mars/Olympus", "weights": [1]}"#).unwrap_err();
    assert!(err.contains("unknown time zone"), "{err}");
}

#[test]
fn simultaneous_group_connects_one_answering_member() {
    let c = config(
        r#"{"targets": [{"id": "m1"}, {"id": "m2"}, {"id": "solo", "priority": 2}],
            "groups": [{"id": "g", "members": ["m1", "m2"], "mode": "simultaneous"}]}"#,
    );
    let p = SimParams {
        calls_per_hour: 200.0,
        answer_rate: 1.0,
        ..SimParams::new(t("2026-03-02T00:00:00Z"), t("2026-03-03T00:00:00Z"), 2)
    };
    let r = run(&c, &p);
    let (m1, m2, solo) = (&r.targets[0], &r.targets[1], &r.targets[2]);
    // the group step comes first and always answers: both members ring on
    // every call, one of them (uniformly) takes it
    assert_eq!(r.groups[0].offered, r.calls);
    assert_eq!((m1.offered, m2.offered), (r.calls, r.calls));
    assert_eq!(m1.connected + m2.connected, r.calls);
    assert_eq!(r.groups[0].connected, r.calls);
    assert_eq!(solo.offered, 0);
    let share = m1.connected as f64 / r.calls as f64;
    assert!((share - 0.5).abs() < 0.05, "{share}");
}

#[test]
fn simultaneous_members_get_their_own_rejections() {
    let c = config(
        r#"{"targets": [{"id": "m1", "paused": true}, {"id": "m2"}],
            "groups": [{"id": "g", "members": ["m1", "m2"], "mode": "simultaneous"}]}"#,
    );
    let p = certain("2026-03-02T00:00:00Z", "2026-03-02T12:00:00Z", 4);
    let r = run(&c, &p);
    assert_eq!(rejections(&r, 0, ReasonCode::Paused), r.calls);
    assert_eq!(r.targets[1].connected, r.calls);
    assert_eq!(r.targets[0].offered, 0);
}

#[test]
fn concurrency_cap_holds_live_calls_until_they_end() {
    let c = config(r#"{"targets": [{"id": "a", "caps": {"concurrency": 1}}]}"#);
    let p = SimParams {
        calls_per_hour: 120.0,
        answer_rate: 1.0,
        mean_duration_secs: 600.0,
        ..SimParams::new(t("2026-03-02T00:00:00Z"), t("2026-03-03T00:00:00Z"), 8)
    };
    let r = run(&c, &p);
    assert!(r.hours.iter().all(|h| h.peak_live[0] <= 1));
    assert_eq!(rejections(&r, 0, ReasonCode::ConcurrencyCap), r.no_eligible);
    // busy line: many lost, many connected
    assert!(r.no_eligible > 500 && r.connected > 100, "{r:?}");
}

#[test]
fn imported_usage_and_fresh() {
    let c = config(
        r#"{"as_of": "2026-03-02T10:00:00Z",
            "targets": [{"id": "a", "caps": {"daily": 5}, "usage": {"daily": 5}}]}"#,
    );
    let mut p = certain("2026-03-02T10:00:00Z", "2026-03-03T00:00:00Z", 1);
    let r = run(&c, &p);
    assert_eq!(r.connected, 0, "the imported day is already full");
    p.fresh = true;
    assert_eq!(run(&c, &p).connected, 5);
    // before as_of: refused unless fresh
    let early = certain("2026-03-01T00:00:00Z", "2026-03-02T00:00:00Z", 1);
    let err = simulate(&c, &early, &mut |_| {}).unwrap_err();
    assert!(err.contains("as_of"), "{err}");
    assert!(simulate(
        &c,
        &SimParams {
            fresh: true,
            ..early
        },
        &mut |_| {}
    )
    .is_ok());
}

#[test]
fn bad_parameters_are_errors() {
    let c = config(r#"{"targets": [{"id": "a"}]}"#);
    let ok = SimParams::new(t("2026-03-02T00:00:00Z"), t("2026-03-03T00:00:00Z"), 1);
    let bad = [
        SimParams {
            to: ok.from,
            ..ok.clone()
        },
        SimParams {
            answer_rate: 1.5,
            ..ok.clone()
        },
        SimParams {
            convert_rate: f64::NAN,
            ..ok.clone()
        },
        SimParams {
            calls_per_hour: -1.0,
            ..ok.clone()
        },
        SimParams {
            mean_duration_secs: 0.0,
            ..ok.clone()
        },
        SimParams {
            revenue: Money(-1),
            ..ok.clone()
        },
        SimParams {
            calls_per_hour: 1e12,
            ..ok.clone()
        },
    ];
    for p in bad {
        assert!(simulate(&c, &p, &mut |_| {}).is_err(), "{p:?}");
    }
}

#[test]
fn progress_reaches_the_end() {
    let c = config(r#"{"targets": [{"id": "a"}]}"#);
    let p = SimParams {
        calls_per_hour: 5000.0,
        ..SimParams::new(t("2026-03-02T00:00:00Z"), t("2026-03-03T00:00:00Z"), 1)
    };
    let mut seen = Vec::new();
    simulate(&c, &p, &mut |pr| seen.push(pr)).unwrap();
    assert!(seen.len() > 2);
    assert!(seen.windows(2).all(|w| w[0].done_ms <= w[1].done_ms));
    let last = seen.last().unwrap();
    assert_eq!((last.done_ms, last.total_ms), (86_400_000, 86_400_000));
}

proptest! {
    #[test]
    fn portable_ln_matches_the_platform(x in 1e-300f64..1e300) {
        let (a, b) = (portable_ln(x), x.ln());
        prop_assert!((a - b).abs() <= 1e-15 * b.abs().max(1.0), "{x}: {a} vs {b}");
    }

    #[test]
    fn portable_ln_on_unit_draws(bits in 0u64..(1 << 53)) {
        let u = (bits + 1) as f64 / (1u64 << 53) as f64;
        let (a, b) = (portable_ln(u), u.ln());
        prop_assert!((a - b).abs() <= 1e-15 * b.abs().max(1.0), "{u}: {a} vs {b}");
    }
}

#[test]
fn a_long_run_holds_only_the_calls_of_the_retention_window() {
    // 30 days at 2,000 calls an hour, all answered, 1-hour retention: the
    // state never holds more than the live calls and about an hour of
    // settled ones, however long the run (a state that never forgot would
    // hold every one of the ~1.4 M calls)
    let c = config(
        r#"{"call_retention_seconds": 3600, "call_lease_seconds": 600,
            "targets": [{"id": "a"}, {"id": "b", "caps": {"concurrency": 3}}]}"#,
    );
    let p = SimParams {
        calls_per_hour: 2000.0,
        answer_rate: 1.0,
        mean_duration_secs: 120.0,
        ..SimParams::new(t("2026-03-01T00:00:00Z"), t("2026-03-31T00:00:00Z"), 5)
    };
    let r = run(&c, &p);
    assert_eq!(r.connected, r.calls);
    assert!(r.connected > 1_400_000, "{}", r.connected);
    // ~2,000 settled in the last hour + live ones (~70): a generous bound
    // that a never-forgetting state would exceed 500 times over
    assert!(
        r.peak_call_records < 2_400,
        "peak {} records",
        r.peak_call_records
    );
    assert!(r.peak_call_records > 1_800, "it keeps the retention window");
}

#[test]
fn simulated_calls_longer_than_the_lease_keep_their_slot() {
    // calls of 10 minutes on average against a 5-minute lease: the
    // simulated service touches them, so the run is the one a long lease
    // gives (without touches, lapsed leases would free lines early and
    // more calls would connect)
    let json = |lease: u32| {
        format!(
            r#"{{"call_lease_seconds": {lease},
                "targets": [{{"id": "a", "caps": {{"concurrency": 2}}}},
                            {{"id": "b", "caps": {{"concurrency": 3}}}}]}}"#
        )
    };
    let p = SimParams {
        calls_per_hour: 60.0,
        answer_rate: 1.0,
        mean_duration_secs: 600.0,
        ..SimParams::new(t("2026-03-01T00:00:00Z"), t("2026-03-04T00:00:00Z"), 9)
    };
    let short = run(&config(&json(300)), &p);
    let long = run(&config(&json(86_400)), &p);
    assert!(short.no_eligible > 0, "the lines do fill up");
    assert_eq!(short.connected, long.connected);
    assert_eq!(short.targets, long.targets);
    let peak = |r: &SimReport, o: usize| r.hours.iter().map(|h| h.peak_live[o]).max();
    assert_eq!((peak(&short, 0), peak(&short, 1)), (Some(2), Some(3)));
}

#[test]
fn unanswered_steps_cost_their_timeouts_before_the_next_rings() {
    // a (20 s) then b (group-less, 45 s); half the rings answer
    let c = config(
        r#"{"targets": [{"id": "a", "priority": 1, "timeout_seconds": 20},
                        {"id": "b", "priority": 2, "timeout_seconds": 45}]}"#,
    );
    let p = SimParams {
        calls_per_hour: 600.0,
        answer_rate: 0.5,
        ..SimParams::new(t("2026-03-02T00:00:00Z"), t("2026-03-03T00:00:00Z"), 5)
    };
    let r = run(&c, &p);
    // answered at a's ring (0 s) or at b's, one timeout of a later (20 s)
    let at: Vec<usize> = (r.answer_secs.iter().enumerate())
        .filter(|(_, &k)| k > 0)
        .map(|(s, _)| s)
        .collect();
    assert_eq!(at, [0, 20]);
    assert_eq!(r.answer_secs.iter().sum::<u64>(), r.connected);
    assert_eq!(r.connected + r.unanswered, r.calls);
    // 2/3 of answers at 0 s: the mean near 6.7 s, 90 % within 20 s
    assert!(
        (r.mean_answer_secs() - 20.0 / 3.0).abs() < 0.6,
        "{}",
        r.mean_answer_secs()
    );
    assert_eq!(r.p90_answer_secs(), 20);
    assert_eq!(r.targets[1].offered, r.calls - r.targets[0].connected);
}

#[test]
fn the_next_step_is_rechecked_when_it_rings() {
    // one line (concurrency 1) with long calls; when a's first ring fails,
    // b is rung 30 s later and re-checked at that instant
    let c = config(
        r#"{"targets": [{"id": "a", "priority": 1},
                        {"id": "b", "priority": 2, "caps": {"concurrency": 1}}]}"#,
    );
    let p = SimParams {
        calls_per_hour: 120.0,
        answer_rate: 0.5,
        mean_duration_secs: 600.0,
        ..SimParams::new(t("2026-03-02T00:00:00Z"), t("2026-03-02T12:00:00Z"), 11)
    };
    let r = run(&c, &p);
    let b = &r.targets[1];
    // b is rung only after a's timeout; a refusal at that instant is counted
    assert!(b.offered > 0);
    assert_eq!(b.answered, b.connected + b.refused);
    assert!(r
        .answer_secs
        .iter()
        .enumerate()
        .all(|(s, &k)| k == 0 || s == 0 || s == 30));
}

#[test]
fn a_call_mix_drives_filters_and_repeats_its_callers() {
    let c = config(
        r#"{"targets": [{"id": "nc", "filter": {"any_of": [{"all_of": [
            {"tag": "geo", "op": "in", "values": ["us-nc"]}]}]}}]}"#,
    );
    let mix = routecap_core::simulate::CallMix::parse(
        r#"{"repeat_callers": 0.5, "sets": [
            {"weight": 3, "tags": {"geo": "919,us,us-27601,us-nc"}},
            {"weight": 1, "tags": {"geo": "us-tx"}}]}"#,
    )
    .unwrap();
    let p = SimParams {
        calls_per_hour: 1000.0,
        answer_rate: 1.0,
        calls: Some(mix),
        ..SimParams::new(t("2026-03-02T00:00:00Z"), t("2026-03-03T00:00:00Z"), 4)
    };
    let r = run(&c, &p);
    assert_eq!(r.connected + r.no_eligible, r.calls);
    assert_eq!(rejections(&r, 0, ReasonCode::FilterMismatch), r.no_eligible);
    let tx = r.no_eligible as f64 / r.calls as f64;
    // 24000 draws at 1/4: sd ~0.003
    assert!((tx - 0.25).abs() < 0.015, "{tx}");
    assert_eq!(run(&c, &p), r, "same seed, same report");
    assert!(routecap_core::simulate::CallMix::parse(r#"{"sets": []}"#)
        .unwrap_err()
        .contains("sets"));
    assert!(
        routecap_core::simulate::CallMix::parse(r#"{"sets": [{"weight": 0}]}"#)
            .unwrap_err()
            .starts_with("sets[0].weight")
    );
}

#[test]
fn repeat_callers_of_a_call_mix_meet_their_history() {
    // one target that refuses a caller it connected within a day; every
    // call after the first comes back from the only caller known so far
    let c = config(
        r#"{"targets": [{"id": "a", "duplicates": {"basis": "connect", "window": 86400}}]}"#,
    );
    let mix = |share: &str| {
        routecap_core::simulate::CallMix::parse(&format!(
            r#"{{"repeat_callers": {share}, "sets": [{{"weight": 1, "tags": {{}}}}]}}"#
        ))
        .unwrap()
    };
    let p = SimParams {
        calls_per_hour: 100.0,
        answer_rate: 1.0,
        calls: Some(mix("1")),
        ..SimParams::new(t("2026-03-02T00:00:00Z"), t("2026-03-02T06:00:00Z"), 4)
    };
    let r = run(&c, &p);
    assert!(r.calls > 100, "{}", r.calls);
    assert_eq!(r.connected, 1);
    assert_eq!(r.no_eligible, r.calls - 1);
    assert_eq!(rejections(&r, 0, ReasonCode::DuplicateCaller), r.calls - 1);
    // no repeat callers: nobody is a duplicate
    let r = run(
        &c,
        &SimParams {
            calls: Some(mix("0")),
            ..p
        },
    );
    assert_eq!(r.connected, r.calls);
    assert_eq!(rejections(&r, 0, ReasonCode::DuplicateCaller), 0);
}
