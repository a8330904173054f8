//! Snapshot / restore: JSON shape and the law "a restored state behaves
//! exactly like the original".

use crate::caps_support;

use caps_support::*;
use chrono::TimeDelta;
use proptest::prelude::*;
use routecap_core::caps::Trigger;
use routecap_core::eligibility::check;
use routecap_core::lifecycle::State;
use routecap_core::model::{Config, GroupMode};
use routecap_core::money::Money;
use routecap_core::snapshot::Snapshot;
use routecap_core::zone::Instant;

fn sample_config(as_of: Option<Instant>) -> Config {
    let mut a = target("a");
    a.zone = new_york();
    a.trigger = Trigger::Convert;
    a.limits_mut().hourly = Some(2);
    a.limits_mut().daily = Some(4);
    a.limits_mut().daily_revenue = Some(money("20"));
    a.usage_mut().hourly = 1;
    a.usage_mut().daily = 2;
    a.usage_mut().daily_revenue = money("3.50");
    let mut b = target("b");
    b.trigger = Trigger::Revenue;
    b.limits_mut().total = Some(6);
    b.limits_mut().concurrency = Some(2);
    b.hours = Some(daily_hours(8 * 60, 20 * 60).into());
    b.usage_mut().live = 1;
    let mut c = target("c");
    c.limits_mut().hourly = Some(3);
    c.limits_mut().monthly = Some(9);
    c.limits_mut().total_revenue = Some(money("50"));
    let mut g0 = group("g0", &[0, 1]);
    g0.limits.daily = Some(5);
    g0.limits.concurrency = Some(3);
    g0.usage.daily = 1;
    let mut g1 = group("g1", &[1, 2]);
    g1.mode = GroupMode::Simultaneous;
    g1.zone = new_york();
    g1.limits.hourly = Some(3);
    let mut cfg = config(vec![a, b, c], vec![g0, g1]);
    cfg.as_of = as_of;
    // short enough for leases to run out and calls to be forgotten
    // within a generated run
    cfg.call_lease_seconds = 7200;
    cfg.call_retention_seconds = 10_800;
    cfg
}

#[derive(Clone, Debug)]
enum Op {
    Connect(u8, usize),
    Reserve(u8, usize, u64),
    Convert(u8, i64),
    End(u8),
    Touch(u8),
    Cancel(u8),
    ResetTarget(usize),
    ResetGroup(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0u8..12, 0usize..3).prop_map(|(c, t)| Op::Connect(c, t)),
        2 => (0u8..12, 0usize..3, 1u64..3600).prop_map(|(c, t, s)| Op::Reserve(c, t, s)),
        3 => (0u8..12, -100i64..2000).prop_map(|(c, r)| Op::Convert(c, r)),
        3 => (0u8..12).prop_map(Op::End),
        2 => (0u8..12).prop_map(Op::Touch),
        1 => (0u8..12).prop_map(Op::Cancel),
        1 => (0usize..4).prop_map(Op::ResetTarget),
        1 => (0usize..3).prop_map(Op::ResetGroup),
    ]
}

/// Seconds between events; a few steps go back in time.
fn step() -> impl Strategy<Value = i64> {
    prop_oneof![8 => 0i64..5400, 1 => -1800i64..0]
}

/// Apply one op and render its outcome (errors included) for comparison.
fn apply(st: &mut State, cfg: &Config, op: &Op, at: Instant) -> String {
    let call = |c: &u8| format!("c{c}");
    match op {
        Op::Connect(c, t) => format!("{:?}", st.connect(cfg, &call(c), *t, at)),
        Op::Reserve(c, t, s) => format!("{:?}", st.reserve(cfg, &call(c), *t, *s, at)),
        Op::Convert(c, r) => format!("{:?}", st.convert(cfg, &call(c), Money(*r), at)),
        Op::End(c) => format!("{:?}", st.end(cfg, &call(c), at)),
        Op::Touch(c) => format!("{:?}", st.touch(cfg, &call(c), at)),
        Op::Cancel(c) => format!("{:?}", st.cancel(cfg, &call(c), at)),
        Op::ResetTarget(t) => format!("{:?}", st.reset_target(cfg, *t)),
        Op::ResetGroup(g) => format!("{:?}", st.reset_group(cfg, *g)),
    }
}

fn run(st: &mut State, cfg: &Config, ops: &[(i64, Op)], mut at: Instant) -> (Vec<String>, Instant) {
    let mut log = Vec::new();
    for (dt, op) in ops {
        at += TimeDelta::seconds(*dt);
        log.push(apply(st, cfg, op, at));
        log.push(format!("{:?}", check(cfg, st, at)));
    }
    (log, at)
}

fn roundtrip(st: &State, cfg: &Config) -> State {
    let json = serde_json::to_string(&st.snapshot(cfg)).unwrap();
    let snap: Snapshot = serde_json::from_str(&json).unwrap();
    State::restore(cfg, &snap).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn restored_state_behaves_like_the_original(
        anchored in any::<bool>(),
        before in prop::collection::vec((step(), op()), 0..25),
        after in prop::collection::vec((step(), op()), 1..25),
    ) {
        let start = utc(2026, 11, 1, 3, 0); // NY fall-back night
        let cfg = sample_config(anchored.then_some(start));
        let mut original = State::new(&cfg);
        let (_, at) = run(&mut original, &cfg, &before, start);
        let mut restored = roundtrip(&original, &cfg);
        prop_assert_eq!(&restored, &original);
        prop_assert_eq!(format!("{:?}", check(&cfg, &restored, at)), format!("{:?}", check(&cfg, &original, at)));
        let (a, _) = run(&mut original, &cfg, &after, at);
        let (b, _) = run(&mut restored, &cfg, &after, at);
        prop_assert_eq!(a, b);
    }
}

#[test]
fn snapshot_is_json_with_ids_instants_and_decimal_money() {
    let cfg = sample_config(Some(utc(2026, 11, 22, 15, 0)));
    let mut st = State::new(&cfg);
    let at = utc(2026, 11, 22, 15, 30);
    st.connect(&cfg, "x", 2, at).unwrap();
    st.convert(&cfg, "x", money("12.5"), at).unwrap();
    st.reserve(&cfg, "r", 1, 60, at).unwrap();
    let v = serde_json::to_value(st.snapshot(&cfg)).unwrap();
    assert_eq!(v["version"], 3);
    assert_eq!(v["targets"][0]["id"], "a");
    assert_eq!(v["targets"][0]["day"]["start"], "2026-11-22T05:00:00Z");
    assert_eq!(v["targets"][0]["day"]["revenue"], "3.50");
    assert_eq!(v["targets"][2]["total_revenue"], "12.50");
    assert_eq!(v["groups"][1]["hour"]["count"], 1);
    assert_eq!(v["calls"][0]["call"], "r");
    assert_eq!(v["calls"][0]["phase"], "reserved");
    assert_eq!(v["calls"][0]["expires"], "2026-11-22T15:31:00Z");
    assert_eq!(v["calls"][1]["target"], "c");
    assert_eq!(v["calls"][1]["revenue"], "12.50");
    assert_eq!(v["calls"][1]["counted"], true);
    // version 2: leases and imported live calls
    assert_eq!(v["calls"][0]["lease_until"], serde_json::Value::Null);
    assert_eq!(v["calls"][1]["lease_until"], "2026-11-22T17:30:00Z");
    assert_eq!(v["calls"][1]["lapsed"], false);
    assert_eq!(v["targets"][2]["live"], 1);
}

#[test]
fn restore_rejects_bad_snapshots() {
    let cfg = sample_config(None);
    let mut st = State::new(&cfg);
    st.connect(&cfg, "x", 2, utc(2026, 1, 1, 12, 0)).unwrap();
    let good = st.snapshot(&cfg);
    // an unknown id is no longer an error: it is dropped and reported
    let mut other = good.clone();
    other.targets[0].id = "nope".into();
    let (_, dropped) = State::restore_report(&cfg, &other).unwrap();
    assert_eq!(dropped.targets, vec!["nope".to_string()]);
    let mut bad = good.clone();
    bad.calls[0].at = "yesterday".into();
    assert!(State::restore(&cfg, &bad)
        .unwrap_err()
        .to_string()
        .contains("yesterday"));
    let mut bad = good.clone();
    bad.targets[1].total_revenue = "1.234".into();
    let err = State::restore(&cfg, &bad).unwrap_err().to_string();
    assert!(
        err.starts_with("invalid snapshot: b total_revenue: \"1.234\" "),
        "{err}"
    );
    // the owner and field are named, though built only on error
    let mut bad = good.clone();
    bad.targets[0].day.start = Some("soon".into());
    let err = State::restore(&cfg, &bad).unwrap_err().to_string();
    assert!(
        err.starts_with("invalid snapshot: a day: \"soon\" is not an RFC 3339 instant"),
        "{err}"
    );
    let mut bad = good.clone();
    bad.groups[0].month.revenue = "x".into();
    let err = State::restore(&cfg, &bad).unwrap_err().to_string();
    let group = &good.groups[0].id;
    assert!(
        err.starts_with(&format!("invalid snapshot: {group} month: \"x\" ")),
        "{err}"
    );
    let mut bad = good.clone();
    bad.calls.push(bad.calls[0].clone());
    assert!(State::restore(&cfg, &bad)
        .unwrap_err()
        .to_string()
        .contains("twice"));
    let mut bad = good.clone();
    bad.calls[0].lease_until = None;
    assert!(State::restore(&cfg, &bad)
        .unwrap_err()
        .to_string()
        .contains("lease_until"));
    let mut bad = good.clone();
    bad.targets[2].live = 5;
    assert_eq!(
        State::restore(&cfg, &bad).unwrap_err().to_string(),
        "invalid snapshot: c live: 5 does not match its 1 live call records"
    );
    let mut bad = good;
    bad.version = 4;
    assert_eq!(
        State::restore(&cfg, &bad).unwrap_err().to_string(),
        "invalid snapshot: version 4 is not supported (expected 1, 2 or 3)"
    );
}

#[test]
fn version_1_snapshots_restore_with_default_leases() {
    // a version 1 snapshot: no lease fields, `live` includes imported calls
    let cfg = sample_config(None);
    let v1 = serde_json::json!({
        "version": 1,
        "targets": [{
            "id": "b", "total": 1, "total_revenue": "0.00", "live": 2,
            "hour": {"start": "2026-01-01T12:00:00Z", "count": 1, "revenue": "0.00"},
            "day": {"start": "2026-01-01T00:00:00Z", "count": 1, "revenue": "0.00"},
            "month": {"start": "2026-01-01T00:00:00Z", "count": 1, "revenue": "0.00"}
        }],
        "groups": [],
        "calls": [{"call": "x", "target": "b", "phase": "connected", "at": "2026-01-01T12:00:00Z",
                   "expires": null, "ended_at": null, "converted_at": null, "revenue": null,
                   "counted": true}]
    });
    let snap: Snapshot = serde_json::from_value(v1).unwrap();
    let mut st = State::restore(&cfg, &snap).unwrap();
    let b = routecap_core::model::CandidateRef::Target(1);
    // x holds until its connect + the 2-hour lease
    let x = st.call("x").unwrap();
    assert_eq!(x.lease_until, Some(utc(2026, 1, 1, 14, 0)));
    // the other live call is imported: held until the first event + lease
    assert_eq!(st.live(b, utc(2026, 1, 1, 13, 0)), 2);
    st.connect(&cfg, "y", 2, utc(2026, 1, 1, 13, 0)).unwrap();
    assert_eq!(st.live(b, utc(2026, 1, 1, 13, 59)), 2);
    assert_eq!(st.live(b, utc(2026, 1, 1, 14, 0)), 1, "x's lease ran out");
    assert_eq!(
        st.live(b, utc(2026, 1, 1, 15, 0)),
        0,
        "imported until 13:00 + 2 h"
    );
    // and it is written back as version 3
    let again = st.snapshot(&cfg);
    assert_eq!(again.version, 3);
    assert_eq!(again.targets[1].imported_live, 1);
    assert_eq!(
        again.targets[1].imported_live_until.as_deref(),
        Some("2026-01-01T15:00:00Z")
    );
    assert_eq!(State::restore(&cfg, &again).unwrap(), st);
}
