//! The laws of leases, bounded memory and live config changes (`docs/semantics.md`:
//! caps, leases, live changes) over every cap kind — hourly, daily, monthly, total, the four
//! revenue caps and concurrency — on targets and on groups (a target in two
//! groups), in zones with DST, with events that cross hour, day and month
//! windows and a DST change. Every law reads the engine's own usage view:
//!
//! - an event never grows a count past its cap, a connect or reserve is
//!   accepted exactly when every cap of the target and its groups has room,
//!   and counts once on each of them; a conversion adds its revenue exactly
//!   (and counts once under the `convert`/`revenue` triggers);
//! - daily and monthly windows start at local midnight as chrono-tz says,
//!   and a window no counting event fell in counts only held units;
//! - a refused or failed event changes nothing;
//! - live + reserved return to 0 once every lease and reservation ended or
//!   lapsed, and settled calls are forgotten within the retention;
//! - `patch` and `update` keep every count by id;
//! - a snapshot/restore round trip mid-sequence changes no later answer.

use std::collections::BTreeMap;

use chrono::TimeDelta;
use proptest::prelude::*;
use routecap_core::engine::Engine;
use routecap_core::formats::source::OwnerKind;
use routecap_core::lifecycle::ConnectOutcome;
use routecap_core::money::Money;
use routecap_core::render::{UsageAmount, UsageView};
use routecap_core::snapshot::Snapshot;
use routecap_core::zone::Instant;
use routecap_core::Call;
use serde_json::{json, Value};

use crate::live_config::at;

const TARGETS: [&str; 3] = ["a", "b", "c"];
const GROUPS: [&str; 2] = ["g1", "g2"];
/// Group memberships: g1 = {a, b}, g2 = {b, c}; `b` is in both.
const MEMBERS: [[usize; 2]; 2] = [[0, 1], [1, 2]];
const ZONES: [&str; 4] = [
    "UTC",
    "America/New_York",
    "Europe/London",
    "Australia/Lord_Howe",
];
/// Starts a little before a window boundary that is also near a DST change:
/// the month change of October in UTC, London and New York with New York's
/// fall-back at 06:00 Z; London's fall-back; New York's spring-forward;
/// Lord Howe's half-hour spring-forward (02:00 → 02:30 at 15:00 Z).
const STARTS: [&str; 4] = [
    "2026-10-31T21:40:00Z",
    "2026-10-24T22:50:00Z",
    "2026-03-08T03:30:00Z",
    "2026-10-03T13:10:00Z",
];
const COUNT_KINDS: [&str; 5] = ["hourly", "daily", "monthly", "total", "concurrency"];
const REVENUE_KINDS: [&str; 4] = [
    "hourly_revenue",
    "daily_revenue",
    "monthly_revenue",
    "total_revenue",
];
const MAX_TTL: i64 = 1200;
/// Which event counts a call toward count caps (the target's `trigger`).
const TRIGGERS: [&str; 3] = ["connect", "convert", "revenue"];

/// Limits of one owner: counts, then revenue caps in minor units.
#[derive(Clone, Debug)]
struct Caps {
    counts: [Option<u64>; 5],
    revenue: [Option<i64>; 4],
}

impl Caps {
    fn json(&self) -> Value {
        let mut m = serde_json::Map::new();
        for (k, v) in COUNT_KINDS.iter().zip(self.counts) {
            m.insert(k.to_string(), json!(v));
        }
        for (k, v) in REVENUE_KINDS.iter().zip(self.revenue) {
            m.insert(k.to_string(), json!(v.map(|c| Money(c).to_string())));
        }
        Value::Object(m)
    }
}

fn caps() -> impl Strategy<Value = Caps> {
    // 0 is a real cap (never eligible): rare, or little would connect
    let count = |hi: u64| proptest::option::weighted(0.4, prop_oneof![1 => Just(0), 12 => 1..hi]);
    let revenue = proptest::option::weighted(0.4, 1i64..2000);
    (
        [count(5), count(8), count(12), count(15), count(4)],
        [revenue.clone(), revenue.clone(), revenue.clone(), revenue],
    )
        .prop_map(|(counts, revenue)| Caps { counts, revenue })
}

#[derive(Clone, Debug)]
struct Setup {
    start: usize,
    lease: i64,
    retention: i64,
    zones: [usize; 5],
    triggers: [usize; 3],
    caps: Vec<Caps>,
}

fn setup() -> impl Strategy<Value = Setup> {
    (
        0..STARTS.len(),
        600i64..3600,
        600i64..7200,
        [0..4usize, 0..4usize, 0..4usize, 0..4usize, 0..4usize],
        [0..3usize, 0..3usize, 0..3usize],
        prop::collection::vec(caps(), 5),
    )
        .prop_map(|(start, lease, retention, zones, triggers, caps)| Setup {
            start,
            lease,
            retention,
            zones,
            triggers,
            caps,
        })
}

#[derive(Clone, Debug)]
enum Op {
    Connect(u8, usize),
    Reserve(u8, usize, u64),
    End(u8),
    Touch(u8),
    Cancel(u8),
    Convert(u8, i64),
    Advance(i64),
    /// Patch owner (0..3 targets, 3..5 groups) with new caps.
    Patch(usize, Caps),
    /// Replace the whole config: new caps for every owner.
    Update(Vec<Caps>),
    /// Snapshot, restore into a twin engine; the twin follows from here.
    Twin,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0u8..10, 0usize..3).prop_map(|(c, t)| Op::Connect(c, t)),
        2 => (0u8..10, 0usize..3, 1u64..MAX_TTL as u64).prop_map(|(c, t, s)| Op::Reserve(c, t, s)),
        3 => (0u8..10).prop_map(Op::End),
        1 => (0u8..10).prop_map(Op::Touch),
        1 => (0u8..10).prop_map(Op::Cancel),
        3 => (0u8..10, prop_oneof![1 => Just(0i64), 3 => 1i64..900]).prop_map(|(c, r)| Op::Convert(c, r)),
        4 => prop_oneof![3 => 0i64..1800, 1 => 1800i64..14_400].prop_map(Op::Advance),
        1 => (0usize..5, caps()).prop_map(|(o, c)| Op::Patch(o, c)),
        1 => prop::collection::vec(caps(), 5).prop_map(Op::Update),
        1 => Just(Op::Twin),
    ]
}

fn document(s: &Setup, caps: &[Caps]) -> Value {
    let targets: Vec<Value> = (0..3)
        .map(|i| {
            json!({"id": TARGETS[i], "time_zone": ZONES[s.zones[i]],
                         "trigger": TRIGGERS[s.triggers[i]], "caps": caps[i].json()})
        })
        .collect();
    let groups: Vec<Value> = (0..2)
        .map(|g| {
            json!({"id": GROUPS[g], "time_zone": ZONES[s.zones[3 + g]],
                   "members": MEMBERS[g].map(|t| TARGETS[t]), "caps": caps[3 + g].json()})
        })
        .collect();
    json!({"call_lease_seconds": s.lease, "call_retention_seconds": s.retention,
           "targets": targets, "groups": groups})
}

/// An amount in minor units (counts as they are).
fn units(a: &UsageAmount) -> i64 {
    match a {
        UsageAmount::Count(n) => *n as i64,
        UsageAmount::Money(m) => Money::parse(m).unwrap().0,
    }
}

/// (owner id, cap) → (used, limit), in minor units for revenue.
fn rows(v: &UsageView) -> BTreeMap<(String, &'static str), (i64, i64)> {
    v.owners
        .iter()
        .flat_map(|o| {
            o.caps
                .iter()
                .map(|c| ((o.id.clone(), c.cap), (units(&c.used), units(&c.limit))))
        })
        .collect()
}

/// (owner id) → (live, reserved).
fn lives(v: &UsageView) -> BTreeMap<String, (u64, u64)> {
    v.owners
        .iter()
        .map(|o| (o.id.clone(), (o.live, o.reserved)))
        .collect()
}

/// Target `t` and the groups containing it.
fn owners_of(t: usize) -> Vec<&'static str> {
    let mut out = vec![TARGETS[t]];
    for (g, m) in MEMBERS.iter().enumerate() {
        if m.contains(&t) {
            out.push(GROUPS[g]);
        }
    }
    out
}

/// The zone of owner `id` (targets, then groups, as in `Setup::zones`).
fn zone_of(s: &Setup, id: &str) -> chrono_tz::Tz {
    let i = TARGETS
        .iter()
        .chain(GROUPS.iter())
        .position(|x| *x == id)
        .unwrap();
    ZONES[s.zones[i]].parse().unwrap()
}

/// The first instant of local `date` in `zone` (none of `ZONES` skips a
/// midnight), computed here with chrono-tz rather than by the engine.
fn local_midnight(zone: chrono_tz::Tz, date: chrono::NaiveDate) -> Instant {
    use chrono::TimeZone;
    zone.from_local_datetime(&date.and_hms_opt(0, 0, 0).unwrap())
        .earliest()
        .unwrap()
        .with_timezone(&chrono::Utc)
}

/// The daily and monthly windows of `zone` containing `now`.
fn expected_window(zone: chrono_tz::Tz, cap: &str, now: Instant) -> (Instant, Instant) {
    use chrono::Datelike;
    let day = now.with_timezone(&zone).date_naive();
    let (start, end) = if cap == "daily" || cap == "daily_revenue" {
        (day, day.succ_opt().unwrap())
    } else {
        let first = day.with_day(1).unwrap();
        (first, first + chrono::Months::new(1))
    };
    (local_midnight(zone, start), local_midnight(zone, end))
}

/// Apply `op` at `now`; the result in words (equal results, equal words).
fn apply(e: &mut Engine, s: &Setup, op: &Op, now: Instant) -> String {
    let call = |c: &u8| Call::new(format!("c{c}"));
    let words = |r: Result<String, String>| match r {
        Ok(w) => w,
        Err(e) => format!("error: {e}"),
    };
    let outcome = |r: Result<ConnectOutcome, _>| match r {
        Ok(ConnectOutcome::Connected) => Ok("connected".to_string()),
        Ok(ConnectOutcome::Refused(_)) => Ok("refused".to_string()),
        Err(e) => Err(format!("{e}")),
    };
    let done = |r: Result<(), _>| r.map(|()| "ok".to_string()).map_err(|e| format!("{e}"));
    match op {
        Op::Connect(c, t) => words(outcome(e.connect(&call(c), TARGETS[*t], now))),
        Op::Reserve(c, t, ttl) => words(outcome(e.reserve(&call(c), TARGETS[*t], *ttl, now))),
        Op::End(c) => words(done(e.end(&call(c), now))),
        Op::Touch(c) => words(done(e.touch(&call(c), now))),
        Op::Cancel(c) => words(done(e.cancel(&call(c), now))),
        Op::Convert(c, r) => words(done(e.convert(&call(c), Money(*r), now))),
        Op::Advance(_) | Op::Twin => "ok".into(),
        Op::Patch(o, caps) => {
            let (kind, id) = if *o < 3 {
                (OwnerKind::Target, TARGETS[*o])
            } else {
                (OwnerKind::Group, GROUPS[*o - 3])
            };
            let r = e.patch(
                kind,
                id,
                &json!({"caps": caps.json()}),
                "patch.json",
                "2026-11-23T00:00:00Z".parse().unwrap(),
            );
            words(r.map(|d| format!("{d:?}")).map_err(|e| e.to_string()))
        }
        Op::Update(caps) => {
            let r = e.replace_config(
                &document(s, caps),
                "config.json",
                None,
                "2026-11-23T00:00:00Z".parse().unwrap(),
            );
            words(r.map(|d| format!("{d:?}")).map_err(|e| e.to_string()))
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn every_cap_kind_keeps_the_lease_and_live_change_laws(
        s in setup(),
        ops in prop::collection::vec(op(), 1..90),
    ) {
        let mut e = Engine::parse(document(&s, &s.caps).to_string().as_bytes(), "t.json", None).unwrap();
        let mut twin: Option<Engine> = None;
        let mut now = at(STARTS[s.start]);
        // the last accepted event of each call: it is gone by then + lease
        // (or ttl) + retention
        let mut last: BTreeMap<u8, Instant> = BTreeMap::new();
        let horizon = TimeDelta::seconds(s.lease.max(MAX_TTL) + s.retention);
        // instants of the counting events (connects and reserves) per target
        let mut counted: [Vec<Instant>; 3] = Default::default();
        for op in &ops {
            if let Op::Advance(secs) = op {
                now += TimeDelta::seconds(*secs);
            }
            if let (Op::Twin, None) = (op, &twin) {
                let text = serde_json::to_string(&e.snapshot()).unwrap();
                let snap: Snapshot = serde_json::from_str(&text).unwrap();
                // a restart: the current document, then the snapshot
                let source = e.source().unwrap().clone();
                let mut t = Engine::from_source(source, e.config().clone());
                t.restore_snapshot(&snap).unwrap();
                prop_assert_eq!(t.usage(now), e.usage(now));
                twin = Some(t);
            }
            // whose call is it, and is it a live reservation being confirmed?
            let call_id = |c: &u8| format!("c{c}");
            let record = match op {
                Op::Connect(c, _) | Op::Convert(c, _) => e.state().call(&call_id(c)).cloned(),
                _ => None,
            };
            let confirming = matches!(&record, Some(r) if matches!(r.phase,
                routecap_core::lifecycle::CallPhase::Reserved { expires, .. } if expires > now));
            let before = e.usage(now);
            let got = apply(&mut e, &s, op, now);
            if let Some(t) = twin.as_mut() {
                prop_assert_eq!(&apply(t, &s, op, now), &got, "twin answered {:?} otherwise", op);
            }
            let after = e.usage(now);
            if let Some(t) = &twin {
                prop_assert_eq!(&t.usage(now), &after, "twin usage after {:?}", op);
            }
            let (rb, ra) = (rows(&before), rows(&after));
            // no event grows a count past its cap
            for (key, (used, limit)) in &ra {
                // a row new by a config change had no limit, so no cap, before
                let was = rb.get(key).map_or(*used, |r| r.0);
                // (a conversion counts a call whatever the caps: only its
                // connect was checked)
                let converting = matches!(op, Op::Convert(..)) && key.1 != "concurrency";
                if *used > was && !key.1.ends_with("_revenue") && !converting {
                    prop_assert!(used <= limit, "{:?} grew to {} over {} by {:?}", key, used, limit, op);
                }
            }
            if got == "refused" || got.starts_with("error") {
                prop_assert_eq!(&after, &before, "{:?} answered {} yet changed usage", op, got);
            }
            match op {
                Op::Connect(c, t) | Op::Reserve(c, t, _) => {
                    let full: Vec<_> = owners_of(*t)
                        .into_iter()
                        .flat_map(|o| rb.iter().filter(move |(k, _)| k.0 == o))
                        .filter(|(_, (used, limit))| used >= limit)
                        .map(|(k, _)| k.clone())
                        .collect();
                    if !confirming && !got.starts_with("error") {
                        prop_assert_eq!(got == "connected", full.is_empty(),
                            "{:?} at {} answered {}; full: {:?}", op, now, got, full);
                    }
                    if got == "connected" && !confirming {
                        // counted once on the target and each of its groups
                        let grew: Vec<_> = ra.iter()
                            .filter(|(k, (u, _))| rb.get(*k).is_some_and(|b| b.0 != *u))
                            .map(|(k, (u, _))| (k.clone(), u - rb[k].0))
                            .collect();
                        for (k, d) in &grew {
                            prop_assert!(owners_of(*t).contains(&k.0.as_str()), "{:?} moved", k);
                            prop_assert!(!k.1.ends_with("_revenue"), "{:?} moved", k);
                            prop_assert_eq!(*d, 1, "{:?} by {:?}", k, op);
                        }
                        // a reservation holds a unit of every count cap; a
                        // connect counts one when the trigger is `connect`
                        let counts = matches!(op, Op::Reserve(..)) || s.triggers[*t] == 0;
                        for o in owners_of(*t) {
                            for kind in COUNT_KINDS {
                                let step = i64::from(counts || kind == "concurrency");
                                if let Some((u, _)) = ra.get(&(o.to_string(), kind)) {
                                    prop_assert_eq!(*u, rb[&(o.to_string(), kind)].0 + step, "{} {}", o, kind);
                                }
                            }
                        }
                        last.insert(*c, now);
                    }
                    if got == "connected" {
                        counted[*t].push(now);
                        last.insert(*c, now);
                    }
                }
                Op::Convert(c, r) if got == "ok" => {
                    let t = record.as_ref().unwrap().target;
                    let first = record.as_ref().unwrap().converted.is_none();
                    let counts = first && (s.triggers[t] == 1 || (s.triggers[t] == 2 && *r > 0));
                    if counts {
                        counted[t].push(now);
                    }
                    for (k, (u, _)) in &ra {
                        let d = u - rb[k].0;
                        let mine = owners_of(t).contains(&k.0.as_str());
                        if k.1.ends_with("_revenue") && mine {
                            prop_assert_eq!(d, *r, "{:?}", k);
                        } else if mine && counts && k.1 != "concurrency" {
                            prop_assert_eq!(d, 1, "{:?} counted once by {:?}", k, op);
                        } else {
                            prop_assert_eq!(d, 0, "{:?} moved by a conversion", k);
                        }
                    }
                    last.insert(*c, now);
                }
                Op::End(c) | Op::Touch(c) | Op::Cancel(c) if got == "ok" => {
                    last.insert(*c, now);
                }
                Op::Patch(..) | Op::Update(_) => {
                    prop_assert!(!got.starts_with("error"), "{:?}: {}", op, got);
                    // counts kept by id, whatever the caps now
                    prop_assert_eq!(lives(&after), lives(&before));
                    for (k, (u, _)) in &ra {
                        if let Some((b, _)) = rb.get(k) {
                            prop_assert_eq!(u, b, "{:?} changed by {:?}", k, op);
                        }
                    }
                }
                _ => {}
            }
            // windows: daily and monthly ones start at local midnight (23 or
            // 25 hours on DST days); a window no counting event fell in
            // counts only the units held by live reservations
            for o in &after.owners {
                let zone = zone_of(&s, &o.id);
                let targets: Vec<usize> = match TARGETS.iter().position(|x| *x == o.id) {
                    Some(t) => vec![t],
                    None => MEMBERS[GROUPS.iter().position(|x| *x == o.id).unwrap()].to_vec(),
                };
                for c in &o.caps {
                    let (Some(ws), Some(we)) = (&c.window_start, &c.window_end) else {
                        continue;
                    };
                    let (ws, we) = (at(ws), at(we));
                    prop_assert!(ws <= now && now < we, "{} {} window {}..{} at {}", o.id, c.cap, ws, we, now);
                    if !c.cap.starts_with("hourly") {
                        prop_assert_eq!((ws, we), expected_window(zone, c.cap, now), "{} {} at {}", o.id, c.cap, now);
                    }
                    let fresh = targets.iter().all(|&t| counted[t].iter().all(|&i| i < ws));
                    if fresh && !c.cap.ends_with("_revenue") {
                        prop_assert_eq!(&c.used, &UsageAmount::Count(o.reserved), "{} {} at {}", o.id, c.cap, now);
                    }
                }
            }
            // bounded memory: a call is gone once its last event is a
            // lease (or ttl) and a retention behind
            e.advance(now);
            let may_remain = last.values().filter(|&&t| t + horizon > now).count();
            prop_assert!(e.state().call_count() <= may_remain,
                "{} records, {} calls may remain at {}", e.state().call_count(), may_remain, now);
        }
        // once every lease and reservation has ended or lapsed: nothing live
        let later = now + TimeDelta::seconds(s.lease.max(MAX_TTL));
        for engine in std::iter::once(&mut e).chain(twin.as_mut()) {
            let view = engine.usage(later);
            for o in &view.owners {
                prop_assert_eq!((o.live, o.reserved), (0, 0), "{} at {}", o.id, later);
                for c in &o.caps {
                    if c.cap == "concurrency" {
                        prop_assert_eq!(&c.used, &UsageAmount::Count(0));
                    }
                }
            }
            // and every call is forgotten a retention later
            engine.advance(later + TimeDelta::seconds(s.retention));
            prop_assert_eq!(engine.state().call_count(), 0);
        }
    }
}
