//! Every face agrees after any change (SPEC §14): the targets `route`
//! offers, `check` calls eligible, `connect` admits and `usage` shows below
//! every limit are the same, on memory and on Redis, after lifecycle events
//! and live changes — zone changes included.

use std::collections::BTreeSet;
use std::sync::Arc;

use routecap::core::formats::source::OwnerKind;
use routecap::core::lifecycle::ConnectOutcome;
use routecap::core::render::{CheckView, StepView, UsageAmount, UsageView};
use routecap::core::route::Draws;
use routecap::core::zone::Instant;
use routecap::state::redis::{new_op_id, RedisOptions, RedisState};
use routecap::state::Blocking;
use routecap::Call;
use serde_json::{json, Value};

fn t(s: &str) -> Instant {
    s.parse().expect("instant")
}

/// A memory backend over the config document (patches need it).
fn memory(doc: &Value) -> Blocking {
    let core = routecap::core::engine::Engine::parse(doc.to_string().as_bytes(), "c.json", None)
        .expect("config");
    Blocking::new(Arc::new(routecap::Engine::from_core(core))).expect("runtime")
}

/// A Redis backend over the document in a fresh namespace.
fn redis(url: &str, doc: &Value) -> Blocking {
    let mut o = RedisOptions::new(url);
    o.namespace = format!("agree-{}", new_op_id());
    let rt = routecap::state::runtime().expect("runtime");
    let bytes = doc.to_string();
    let state = rt
        .block_on(RedisState::open_document(
            bytes.as_bytes(),
            "c.json",
            None,
            o,
        ))
        .expect("open redis");
    Blocking::on(rt, Arc::new(state))
}

/// The backends to run on: memory, and Redis when a server is given
/// (`scripts/with-redis`); without one a loud SKIPPING line says so.
fn backends(test: &str, doc: &Value) -> Vec<(&'static str, Blocking)> {
    let mut out = vec![("memory", memory(doc))];
    if let Some(url) = crate::serve_support::redis_url(test) {
        out.push(("redis", redis(&url, doc)));
    }
    out
}

/// What each face says about the targets at one instant.
#[derive(Debug, PartialEq, Eq)]
struct Faces {
    /// Targets in `route`'s plan.
    offered: BTreeSet<String>,
    /// Targets `check` calls eligible (directly or as a group's member).
    eligible: BTreeSet<String>,
    /// Targets with no cap reason in `check`.
    uncapped_by_check: BTreeSet<String>,
    /// Targets whose caps and whose groups' caps `usage` shows below
    /// every limit.
    uncapped_by_usage: BTreeSet<String>,
}

fn offered(b: &Blocking, at: Instant) -> BTreeSet<String> {
    let view = b
        .route(&Call::default(), at, &mut Draws::new(7))
        .expect("route");
    let mut out = BTreeSet::new();
    for s in view.plan {
        match s {
            StepView::Target { target, .. } => {
                out.insert(target);
            }
            StepView::Group { targets, .. } => out.extend(targets),
        }
    }
    out
}

fn eligible(check: &CheckView) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for c in &check.candidates {
        match (&c.eligible_members, c.eligible) {
            (Some(members), _) => out.extend(members.iter().cloned()),
            (None, true) => {
                out.insert(c.id.clone());
            }
            (None, false) => {}
        }
    }
    out
}

fn uncapped_by_check(check: &CheckView) -> BTreeSet<String> {
    check
        .candidates
        .iter()
        .filter(|c| c.kind == "target" && !c.reasons.iter().any(|r| r.code.ends_with("_cap")))
        .map(|c| c.id.clone())
        .collect()
}

/// Whether an amount is at or above its limit (counts, or money as
/// decimal strings with two places).
fn full(used: &UsageAmount, limit: &UsageAmount) -> bool {
    let cents = |s: &str| -> i64 { s.replace('.', "").parse().expect("money") };
    match (used, limit) {
        (UsageAmount::Count(u), UsageAmount::Count(l)) => u >= l,
        (UsageAmount::Money(u), UsageAmount::Money(l)) => cents(u) >= cents(l),
        _ => panic!("mixed amounts {used:?} {limit:?}"),
    }
}

/// Targets whose own caps and whose groups' caps are all below limit.
fn uncapped_by_usage(b: &Blocking, usage: &UsageView) -> BTreeSet<String> {
    let config = b.config();
    let is_full = |id: &str, kind: &str| {
        usage
            .owners
            .iter()
            .find(|o| o.id == id && o.kind == kind)
            .is_some_and(|o| o.caps.iter().any(|c| full(&c.used, &c.limit)))
    };
    config
        .targets
        .iter()
        .enumerate()
        .filter(|(i, t)| {
            !is_full(&t.id, "target")
                && !config
                    .groups
                    .iter()
                    .filter(|g| g.members.contains(i))
                    .any(|g| is_full(&g.id, "group"))
        })
        .map(|(_, t)| t.id.clone())
        .collect()
}

fn faces(b: &Blocking, at: Instant) -> Faces {
    let check = b.check(&Call::default(), at).expect("check");
    let usage = b.usage(at).expect("usage");
    Faces {
        offered: offered(b, at),
        eligible: eligible(&check),
        uncapped_by_check: uncapped_by_check(&check),
        uncapped_by_usage: uncapped_by_usage(b, &usage),
    }
}

/// The daily cap reason of target `id` in `check`: (used, limit, until).
fn daily_reason(b: &Blocking, id: &str, at: Instant) -> Option<String> {
    let check = b.check(&Call::default(), at).expect("check");
    let c = check.candidates.iter().find(|c| c.id == id)?;
    let r = c.reasons.iter().find(|r| r.code == "daily_cap")?;
    Some(serde_json::to_value(r).expect("json").to_string())
}

/// A target in Los Angeles with a daily and a monthly cap of 1.
fn la_target() -> Value {
    json!({"targets": [
        {"id": "a", "time_zone": "America/Los_Angeles", "caps": {"daily": 1, "monthly": 1}},
        {"id": "b", "time_zone": "UTC", "caps": {"daily": 5}}
    ]})
}

/// How a test changes the zone of target `a` to UTC at `at`.
#[derive(Clone, Copy, Debug)]
enum ZoneChange {
    Patch,
    WholeConfig,
}

fn change_zone(b: &Blocking, how: ZoneChange, at: Instant) {
    match how {
        ZoneChange::Patch => {
            b.patch(
                OwnerKind::Target,
                "a",
                &json!({"time_zone": "UTC"}),
                "p",
                at,
            )
            .expect("patch");
        }
        ZoneChange::WholeConfig => {
            let mut doc = la_target();
            doc["targets"][0]["time_zone"] = json!("UTC");
            b.replace_config(&doc, "c.json", None, at).expect("config");
        }
    }
}

/// SPEC §14's example: caps used up in `America/Los_Angeles`, then the
/// zone becomes UTC at the same instant. The daily count carries over to
/// the UTC day holding the change until it ends; the monthly one to the
/// UTC month. Every face says the same at each instant.
fn zone_change_keeps_the_window_count(test: &str, how: ZoneChange) {
    // 20:00Z = 12:00 in Los Angeles on Monday 23 November 2026
    let used_up = t("2026-11-23T20:00:00Z");
    for (name, b) in backends(test, &la_target()) {
        let out = b.connect(&Call::new("c1"), "a", used_up).expect("connect");
        assert_eq!(out, ConnectOutcome::Connected, "{name}");
        b.end(&Call::new("c1"), t("2026-11-23T20:05:00Z"))
            .expect("end");
        change_zone(&b, how, used_up);
        let only_b: BTreeSet<String> = ["b".to_string()].into();
        let both: BTreeSet<String> = ["a".to_string(), "b".to_string()].into();
        // at the change instant, at the end of the UTC day, in the next
        // UTC day (monthly still full), in December (both open again)
        for (at, expected, daily) in [
            (used_up, &only_b, Some("2026-11-24T00:00:00Z")),
            (
                t("2026-11-23T23:59:59Z"),
                &only_b,
                Some("2026-11-24T00:00:00Z"),
            ),
            (t("2026-11-24T00:00:00Z"), &only_b, None),
            (t("2026-11-30T23:59:59Z"), &only_b, None),
            (t("2026-12-01T00:00:00Z"), &both, None),
        ] {
            let f = faces(&b, at);
            let ctx = format!("{name} {how:?} at {at}: {f:?}");
            assert_eq!(&f.offered, expected, "route: {ctx}");
            assert_eq!(&f.eligible, expected, "check: {ctx}");
            assert_eq!(&f.uncapped_by_check, expected, "check caps: {ctx}");
            assert_eq!(&f.uncapped_by_usage, expected, "usage: {ctx}");
            let reason = daily_reason(&b, "a", at);
            match daily {
                Some(until) => {
                    let r = reason.unwrap_or_else(|| panic!("no daily_cap: {ctx}"));
                    assert!(r.contains(&format!("\"until\":\"{until}\"")), "{r} {ctx}");
                }
                None => assert_eq!(reason, None, "{ctx}"),
            }
        }
        // connect admits exactly what the faces offer, at each instant
        let refused = b
            .connect(&Call::new("c2"), "a", t("2026-11-24T10:00:00Z"))
            .expect("connect");
        assert!(
            matches!(refused, ConnectOutcome::Refused(_)),
            "{name} {refused:?}"
        );
        let taken = b
            .connect(&Call::new("c3"), "a", t("2026-12-01T00:00:00Z"))
            .expect("connect");
        assert_eq!(taken, ConnectOutcome::Connected, "{name}");
    }
}

#[test]
fn zone_patch_keeps_the_window_count() {
    zone_change_keeps_the_window_count("zone_patch_keeps_the_window_count", ZoneChange::Patch);
}

#[test]
fn zone_in_a_whole_config_keeps_the_window_count() {
    zone_change_keeps_the_window_count(
        "zone_in_a_whole_config_keeps_the_window_count",
        ZoneChange::WholeConfig,
    );
}

/// A cap added to an owner counts the calls already recorded in its
/// current window (counts are kept for every window kind, capped or not).
#[test]
fn added_cap_counts_recorded_calls() {
    let doc = json!({"targets": [{"id": "a", "time_zone": "Europe/Paris"}]});
    let at = t("2026-11-23T10:00:00Z");
    for (name, b) in backends("added_cap_counts_recorded_calls", &doc) {
        for i in 0..2 {
            let out = b
                .connect(&Call::new(format!("c{i}")), "a", at)
                .expect("connect");
            assert_eq!(out, ConnectOutcome::Connected, "{name}");
        }
        b.patch(
            OwnerKind::Target,
            "a",
            &json!({"caps": {"hourly": 2}}),
            "p",
            at,
        )
        .expect("patch");
        let f = faces(&b, at);
        assert!(
            f.offered.is_empty() && f.eligible.is_empty(),
            "{name} {f:?}"
        );
        assert!(f.uncapped_by_usage.is_empty(), "{name} {f:?}");
        let out = b.connect(&Call::new("c9"), "a", at).expect("connect");
        assert!(matches!(out, ConnectOutcome::Refused(_)), "{name} {out:?}");
    }
}

// ---------------------------------------------------------------------
// The agreement law over random sequences
// ---------------------------------------------------------------------

use proptest::prelude::*;
use routecap::core::money::Money;

const IDS: [&str; 3] = ["a", "b", "c"];
const ZONES: [&str; 5] = [
    "America/Los_Angeles",
    "UTC",
    "Asia/Kolkata",
    "Australia/Lord_Howe",
    "Europe/London",
];
/// Steps between events, seconds: a minute to a day and a half.
const STEPS: [i64; 6] = [60, 600, 2_700, 3_600, 6 * 3_600, 36 * 3_600];

/// The config a sequence runs under, changed by its live changes.
#[derive(Clone, Debug)]
struct Model {
    zones: [usize; 3],
    caps: [Value; 3],
    hours: [Option<Value>; 3],
    paused: [bool; 3],
    group_zone: usize,
    group_daily: u64,
}

impl Model {
    fn new() -> Model {
        Model {
            zones: [0, 1, 2],
            caps: [
                json!({"daily": 2, "monthly": 3, "concurrency": 1}),
                json!({"hourly": 1, "total": 4, "daily_revenue": "20.00"}),
                json!({"daily": 3, "concurrency": 2}),
            ],
            hours: [None, None, None],
            paused: [false; 3],
            group_zone: 4,
            group_daily: 4,
        }
    }

    fn target(&self, i: usize) -> Value {
        let mut t = json!({"id": IDS[i], "time_zone": ZONES[self.zones[i]], "trigger": "connect",
                           "caps": self.caps[i], "paused": self.paused[i]});
        if let Some(h) = &self.hours[i] {
            t["hours"] = h.clone();
        }
        t
    }

    fn doc(&self) -> Value {
        json!({"targets": (0..3).map(|i| self.target(i)).collect::<Vec<_>>(),
               "groups": [{"id": "g", "members": ["a", "b"], "time_zone": ZONES[self.group_zone],
                           "caps": {"daily": self.group_daily}}]})
    }
}

/// Hours open on every day from `open` to `close` (whole hours).
fn hours(open: u16, len: u16) -> Value {
    let open = open % 24;
    let close = (open + 1 + len % 12).min(24);
    let hm = |h: u16| format!("{h:02}:00");
    Value::Array(
        (0..7)
            .map(|d| json!({"day": d, "open": hm(open), "close": hm(close)}))
            .collect(),
    )
}

/// One random event: (kind, target, call, step, amount).
type Ev = (u8, u8, u8, u8, u16);

/// The answer of applying event `ev` at `at` to backend `b` (text, to
/// compare backends), with the model updated for config changes. For a
/// connect or reserve, whether it was admitted.
fn apply(b: &Blocking, m: &mut Model, ev: Ev, at: Instant) -> (String, Option<(usize, bool)>) {
    let (kind, target, call, _, x) = ev;
    let ti = usize::from(target) % 3;
    let id = IDS[ti];
    let call = Call::new(format!("k{}", call % 8));
    let show = |r: Result<(), routecap::state::StateError>| format!("{r:?}");
    let patch = |p: Value| show(b.patch(OwnerKind::Target, id, &p, "p", at).map(|_| ()));
    match kind % 14 {
        0..=2 => admission(ti, b.connect(&call, id, at)),
        3 => admission(ti, b.reserve(&call, id, u64::from(x % 600) + 1, at)),
        4 => (show(b.end(&call, at).map(|_| ())), None),
        5 => (show(b.convert(&call, Money(i64::from(x % 1500)), at)), None),
        6 => (show(b.cancel(&call, at)), None),
        7 => {
            // a zone change, as a merge patch
            let z = usize::from(x) % ZONES.len();
            m.zones[ti] = z;
            (patch(json!({"time_zone": ZONES[z]})), None)
        }
        8 => {
            // hours set or removed (`null`), as a merge patch
            let h = (x % 3 != 0).then(|| hours(x / 3, x / 7));
            m.hours[ti] = h.clone();
            (patch(json!({"hours": h})), None)
        }
        9 => {
            // one cap changed, added or removed, the others kept
            let (name, value) = match x % 5 {
                0 => ("daily", json!(1 + x % 4)),
                1 => ("hourly", json!(1 + x % 3)),
                2 => ("concurrency", json!(1 + x % 2)),
                3 => ("monthly", Value::Null),
                _ => ("daily", Value::Null),
            };
            let caps = m.caps[ti].as_object_mut().expect("caps");
            if value.is_null() {
                caps.remove(name);
            } else {
                caps.insert(name.to_string(), value.clone());
            }
            (patch(json!({"caps": {name: value}})), None)
        }
        10 => {
            m.paused[ti] = x % 2 == 0;
            (
                show(b.set_paused(OwnerKind::Target, id, m.paused[ti])),
                None,
            )
        }
        11 => {
            // a whole config: the group's zone and cap, a target's zone
            m.group_zone = usize::from(x) % ZONES.len();
            m.group_daily = 2 + u64::from(x % 4);
            m.zones[ti] = usize::from(x / 5) % ZONES.len();
            let r = b.replace_config(&m.doc(), "c.json", None, at);
            (show(r.map(|_| ())), None)
        }
        12 => {
            let usage = json!({ id: {"daily": x % 3, "live": x % 2} });
            (show(b.import_usage(at, &usage, "usage")), None)
        }
        _ => (String::from("wait"), None),
    }
}

/// A connect's or reserve's answer, and whether it admitted the call.
fn admission(
    t: usize,
    r: Result<ConnectOutcome, routecap::state::StateError>,
) -> (String, Option<(usize, bool)>) {
    match r {
        Ok(out) => (
            format!("{out:?}"),
            Some((t, out == ConnectOutcome::Connected)),
        ),
        Err(e) => (format!("Err({e})"), None),
    }
}

/// The law at one instant on one backend: `route` offers exactly what
/// `check` calls eligible, and `check` finds a cap reached for exactly the
/// targets `usage` shows at or above some limit (theirs or their group's).
fn assert_agree(name: &str, b: &Blocking, at: Instant, step: usize) -> Faces {
    let f = faces(b, at);
    assert_eq!(
        f.offered, f.eligible,
        "{name} step {step} at {at}: route vs check {f:?}"
    );
    assert_eq!(
        f.uncapped_by_check, f.uncapped_by_usage,
        "{name} step {step} at {at}: check vs usage {f:?}"
    );
    f
}

fn run_agreement(backends: &[(&'static str, Blocking)], events: &[Ev]) {
    let mut models: Vec<Model> = backends.iter().map(|_| Model::new()).collect();
    // calls reserved (on any backend: they all answer the same)
    let mut held = BTreeSet::new();
    let mut at = t("2026-10-31T22:30:00Z");
    for (i, &ev) in events.iter().enumerate() {
        at += chrono::TimeDelta::seconds(STEPS[usize::from(ev.3) % STEPS.len()]);
        let mut answers = Vec::new();
        let mut seen = Vec::new();
        let call = format!("k{}", ev.2 % 8);
        let fresh = !held.contains(&call);
        for ((name, b), m) in backends.iter().zip(&mut models) {
            let before = assert_agree(name, b, at, i);
            let (answer, admitted) = apply(b, m, ev, at);
            // connect and reserve admit exactly what check called
            // eligible the instant before (a call confirming its own
            // reservation is admitted against the others' use only)
            if let Some((t, ok)) = admitted {
                if ok && fresh {
                    assert!(
                        before.eligible.contains(IDS[t]),
                        "{name} step {i} at {at}: admitted {} not eligible {before:?}",
                        IDS[t]
                    );
                } else if answer.starts_with("Refused") {
                    assert!(
                        !before.eligible.contains(IDS[t]),
                        "{name} step {i} at {at}: refused eligible {}: {answer}",
                        IDS[t]
                    );
                }
            }
            let after = assert_agree(name, b, at, i);
            answers.push(answer);
            seen.push(after);
        }
        if answers[0] == "Connected" {
            if ev.0 % 14 == 3 {
                held.insert(call);
            } else {
                held.remove(&call);
            }
        }
        // and every backend says the same
        for w in 1..backends.len() {
            assert_eq!(answers[0], answers[w], "step {i} at {at}: {ev:?}");
            assert_eq!(seen[0], seen[w], "step {i} at {at}: {ev:?}");
        }
    }
}

fn events(max: usize) -> impl Strategy<Value = Vec<Ev>> {
    proptest::collection::vec((0u8..14, 0u8..3, 0u8..8, 0u8..6, 0u16..2000), 1..max)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    /// Memory: 128 sequences of up to 40 events.
    #[test]
    fn every_face_agrees_on_memory(events in events(40)) {
        let backends = vec![("memory", memory(&Model::new().doc()))];
        run_agreement(&backends, &events);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Memory and Redis side by side: 48 sequences of up to 40 events,
    /// each face agreeing on each backend and both backends answering
    /// the same.
    #[test]
    fn every_face_agrees_on_memory_and_redis(events in events(40)) {
        let Some(url) = crate::serve_support::redis_url("every_face_agrees_on_memory_and_redis")
        else {
            return Ok(());
        };
        let doc = Model::new().doc();
        let backends = vec![("memory", memory(&doc)), ("redis", redis(&url, &doc))];
        run_agreement(&backends, &events);
    }
}
