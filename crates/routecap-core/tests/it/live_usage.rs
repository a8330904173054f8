//! Usage imports into a running engine: the platform's counts replace
//! routecap's for the windows containing the import instant, other kinds
//! keep theirs; the three shapes; and a reference-model property over
//! random events and config changes.

use proptest::prelude::*;
use routecap_core::engine::Engine;
use routecap_core::formats::source::OwnerKind;
use routecap_core::lifecycle::ConnectOutcome;
use routecap_core::render::UsageAmount;
use serde_json::json;

use crate::live_config::{at, count, engine, used};
use routecap_core::Call;

fn doc() -> serde_json::Value {
    json!({
        "targets": [
            {"id": "a", "caps": {"hourly": 10, "daily": 10, "total": 100, "concurrency": 3,
                                 "daily_revenue": "50.00"}},
            {"id": "b", "caps": {"daily": 5}}
        ],
        "groups": [{"id": "g", "members": ["a", "b"], "caps": {"daily": 20}}]
    })
}

#[test]
fn an_import_replaces_the_same_windows_counts_and_leaves_other_kinds() {
    let mut e = engine(doc());
    let t = at("2026-11-23T10:00:00Z");
    for c in ["c1", "c2", "c3"] {
        assert_eq!(
            e.connect(&Call::new(c), "a", t),
            Ok(ConnectOutcome::Connected)
        );
    }
    e.convert(&Call::new("c1"), routecap_core::money::Money(1250), t)
        .unwrap();
    let t2 = at("2026-11-23T10:30:00Z");
    e.import_usage(t2, &json!({"a": {"daily": 7, "live": 1}}), "u")
        .unwrap();
    assert_eq!(
        count(&e, t2, "a", "daily"),
        7,
        "the platform's truth for today"
    );
    assert_eq!(count(&e, t2, "a", "hourly"), 3, "not imported: kept");
    assert_eq!(count(&e, t2, "a", "total"), 3);
    assert_eq!(
        used(&e, t2, "a", "daily_revenue"),
        UsageAmount::Money("12.50".into())
    );
    // live = routecap's 3 connected calls + 1 imported
    assert_eq!(count(&e, t2, "a", "concurrency"), 3 + 1);
    assert_eq!(
        count(&e, t2, "g", "daily"),
        3,
        "the group keeps its own count"
    );
    // a later import replaces the imported live calls, not routecap's
    e.import_usage(t2, &json!({"a": {"live": 0}}), "u").unwrap();
    assert_eq!(count(&e, t2, "a", "concurrency"), 3);
    e.end(&Call::new("c1"), t2).unwrap();
    assert_eq!(count(&e, t2, "a", "concurrency"), 2);
    // counting goes on on top of the import
    assert_eq!(
        e.connect(&Call::new("c4"), "a", t2),
        Ok(ConnectOutcome::Connected)
    );
    assert_eq!(count(&e, t2, "a", "daily"), 8);
    // an import for the next day: today's slot is replaced by tomorrow's
    let t3 = at("2026-11-24T01:00:00Z");
    e.import_usage(t3, &json!({"a": {"daily": 2}}), "u")
        .unwrap();
    assert_eq!(count(&e, t3, "a", "daily"), 2);
    assert_eq!(count(&e, t3, "a", "hourly"), 0, "another hour");
}

#[test]
fn group_usage_and_revenue_import() {
    let mut e = engine(doc());
    let t = at("2026-11-23T10:00:00Z");
    e.import_usage(
        t,
        &json!({"g": {"daily": 19}, "a": {"daily_revenue": "49.99"}}),
        "u",
    )
    .unwrap();
    assert_eq!(count(&e, t, "g", "daily"), 19);
    assert_eq!(
        used(&e, t, "a", "daily_revenue"),
        UsageAmount::Money("49.99".into())
    );
    assert_eq!(
        e.connect(&Call::new("c1"), "b", t),
        Ok(ConnectOutcome::Connected)
    );
    match e.connect(&Call::new("c2"), "b", t).unwrap() {
        ConnectOutcome::Refused(r) => assert_eq!(r[0].code_string(), "group_daily_cap"),
        ConnectOutcome::Connected => panic!("group daily cap 20 exceeded"),
    }
    let bad = e
        .import_usage(t, &json!({"a": {"weekly": 1}}), "u")
        .unwrap_err()
        .to_string();
    assert!(
        bad.starts_with("u: a.weekly: 1 is not a usage kind (allowed: hourly, daily,"),
        "{bad}"
    );
}

#[test]
fn ringba_counts_response_and_stats_by_lower_cased_id() {
    let fixture = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/ringba-target-counts.json"
    ))
    .unwrap();
    let counts: serde_json::Value = serde_json::from_str(&fixture).unwrap();
    let mut e = engine(json!({"targets": [
        {"id": "TA2f6961e921ef4b92b7304dd76db8336f", "enabled": true,
         "schedule": {"monthlyCap": 100, "allTimeCap": 1000, "dailyCap": 50}}
    ]}));
    let t = at("2026-11-23T10:00:00Z");
    assert_eq!(
        e.connect(&Call::new("c1"), "TA2f6961e921ef4b92b7304dd76db8336f", t),
        Ok(ConnectOutcome::Connected)
    );
    e.import_usage(t, &counts, "counts.json").unwrap();
    let id = "TA2f6961e921ef4b92b7304dd76db8336f";
    assert_eq!(count(&e, t, id, "total"), 10);
    assert_eq!(count(&e, t, id, "monthly"), 4);
    assert_eq!(count(&e, t, id, "daily"), 0, "the platform says 0 today");
    // currentLive 0 replaces the imported live calls; routecap's call stays
    assert_eq!(e.usage(t).owners[0].live, 1);
}

#[test]
fn retreaver_target_objects_with_filled_and_calls_in_progress() {
    let mut e = engine(json!({"targets": [
        {"id": 7, "caps": [{"type": "Daily", "cap": 5}, {"type": "Hard", "cap": 50}], "concurrency_cap": 4}
    ]}));
    let t = at("2026-11-23T10:00:00Z");
    e.import_usage(
        t,
        &json!({"target": {"id": 7, "caps": [{"type": "Daily", "cap": 5, "filled": 5}], "calls_in_progress": 2}}),
        "u",
    )
    .unwrap();
    assert_eq!(count(&e, t, "7", "daily"), 5);
    assert_eq!(count(&e, t, "7", "total"), 0, "Hard not mentioned: kept");
    assert_eq!(count(&e, t, "7", "concurrency"), 2);
    assert!(!e.reports(&Call::default(), t).unwrap()[0].eligible);
}

#[test]
fn replay_style_config_event_takes_any_shape() {
    let mut e = engine(doc());
    let t = at("2026-11-23T10:00:00Z");
    assert_eq!(
        e.connect(&Call::new("c1"), "a", t),
        Ok(ConnectOutcome::Connected)
    );
    let retreaver =
        json!({"targets": [{"target": {"id": "a", "caps": [{"type": "Daily", "cap": 1}]}}]});
    let dropped = e
        .replace_config(
            &retreaver,
            "config",
            None,
            "2026-11-23T00:00:00Z".parse().unwrap(),
        )
        .unwrap();
    assert_eq!(dropped.targets, vec!["b".to_string()]);
    assert_eq!(count(&e, t, "a", "daily"), 1);
    assert!(!e.reports(&Call::default(), t).unwrap()[0].eligible);
    // patches now follow the Retreaver shape
    e.patch(
        OwnerKind::Target,
        "a",
        &json!({"target": {"daily_cap_attributes": {"cap": 2}}}),
        "p",
        "2026-11-23T00:00:00Z".parse().unwrap(),
    )
    .unwrap();
    assert!(e.reports(&Call::default(), t).unwrap()[0].eligible);
}

// ---------------------------------------------------------------- property

/// One step of a random run against two targets in one group.
#[derive(Clone, Debug)]
enum Op {
    Connect(u8, u8),
    End(u8),
    Advance(u16),
    SetDaily(u8, Option<u8>),
    SetConcurrency(u8, Option<u8>),
    Remove(u8),
    Import(u8, u8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0u8..2, 0u8..40).prop_map(|(t, c)| Op::Connect(t, c)),
        2 => (0u8..40).prop_map(Op::End),
        2 => (0u16..600).prop_map(Op::Advance),
        1 => (0u8..2, proptest::option::of(0u8..6)).prop_map(|(t, c)| Op::SetDaily(t, c)),
        1 => (0u8..2, proptest::option::of(0u8..4)).prop_map(|(t, c)| Op::SetConcurrency(t, c)),
        1 => (0u8..2).prop_map(Op::Remove),
        1 => (0u8..2, 0u8..5).prop_map(|(t, c)| Op::Import(t, c)),
    ]
}

/// The reference model: per target, the daily counts by UTC day and the
/// live calls; limits as configured.
#[derive(Clone, Debug, Default)]
struct Model {
    present: [bool; 2],
    daily: [Option<u64>; 2],
    concurrency: [Option<u64>; 2],
    /// (UTC day, count) of the latest day counted.
    counted: [(i64, u64); 2],
    /// Live calls: call id → target.
    live: std::collections::BTreeMap<u8, usize>,
    ended: std::collections::BTreeSet<u8>,
    /// Live calls of a removed target: they may still end, once.
    orphans: std::collections::BTreeSet<u8>,
}

const IDS: [&str; 2] = ["a", "b"];

impl Model {
    fn config(&self) -> serde_json::Value {
        let targets: Vec<_> = (0..2)
            .filter(|&i| self.present[i])
            .map(|i| json!({"id": IDS[i], "caps": {"daily": self.daily[i], "concurrency": self.concurrency[i]}}))
            .collect();
        // leases and forgetting are not modelled here (tests/it/leases.rs
        // covers them): both far beyond the run
        json!({"targets": targets, "call_lease_seconds": 315_576_000, "call_retention_seconds": 315_576_000})
    }
    fn day_count(&self, t: usize, day: i64) -> u64 {
        if self.counted[t].0 == day {
            self.counted[t].1
        } else {
            0
        }
    }
    fn live_on(&self, t: usize) -> u64 {
        self.live.values().filter(|&&x| x == t).count() as u64
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn no_cap_is_exceeded_and_usage_equals_the_reference(ops in proptest::collection::vec(op(), 1..60)) {
        let mut m = Model { present: [true, true], daily: [Some(3), Some(4)], concurrency: [Some(2), None], ..Model::default() };
        let mut e = engine(m.config());
        let mut now = at("2026-11-23T20:00:00Z");
        for op in ops {
            let day = now.timestamp().div_euclid(86_400);
            match op {
                Op::Connect(t, c) => {
                    let t = t as usize;
                    let fresh = !m.live.contains_key(&c) && !m.ended.contains(&c) && !m.orphans.contains(&c);
                    let r = e.connect(&Call::new(format!("c{c}")), IDS[t], now);
                    if !m.present[t] {
                        prop_assert!(r.is_err());
                        continue;
                    }
                    if !fresh {
                        prop_assert!(r.is_err() || m.ended.contains(&c));
                        continue;
                    }
                    let room = m.daily[t].is_none_or(|d| m.day_count(t, day) < d)
                        && m.concurrency[t].is_none_or(|c| m.live_on(t) < c);
                    prop_assert_eq!(r.clone().unwrap() == ConnectOutcome::Connected, room, "{:?}", r);
                    if room {
                        m.counted[t] = (day, m.day_count(t, day) + 1);
                        m.live.insert(c, t);
                    }
                }
                Op::End(c) => {
                    let r = e.end(&Call::new(format!("c{c}")), now);
                    prop_assert_eq!(r.is_ok(), m.live.contains_key(&c) || m.orphans.contains(&c));
                    if m.live.remove(&c).is_some() || m.orphans.remove(&c) {
                        m.ended.insert(c);
                    }
                }
                Op::Advance(min) => now += chrono::TimeDelta::minutes(i64::from(min)),
                Op::SetDaily(t, d) | Op::SetConcurrency(t, d) if !m.present[t as usize] => {
                    let _ = d;
                    let before = e.snapshot();
                    let paused = json!({"paused": false});
                    let r = e.patch(OwnerKind::Target, IDS[t as usize], &paused, "p", "2026-11-23T00:00:00Z".parse().unwrap());
                    prop_assert!(r.is_err());
                    prop_assert_eq!(e.snapshot(), before);
                }
                Op::SetDaily(t, d) => {
                    m.daily[t as usize] = d.map(u64::from);
                    let caps = json!({"daily": m.daily[t as usize], "concurrency": m.concurrency[t as usize]});
                    e.patch(OwnerKind::Target, IDS[t as usize], &json!({"caps": caps}), "p", "2026-11-23T00:00:00Z".parse().unwrap()).unwrap();
                }
                Op::SetConcurrency(t, c) => {
                    m.concurrency[t as usize] = c.map(u64::from);
                    let caps = json!({"daily": m.daily[t as usize], "concurrency": m.concurrency[t as usize]});
                    e.patch(OwnerKind::Target, IDS[t as usize], &json!({"caps": caps}), "p", "2026-11-23T00:00:00Z".parse().unwrap()).unwrap();
                }
                Op::Remove(t) => {
                    let t = t as usize;
                    // toggles: removes a present target, re-adds a removed one
                    m.present[t] = !m.present[t];
                    if m.present[t] {
                        m.counted[t] = (0, 0);
                    } else {
                        // its live calls are dropped with it (they may still end)
                        let gone: Vec<u8> = m.live.iter().filter(|(_, &x)| x == t).map(|(&c, _)| c).collect();
                        for c in gone {
                            m.live.remove(&c);
                            m.orphans.insert(c);
                        }
                    }
                    e.replace_config(&m.config(), "config", None, "2026-11-23T00:00:00Z".parse().unwrap()).unwrap();
                }
                Op::Import(t, n) => {
                    let t = t as usize;
                    let r = e.import_usage(now, &json!({IDS[t]: {"daily": n}}), "u");
                    prop_assert_eq!(r.is_ok(), m.present[t]);
                    if m.present[t] {
                        m.counted[t] = (day, u64::from(n));
                    }
                }
            }
            // the engine agrees with the model, and no cap is exceeded
            let view = e.usage(now);
            let day = now.timestamp().div_euclid(86_400);
            for (t, id) in IDS.iter().enumerate() {
                let Some(o) = view.owners.iter().find(|o| o.id == *id) else {
                    prop_assert!(!m.present[t]);
                    continue;
                };
                prop_assert_eq!(o.live, m.live_on(t));
                for c in &o.caps {
                    match (c.cap, &c.used, &c.limit) {
                        ("daily", UsageAmount::Count(u), UsageAmount::Count(l)) => {
                            prop_assert_eq!(*u, m.day_count(t, day));
                            // only an import may set a count above its cap
                            prop_assert!(u <= l || m.counted[t].1 > 0, "{} > {}", u, l);
                        }
                        ("concurrency", UsageAmount::Count(u), UsageAmount::Count(_)) => {
                            prop_assert_eq!(*u, m.live_on(t));
                        }
                        _ => {}
                    }
                }
            }
        }
    }
}

#[test]
fn an_engine_built_from_config_alone_still_imports_usage() {
    let config =
        routecap_core::formats::parse_config(doc().to_string().as_bytes(), "t", None).unwrap();
    let mut e = Engine::new(config);
    let t = at("2026-11-23T10:00:00Z");
    e.import_usage(t, &json!({"b": {"daily": 5}}), "u").unwrap();
    assert!(!e.reports(&Call::default(), t).unwrap()[1].eligible);
}
