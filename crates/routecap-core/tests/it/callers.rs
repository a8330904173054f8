//! Repeat and duplicate callers (`docs/semantics.md`): target `duplicates` on either
//! basis, `repeat_callers` modes `normal` / `original` / `different` from
//! the config or a campaign, window edges at exact instants, forgetting,
//! unknown callers, snapshots, config changes, and the laws (a caller never
//! reaches a target inside its duplicate window; the history stays bounded).

use proptest::prelude::*;
use routecap_core::engine::Engine;
use routecap_core::filter::CallAttrs;
use routecap_core::formats::{parse_config, Format};
use routecap_core::lifecycle::ConnectOutcome;
use routecap_core::model::Config;
use routecap_core::money::Money;
use routecap_core::route::Draws;
use routecap_core::route::{self, Step};
use routecap_core::snapshot::Snapshot;
use routecap_core::zone::Instant;
use routecap_core::Call;
use serde_json::{json, Value};

fn t(s: &str) -> Instant {
    format!("2026-11-23T{s}Z").parse().unwrap()
}

fn native(doc: Value) -> Config {
    parse_config(
        doc.to_string().as_bytes(),
        "cfg.json",
        Some(Format::Routecap),
    )
    .unwrap()
}

fn err(doc: Value) -> String {
    parse_config(
        doc.to_string().as_bytes(),
        "cfg.json",
        Some(Format::Routecap),
    )
    .unwrap_err()
    .to_string()
}

const X: &str = "+19195550100";
const Y: &str = "+19195550199";

fn call(caller: &str) -> CallAttrs {
    CallAttrs::new().with_caller(caller)
}

/// `check` as the CLI prints it, for `caller` at `at`: `id -> reasons`.
fn reasons(e: &Engine, caller: &str, at: Instant) -> Value {
    let view = serde_json::to_value(
        e.check(&Call::with_attrs("", call(caller).clone()), at)
            .unwrap(),
    )
    .unwrap();
    let mut out = serde_json::Map::new();
    for c in view["candidates"].as_array().unwrap() {
        out.insert(c["id"].as_str().unwrap().into(), c["reasons"].clone());
    }
    Value::Object(out)
}

/// Target ids of the plan for `attrs` at `at` with `seed`.
fn plan(e: &mut Engine, attrs: &CallAttrs, at: Instant, seed: u64) -> Vec<String> {
    let view = e
        .route(
            &Call::with_attrs("", attrs.clone()),
            at,
            &mut Draws::new(seed),
        )
        .unwrap();
    let v = serde_json::to_value(&view).unwrap();
    v["plan"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            s["target"]
                .as_str()
                .or(s["group"].as_str())
                .unwrap()
                .to_string()
        })
        .collect()
}

fn connect(e: &mut Engine, id: &str, target: &str, caller: &str, at: Instant) -> ConnectOutcome {
    e.connect(&Call::with_attrs(id, call(caller).clone()), target, at)
        .unwrap()
}

fn refused_codes(o: ConnectOutcome) -> Vec<String> {
    match o {
        ConnectOutcome::Refused(r) => r.iter().map(|r| r.code_string()).collect(),
        ConnectOutcome::Connected => Vec::new(),
    }
}

#[test]
fn duplicates_on_connect_until_the_window_ends() {
    let mut e = Engine::new(native(json!({"targets": [
        {"id": "a", "duplicates": {"basis": "connect", "window": 3600}},
        {"id": "b"}
    ]})));
    assert_eq!(
        connect(&mut e, "c1", "a", X, t("10:00:00")),
        ConnectOutcome::Connected
    );
    e.end(&Call::new("c1"), t("10:05:00")).unwrap();
    let dup = json!([{"code": "duplicate_caller", "until": "2026-11-23T11:00:00Z",
        "detail": "caller +19195550100 connected at 2026-11-23T10:00:00Z (window 3600 s)"}]);
    assert_eq!(reasons(&e, X, t("10:30:00")), json!({"a": dup, "b": []}));
    // the last second of the window, then its end (the reason's until)
    assert_eq!(reasons(&e, X, t("10:59:59"))["a"], dup);
    assert_eq!(reasons(&e, X, t("11:00:00"))["a"], json!([]));
    // another caller, an unknown one, and a call without attributes
    assert_eq!(reasons(&e, Y, t("10:30:00"))["a"], json!([]));
    assert_eq!(reasons(&e, "anonymous", t("10:30:00"))["a"], json!([]));
    assert!(e
        .reports(&Call::default(), t("10:30:00"))
        .unwrap()
        .iter()
        .all(|r| r.eligible));
    // connect re-checks: refused inside the window, nothing changed
    let before = e.snapshot();
    let o = connect(&mut e, "c2", "a", X, t("10:59:59"));
    assert_eq!(refused_codes(o), ["duplicate_caller"]);
    assert_eq!(e.snapshot(), before);
    // the other target takes the caller; at the window's end "a" does again
    assert_eq!(
        connect(&mut e, "c3", "b", X, t("10:59:59")),
        ConnectOutcome::Connected
    );
    assert_eq!(
        connect(&mut e, "c4", "a", X, t("11:00:00")),
        ConnectOutcome::Connected
    );
    // ... which starts a new window from 11:00
    let o = connect(&mut e, "c5", "a", X, t("11:30:00"));
    assert_eq!(refused_codes(o), ["duplicate_caller"]);
}

#[test]
fn duplicates_on_convert_count_conversions_only() {
    let mut e = Engine::new(native(json!({"targets": [
        {"id": "a", "duplicates": {"basis": "convert", "window": 86400}}
    ]})));
    connect(&mut e, "c1", "a", X, t("10:00:00"));
    // connected but not converted: not a duplicate
    assert_eq!(reasons(&e, X, t("10:30:00"))["a"], json!([]));
    e.convert(&Call::new("c1"), Money(2500), t("10:10:00"))
        .unwrap();
    e.end(&Call::new("c1"), t("10:12:00")).unwrap();
    assert_eq!(
        reasons(&e, X, t("10:30:00"))["a"],
        json!([{"code": "duplicate_caller", "until": "2026-11-24T10:10:00Z",
            "detail": "caller +19195550100 converted at 2026-11-23T10:10:00Z (window 86400 s)"}])
    );
    // a conversion after the end (decided later) counts the same; and
    // the window reaches back exactly one day
    let next_day: Instant = "2026-11-24T10:09:59Z".parse().unwrap();
    assert_eq!(reasons(&e, X, next_day)["a"][0]["code"], "duplicate_caller");
    let lifted: Instant = "2026-11-24T10:10:00Z".parse().unwrap();
    assert_eq!(reasons(&e, X, lifted)["a"], json!([]));
}

#[test]
fn different_skips_targets_the_caller_reached_within_the_window() {
    let mut e = Engine::new(native(json!({
        "repeat_callers": {"mode": "different", "window": 7200},
        "targets": [{"id": "a", "priority": 1}, {"id": "b", "priority": 2}]
    })));
    connect(&mut e, "c1", "a", X, t("10:00:00"));
    e.end(&Call::new("c1"), t("10:03:00")).unwrap();
    for seed in 0..5 {
        assert_eq!(plan(&mut e, &call(X), t("10:30:00"), seed), ["b"]);
        assert_eq!(plan(&mut e, &call(Y), t("10:30:00"), seed), ["a", "b"]);
    }
    let view = e
        .route(
            &Call::with_attrs("", call(X).clone()),
            t("10:30:00"),
            &mut Draws::new(1),
        )
        .unwrap();
    let rejected = serde_json::to_value(&view.rejected).unwrap();
    assert_eq!(
        rejected,
        json!([{"id": "a", "reasons": [{"code": "repeat_caller", "until": "2026-11-23T12:00:00Z",
            "detail": "caller +19195550100 connected at 2026-11-23T10:00:00Z (window 7200 s)"}]}])
    );
    assert_eq!(plan(&mut e, &call(X), t("11:59:59"), 1), ["b"]);
    assert_eq!(plan(&mut e, &call(X), t("12:00:00"), 1), ["a", "b"]);
    // connect honours it too
    let o = connect(&mut e, "c2", "a", X, t("11:00:00"));
    assert_eq!(refused_codes(o), ["repeat_caller"]);
}

#[test]
fn original_rings_the_last_target_first_while_eligible() {
    let doc = json!({
        "repeat_callers": {"mode": "original", "window": 7200},
        "targets": [
            {"id": "a", "priority": 1},
            {"id": "b", "priority": 2, "caps": {"concurrency": 1}},
            {"id": "c", "priority": 1}
        ]
    });
    let mut e = Engine::new(native(doc));
    connect(&mut e, "c1", "b", X, t("10:00:00"));
    // b holds its only concurrency slot: not eligible, so the plan is as usual
    for seed in 0..4 {
        let p = plan(&mut e, &call(X), t("10:01:00"), seed);
        assert_eq!(p.len(), 2);
        assert!(!p.contains(&"b".to_string()));
    }
    e.end(&Call::new("c1"), t("10:02:00")).unwrap();
    // now b, the lowest priority, comes first for X whatever the seed;
    // the rest of the plan is the usual draw
    let mut seen_first_of_rest = std::collections::BTreeSet::new();
    for seed in 0..40 {
        let p = plan(&mut e, &call(X), t("10:30:00"), seed);
        assert_eq!(p[0], "b", "seed {seed}: {p:?}");
        assert_eq!(p.len(), 3);
        seen_first_of_rest.insert(p[1].clone());
        // another caller never gets b first (it is in a later tier)
        assert_eq!(plan(&mut e, &call(Y), t("10:30:00"), seed)[2], "b");
    }
    assert_eq!(seen_first_of_rest.len(), 2, "the rest is still drawn");
    // the same promotion in first-place chances and counts (routeMany)
    let chances = e
        .chances(&Call::with_attrs("", call(X)), t("10:30:00"))
        .unwrap();
    assert_eq!(chances.0[0], ("b".to_string(), 1.0));
    let counts = e
        .first_counts(&Call::with_attrs("", call(X)), t("10:30:00"), 3, 50)
        .unwrap();
    assert!(counts.first.contains(&("b".to_string(), 50)), "{counts:?}");
    // the window ends at 12:00: b goes back to its tier
    assert_eq!(plan(&mut e, &call(X), t("12:00:00"), 0)[2], "b");
    assert_eq!(plan(&mut e, &call(X), t("11:59:59"), 0)[0], "b");
}

#[test]
fn original_picks_the_latest_connect() {
    let mut e = Engine::new(native(json!({
        "repeat_callers": {"mode": "original", "window": 86400},
        "targets": [{"id": "a"}, {"id": "b"}, {"id": "c"}]
    })));
    connect(&mut e, "c1", "a", X, t("09:00:00"));
    connect(&mut e, "c2", "c", X, t("10:00:00"));
    connect(&mut e, "c3", "b", Y, t("10:30:00"));
    for seed in 0..10 {
        assert_eq!(plan(&mut e, &call(X), t("11:00:00"), seed)[0], "c");
        assert_eq!(plan(&mut e, &call(Y), t("11:00:00"), seed)[0], "b");
    }
}

#[test]
fn a_campaign_rule_replaces_the_config_rule() {
    let mut e = Engine::new(native(json!({
        "repeat_callers": {"mode": "different", "window": 7200},
        "targets": [{"id": "a"}, {"id": "b"}],
        "campaigns": [
            {"id": "keep", "candidates": ["a", "b"], "repeat_callers": {"mode": "normal"}},
            {"id": "plain", "candidates": ["a", "b"]}
        ]
    })));
    connect(&mut e, "c1", "a", X, t("10:00:00"));
    let via = |c: &str| call(X).with_campaign(c);
    let mut p = plan(&mut e, &via("keep"), t("10:30:00"), 1);
    p.sort();
    assert_eq!(p, ["a", "b"]);
    assert_eq!(plan(&mut e, &via("plain"), t("10:30:00"), 1), ["b"]);
    assert_eq!(plan(&mut e, &call(X), t("10:30:00"), 1), ["b"]);
}

#[test]
fn history_is_forgotten_after_the_longest_window() {
    let config = native(json!({
        "repeat_callers": {"mode": "different", "window": 1800},
        "targets": [
            {"id": "a", "duplicates": {"window": 3600}},
            {"id": "b"}
        ]
    }));
    assert_eq!(config.caller_window(), 3600);
    let mut e = Engine::new(config);
    connect(&mut e, "c1", "a", X, t("10:00:00"));
    connect(&mut e, "c2", "b", Y, t("10:20:00"));
    assert_eq!(e.state().callers().callers(), 2);
    // any lifecycle event sweeps: at 10:59:59 X is still needed
    e.advance(t("10:59:59"));
    assert_eq!(e.state().callers().visits(X).len(), 1);
    e.advance(t("11:00:00"));
    assert!(e.state().callers().visits(X).is_empty());
    assert_eq!(e.state().callers().callers(), 1);
    e.end(&Call::new("c2"), t("11:20:00")).unwrap();
    assert!(e.state().callers().is_empty());
}

#[test]
fn no_rule_no_history() {
    let mut e = Engine::new(native(json!({
        "repeat_callers": {"mode": "normal"},
        "targets": [{"id": "a"}]
    })));
    connect(&mut e, "c1", "a", X, t("10:00:00"));
    assert!(e.state().callers().is_empty());
    // the call still remembers its caller for the snapshot
    assert_eq!(e.state().call("c1").unwrap().caller.as_deref(), Some(X));
}

#[test]
fn unknown_callers_are_never_recorded_nor_matched() {
    let mut e = Engine::new(native(json!({
        "targets": [{"id": "a", "duplicates": {"window": 3600}}]
    })));
    for (i, who) in ["anonymous", "Restricted", "  ", ""].iter().enumerate() {
        let id = format!("c{i}");
        assert_eq!(
            connect(&mut e, &id, "a", who, t("10:00:00")),
            ConnectOutcome::Connected
        );
    }
    assert!(e.state().callers().is_empty());
    assert_eq!(reasons(&e, "anonymous", t("10:10:00"))["a"], json!([]));
}

#[test]
fn snapshots_carry_the_history_and_older_versions_restore_without_it() {
    let config = native(json!({"targets": [
        {"id": "a", "duplicates": {"basis": "convert", "window": 86400}},
        {"id": "b", "duplicates": {"window": 3600}}
    ]}));
    let mut e = Engine::new(config.clone());
    connect(&mut e, "c1", "a", X, t("10:00:00"));
    connect(&mut e, "c2", "b", X, t("10:01:00"));
    // the conversion lands in the history through the call's caller
    e.convert(&Call::new("c1"), Money(100), t("10:02:00"))
        .unwrap();
    let snap = e.snapshot();
    let v = serde_json::to_value(&snap).unwrap();
    assert_eq!(v["version"], 3);
    assert_eq!(
        v["callers"],
        json!([
            {"caller": X, "target": "a", "connected_at": "2026-11-23T10:00:00Z",
             "converted_at": "2026-11-23T10:02:00Z"},
            {"caller": X, "target": "b", "connected_at": "2026-11-23T10:01:00Z",
             "converted_at": null}
        ])
    );
    assert_eq!(v["calls"][0]["caller"], X);
    let back = Engine::restore(config.clone(), &snap).unwrap();
    assert_eq!(back.state(), e.state());
    assert_eq!(
        reasons(&back, X, t("10:30:00")),
        reasons(&e, X, t("10:30:00"))
    );
    assert_eq!(
        reasons(&back, X, t("10:30:00"))["b"][0]["code"],
        "duplicate_caller"
    );
    // JSON round trip too
    let text = serde_json::to_string(&snap).unwrap();
    let parsed: Snapshot = serde_json::from_str(&text).unwrap();
    assert_eq!(parsed, snap);
    // a version 2 snapshot (no callers, no call callers) restores with none
    let mut v2 = v.clone();
    v2["version"] = json!(2);
    v2.as_object_mut().unwrap().remove("callers");
    for c in v2["calls"].as_array_mut().unwrap() {
        c.as_object_mut().unwrap().remove("caller");
    }
    let v2: Snapshot = serde_json::from_value(v2).unwrap();
    let old = Engine::restore(config.clone(), &v2).unwrap();
    assert!(old.state().callers().is_empty());
    assert_eq!(reasons(&old, X, t("10:30:00"))["b"], json!([]));
    // a bad instant in the history is an error naming it
    let mut bad = v.clone();
    bad["callers"][1]["connected_at"] = json!("yesterday");
    let bad: Snapshot = serde_json::from_value(bad).unwrap();
    let msg = Engine::restore(config, &bad).unwrap_err().to_string();
    assert!(
        msg.starts_with(
            "invalid snapshot: caller \"+19195550100\" target \"b\" connected_at: \"yesterday\""
        ),
        "{msg}"
    );
}

#[test]
fn a_config_change_keeps_history_by_target_id() {
    let doc = json!({"targets": [
        {"id": "a", "duplicates": {"window": 3600}},
        {"id": "b", "duplicates": {"window": 3600}}
    ]});
    let mut e = Engine::parse(doc.to_string().as_bytes(), "cfg.json", None).unwrap();
    connect(&mut e, "c1", "a", X, t("10:00:00"));
    connect(&mut e, "c2", "b", X, t("10:00:00"));
    // a patch shortens a's window: the history is kept, the new window reads it
    let patch = json!({"duplicates": {"basis": "connect", "window": 600}});
    e.patch(
        routecap_core::formats::source::OwnerKind::Target,
        "a",
        &patch,
        "patch",
        "2026-11-23T00:00:00Z".parse().unwrap(),
    )
    .unwrap();
    assert_eq!(
        reasons(&e, X, t("10:09:59"))["a"][0]["until"],
        "2026-11-23T10:10:00Z"
    );
    assert_eq!(reasons(&e, X, t("10:10:00"))["a"], json!([]));
    let patch = json!({"duplicates": {"basis": "connect", "window": 3600}});
    e.patch(
        routecap_core::formats::source::OwnerKind::Target,
        "a",
        &patch,
        "patch",
        "2026-11-23T00:00:00Z".parse().unwrap(),
    )
    .unwrap();
    // b is removed, a moves to index 1 behind a new target
    let next = native(json!({"targets": [
        {"id": "z"},
        {"id": "a", "duplicates": {"window": 3600}}
    ]}));
    e.update(next, "2026-11-23T00:00:00Z".parse().unwrap());
    assert_eq!(
        reasons(&e, X, t("10:30:00"))["a"][0]["code"],
        "duplicate_caller"
    );
    assert_eq!(reasons(&e, X, t("10:30:00"))["z"], json!([]));
    assert_eq!(e.state().callers().visits(X).len(), 1);
}

#[test]
fn simultaneous_groups_ring_only_members_the_rules_allow() {
    let mut e = Engine::new(native(json!({
        "repeat_callers": {"mode": "different", "window": 3600},
        "targets": [{"id": "a"}, {"id": "b"}],
        "groups": [{"id": "g", "members": ["a", "b"], "mode": "simultaneous"}]
    })));
    connect(&mut e, "c1", "a", X, t("10:00:00"));
    let view = e
        .route(
            &Call::with_attrs("", call(X).clone()),
            t("10:10:00"),
            &mut Draws::new(1),
        )
        .unwrap();
    let v = serde_json::to_value(&view).unwrap();
    assert_eq!(v["plan"][0]["targets"], json!(["b"]));
    let view = e
        .route(
            &Call::with_attrs("", call(Y).clone()),
            t("10:10:00"),
            &mut Draws::new(1),
        )
        .unwrap();
    let v = serde_json::to_value(&view).unwrap();
    assert_eq!(v["plan"][0]["targets"], json!(["a", "b"]));
}

#[test]
fn bad_rules_are_refused_with_path_value_and_what_is_allowed() {
    let one = |rule: Value| json!({"targets": [{"id": "a", "duplicates": rule}]});
    assert_eq!(
        err(one(json!({"basis": "answer", "window": 60}))),
        "cfg.json: targets[0].duplicates.basis: \"answer\" is not a duplicate basis (\"connect\" or \"convert\")"
    );
    assert_eq!(
        err(one(json!({"window": 0}))),
        "cfg.json: targets[0].duplicates.window: 0 is not a window (whole seconds, an integer from 1 to 315576000)"
    );
    assert_eq!(
        err(one(json!({"basis": "connect"}))),
        "cfg.json: targets[0].duplicates.window: is missing: whole seconds, an integer from 1 to 315576000"
    );
    assert_eq!(
        err(one(json!(3600))),
        "cfg.json: targets[0].duplicates: 3600 is not a duplicates rule (an object {\"basis\": \"connect\" | \"convert\", \"window\": seconds})"
    );
    assert_eq!(
        err(json!({"repeat_callers": {"mode": "same", "window": 60}, "targets": []})),
        "cfg.json: repeat_callers.mode: \"same\" is not a repeat-caller mode (\"normal\", \"original\" or \"different\")"
    );
    assert_eq!(
        err(json!({"repeat_callers": {"mode": "original"}, "targets": []})),
        "cfg.json: repeat_callers.window: is missing: whole seconds, an integer from 1 to 315576000"
    );
    assert_eq!(
        err(json!({"targets": [{"id": "a"}], "campaigns": [{"id": "k", "candidates": ["a"],
            "repeat_callers": {"mode": "different", "window": 1.5}}]})),
        "cfg.json: campaigns[0].repeat_callers.window: 1.5 is not a window (whole seconds, an integer from 1 to 315576000)"
    );
}

#[test]
fn route_with_call_applies_campaigns_and_ends_with_the_fallback() {
    let e = Engine::new(native(json!({
        "targets": [
            {"id": "a", "filter": {"any_of": [{"all_of": [{"tag": "state", "op": "in", "value": "nc"}]}]}},
            {"id": "b"},
            {"id": "spare", "priority": 9}
        ],
        "campaigns": [
            {"id": "nc", "candidates": ["a"], "fallback": "spare"},
            {"id": "tx", "candidates": ["a", "b"],
             "filter": {"any_of": [{"all_of": [{"tag": "state", "op": "in", "value": "tx"}]}]}}
        ]
    })));
    let mut router = e.router();
    let at = t("10:00:00");
    let ids = |config: &Config, steps: Vec<Step<'_>>| -> Vec<String> {
        steps
            .iter()
            .map(|s| match *s {
                Step::Target(t) => config.targets[t].id.clone(),
                Step::Group { group, .. } => config.groups[group].id.clone(),
            })
            .collect()
    };
    let run = |router: &mut route::Router, attrs: &CallAttrs| {
        let mut rng = route::rng_from_seed(3);
        e.route_with(
            router,
            &Call::with_attrs("", attrs.clone()),
            at,
            &mut rng,
            |config, reports, plan| {
                let fallback = plan.fallback().map(|f| config.targets[f].id.clone());
                (reports.len(), ids(config, plan.collect()), fallback)
            },
        )
    };
    // the campaign's candidates only, then its fallback
    let nc = CallAttrs::new().with_tag("state", "nc").with_campaign("nc");
    assert_eq!(
        run(&mut router, &nc).unwrap(),
        (
            1,
            vec!["a".to_string(), "spare".to_string()],
            Some("spare".to_string())
        )
    );
    // a filtered-out candidate leaves the fallback alone
    let other = CallAttrs::new().with_tag("state", "ga").with_campaign("nc");
    assert_eq!(
        run(&mut router, &other).unwrap(),
        (1, vec!["spare".to_string()], Some("spare".to_string()))
    );
    // a campaign whose filter refuses the call: nothing to ring
    let tx = CallAttrs::new().with_tag("state", "ga").with_campaign("tx");
    assert_eq!(run(&mut router, &tx).unwrap(), (0, vec![], None));
    // without a campaign: the default candidates
    let plain = CallAttrs::new().with_tag("state", "nc");
    assert_eq!(run(&mut router, &plain).unwrap().0, 3);
    // an unknown campaign is an error, as everywhere
    let unknown = CallAttrs::new().with_campaign("nope");
    assert_eq!(
        run(&mut router, &unknown).unwrap_err().to_string(),
        "unknown campaign \"nope\""
    );
    // the same answers as route_view_call
    let mut e2 = Engine::new(e.config().clone());
    let view = e2
        .route(&Call::with_attrs("", nc.clone()), at, &mut Draws::new(3))
        .unwrap();
    let v = serde_json::to_value(&view).unwrap();
    assert_eq!(
        v["plan"][1],
        json!({"target": "spare", "timeout_seconds": 30, "fallback": true})
    );
    // routeMany: a call with only the fallback to ring rings it first
    let counts = e
        .first_counts(&Call::with_attrs("", other.clone()), at, 0, 10)
        .unwrap();
    assert_eq!(counts.none, 0);
    assert!(
        counts.first.contains(&("spare".to_string(), 10)),
        "{counts:?}"
    );
}

/// One step of the law test: `(caller, target, seconds since the last)`.
fn events() -> impl Strategy<Value = Vec<(usize, usize, u32)>> {
    prop::collection::vec((0usize..4, 0usize..3, 0u32..2400), 1..60)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 120, ..ProptestConfig::default() })]

    /// A caller never connects to a target inside its duplicate window
    /// (the last accepted connect of that caller there + window), every
    /// connect outside it is accepted, and after each event the history
    /// holds only what the window can still see.
    #[test]
    fn duplicate_windows_hold_and_history_stays_bounded(evs in events(), w in 1u64..7200) {
        let config = native(json!({"targets": [
            {"id": "t0", "duplicates": {"window": w}},
            {"id": "t1", "duplicates": {"window": w}},
            {"id": "t2", "duplicates": {"window": w}}
        ]}));
        let mut e = Engine::new(config);
        let callers = ["+1", "+2", "+3", "anonymous"];
        let mut last: std::collections::HashMap<(usize, usize), Instant> = Default::default();
        let mut now = t("00:00:00");
        for (i, &(c, tg, dt)) in evs.iter().enumerate() {
            now += chrono::TimeDelta::seconds(i64::from(dt));
            let id = format!("c{i}");
            let o = e.connect(&Call::with_attrs(id.clone(), call(callers[c])), &format!("t{tg}"), now).unwrap();
            let inside = c != 3 && last.get(&(c, tg)).is_some_and(|&l| {
                now < l + chrono::TimeDelta::seconds(w as i64)
            });
            match o {
                ConnectOutcome::Connected => {
                    prop_assert!(!inside, "connected inside the window at {now}");
                    if c != 3 {
                        last.insert((c, tg), now);
                    }
                }
                ConnectOutcome::Refused(r) => {
                    prop_assert!(inside, "refused outside the window: {r:?}");
                    prop_assert_eq!(r[0].until, Some(last[&(c, tg)] + chrono::TimeDelta::seconds(w as i64)));
                }
            }
            if e.end(&Call::new(id.clone()), now).is_err() {
                // refused: nothing changed, not even a sweep
                continue;
            }
            // bounded: only visits the window still sees (the sweep ran at `now`)
            let h = e.state().callers();
            for (_, v) in h.iter() {
                let l = v.last().unwrap();
                prop_assert!(l + chrono::TimeDelta::seconds(w as i64) > now);
            }
            let live = last.values().filter(|&&l| l + chrono::TimeDelta::seconds(w as i64) > now).count();
            prop_assert_eq!(h.len(), live);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 60, ..ProptestConfig::default() })]

    /// The reused router (kept reports, fast checker) and the one-shot
    /// check agree on every call, whoever calls in whatever order, and the
    /// plan is the one-shot plan with the original target first.
    #[test]
    fn the_router_agrees_with_the_one_shot_check(
        n in prop_oneof![Just(6usize), Just(40usize)],
        mode in prop_oneof![Just("original"), Just("different"), Just("normal")],
        evs in prop::collection::vec((0usize..3, 0usize..6, 0u32..900), 1..25),
        asks in prop::collection::vec((0usize..4, 0u32..900, 0u64..1000), 1..25),
    ) {
        let targets: Vec<Value> = (0..n)
            .map(|i| {
                let mut t = json!({"id": format!("t{i}"), "priority": i % 3});
                if i % 2 == 0 {
                    t["duplicates"] = json!({"basis": "connect", "window": 1800});
                }
                t
            })
            .collect();
        let config = native(json!({
            "repeat_callers": {"mode": mode, "window": 3600},
            "targets": targets
        }));
        let callers = ["+1", "+2", "+3", "anonymous"];
        let mut e = Engine::new(config.clone());
        let mut now = t("00:00:00");
        for (i, &(c, tg, dt)) in evs.iter().enumerate() {
            now += chrono::TimeDelta::seconds(i64::from(dt));
            e.connect(&Call::with_attrs(format!("c{i}"), call(callers[c]).clone()), &format!("t{tg}"), now).unwrap();
        }
        let mut router = e.router();
        for &(c, dt, seed) in &asks {
            now += chrono::TimeDelta::seconds(i64::from(dt));
            let attrs = call(callers[c]);
            let (fast, plan) = e
                .route_with(&mut router, &Call::with_attrs("", attrs.clone()), now, &mut route::rng_from_seed(seed), |_, reports, plan| {
                    (reports.to_vec(), plan.map(|s| s.candidate()).collect::<Vec<_>>())
                })
                .unwrap();
            let history = e.state().callers();
            let once = routecap_core::eligibility::check_seen(&config, e.state(), now, None, &attrs, history);
            prop_assert_eq!(&fast, &once);
            let first = routecap_core::eligibility::original_report(&config, history, &attrs, now, &once);
            let want: Vec<_> = route::plan_first(&config, &once, first, &mut route::rng_from_seed(seed))
                .iter()
                .map(|s| s.candidate())
                .collect();
            prop_assert_eq!(plan, want);
        }
    }
}
