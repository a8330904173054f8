//! Live config changes on a running engine, with exact UTC instants:
//! pause/resume, cap changes against the counters already there, removing
//! and re-adding ids, patches in each shape, restore against a changed
//! config, and failed changes that change nothing.

use routecap_core::carry_over::Dropped;
use routecap_core::engine::{Engine, EngineError};
use routecap_core::formats::source::OwnerKind;
use routecap_core::lifecycle::ConnectOutcome;
use routecap_core::render::UsageAmount;
use routecap_core::snapshot::Snapshot;
use routecap_core::zone::Instant;
use routecap_core::Call;
use serde_json::json;

pub(crate) fn at(s: &str) -> Instant {
    s.parse().unwrap()
}

pub(crate) fn engine(doc: serde_json::Value) -> Engine {
    Engine::parse(doc.to_string().as_bytes(), "t.json", None).unwrap()
}

/// What counts against cap `cap` of owner `id` at `t`, from the usage view.
pub(crate) fn used(e: &Engine, t: Instant, id: &str, cap: &str) -> UsageAmount {
    let view = e.usage(t);
    let owner = view.owners.iter().find(|o| o.id == id).unwrap();
    owner
        .caps
        .iter()
        .find(|c| c.cap == cap)
        .unwrap_or_else(|| panic!("{id} has no {cap} cap"))
        .used
        .clone()
}

pub(crate) fn count(e: &Engine, t: Instant, id: &str, cap: &str) -> u64 {
    match used(e, t, id, cap) {
        UsageAmount::Count(n) => n,
        UsageAmount::Money(m) => panic!("{cap} is money: {m}"),
    }
}

fn connects(e: &mut Engine, call: &str, target: &str, t: Instant) -> bool {
    matches!(
        e.connect(&Call::new(call), target, t),
        Ok(ConnectOutcome::Connected)
    )
}

fn base() -> serde_json::Value {
    json!({
        "as_of": "2026-11-23T08:00:00Z",
        "targets": [
            {"id": "a", "time_zone": "America/New_York", "caps": {"daily": 3, "concurrency": 5},
             "usage": {"daily": 1}},
            {"id": "b", "caps": {"daily": 10}, "usage": {"daily": 4, "total": 9}}
        ],
        "groups": [{"id": "g", "members": ["a", "b"], "caps": {"daily": 100}}]
    })
}

const T0: &str = "2026-11-23T15:00:00Z";

#[test]
fn pause_mid_day_keeps_todays_counts_and_resume_restores_them() {
    let mut e = engine(base());
    let t = at(T0);
    assert!(connects(&mut e, "c1", "a", t));
    assert_eq!(count(&e, t, "a", "daily"), 2);
    e.set_paused(OwnerKind::Target, "a", true).unwrap();
    assert!(e.config().targets[0].paused);
    let later = at("2026-11-23T16:00:00Z");
    assert!(!connects(&mut e, "c2", "a", later), "paused");
    assert_eq!(count(&e, later, "a", "daily"), 2, "pausing keeps the count");
    assert_eq!(
        e.state()
            .usage(
                e.config(),
                routecap_core::model::CandidateRef::Target(0),
                later
            )
            .live,
        1
    );
    e.set_paused(OwnerKind::Target, "a", false).unwrap();
    assert_eq!(count(&e, later, "a", "daily"), 2, "resume: same counts");
    assert!(connects(&mut e, "c2", "a", later));
    assert_eq!(count(&e, later, "a", "daily"), 3);
    assert_eq!(
        count(&e, later, "g", "daily"),
        2,
        "the group counted both calls"
    );
}

#[test]
fn pausing_a_group_pauses_its_members() {
    let mut e = engine(base());
    e.set_paused(OwnerKind::Group, "g", true).unwrap();
    assert!(e.config().targets.iter().all(|t| t.paused));
    e.set_paused(OwnerKind::Group, "g", false).unwrap();
    assert!(e.config().targets.iter().all(|t| !t.paused));
    assert_eq!(
        e.set_paused(OwnerKind::Group, "nope", true),
        Err(EngineError::UnknownGroup("nope".into()))
    );
}

#[test]
fn raising_a_daily_cap_reopens_at_once_and_lowering_it_closes() {
    let mut e = engine(base());
    let t = at(T0);
    assert!(connects(&mut e, "c1", "a", t));
    assert!(connects(&mut e, "c2", "a", t));
    assert!(
        !connects(&mut e, "c3", "a", t),
        "daily 3 reached (1 imported + 2)"
    );
    e.patch(
        OwnerKind::Target,
        "a",
        &json!({"caps": {"daily": 4, "concurrency": 5}}),
        "p",
        "2026-11-23T00:00:00Z".parse().unwrap(),
    )
    .unwrap();
    assert_eq!(count(&e, t, "a", "daily"), 3, "counters kept");
    assert!(connects(&mut e, "c3", "a", t), "raised: open at once");
    assert!(!connects(&mut e, "c4", "a", t));
    e.patch(
        OwnerKind::Target,
        "a",
        &json!({"caps": {"daily": 2}}),
        "p",
        "2026-11-23T00:00:00Z".parse().unwrap(),
    )
    .unwrap();
    let reasons = &e.reports(&Call::default(), t).unwrap()[0].reasons;
    assert_eq!(reasons[0].code_string(), "daily_cap");
    // the next local day opens again: midnight in New York is 05:00Z
    assert!(connects(&mut e, "c5", "a", at("2026-11-24T05:00:00Z")));
}

#[test]
fn removing_and_readding_an_id_drops_its_state_and_restarts_from_imported_usage() {
    let mut e = engine(base());
    let t = at(T0);
    assert!(connects(&mut e, "c1", "b", t));
    assert!(e.reserve(&Call::new("r1"), "b", 600, t).is_ok());
    assert_eq!(count(&e, t, "b", "daily"), 6, "4 imported + 1 + 1 held");
    let mut without_b = base();
    without_b["targets"].as_array_mut().unwrap().remove(1);
    without_b["groups"][0]["members"] = json!(["a"]);
    let dropped = e
        .replace_config(
            &without_b,
            "new.json",
            None,
            "2026-11-23T00:00:00Z".parse().unwrap(),
        )
        .unwrap();
    assert_eq!(
        dropped,
        Dropped {
            targets: vec!["b".into()],
            groups: vec![],
            calls: vec!["r1".into()]
        }
    );
    assert_eq!(
        count(&e, t, "g", "daily"),
        1,
        "group history stays (the hold went with r1)"
    );
    // the live call on the removed target may still end; it cannot convert
    assert!(matches!(
        e.convert(&Call::new("c1"), routecap_core::money::Money(100), t),
        Err(EngineError::Lifecycle(_))
    ));
    e.end(&Call::new("c1"), t).unwrap();
    // re-added: it starts from the new config's imported usage
    let mut back = base();
    back["targets"][1]["usage"] = json!({"daily": 7});
    e.replace_config(
        &back,
        "back.json",
        None,
        "2026-11-23T00:00:00Z".parse().unwrap(),
    )
    .unwrap();
    assert_eq!(count(&e, t, "b", "daily"), 7);
    assert_eq!(e.usage(t).owners[1].live, 0);
}

#[test]
fn a_group_membership_change_moves_live_calls_with_the_members() {
    let mut doc = base();
    doc["groups"][0]["caps"] = json!({"concurrency": 1});
    let mut e = engine(doc.clone());
    let t = at(T0);
    assert!(connects(&mut e, "c1", "b", t));
    assert!(
        !connects(&mut e, "c2", "a", t),
        "group concurrency 1 taken by b"
    );
    doc["groups"][0]["members"] = json!(["a"]);
    e.replace_config(
        &doc,
        "new.json",
        None,
        "2026-11-23T00:00:00Z".parse().unwrap(),
    )
    .unwrap();
    assert_eq!(
        count(&e, t, "g", "concurrency"),
        0,
        "b's live call left with b"
    );
    assert!(connects(&mut e, "c2", "a", t));
    // b's call ends: the group is untouched
    e.end(&Call::new("c1"), t).unwrap();
    assert_eq!(count(&e, t, "g", "concurrency"), 1);
}

#[test]
fn failed_changes_change_nothing() {
    let mut e = engine(base());
    let t = at(T0);
    assert!(connects(&mut e, "c1", "a", t));
    let (snap, config) = (e.snapshot(), e.config().clone());
    let unknown = e
        .patch(
            OwnerKind::Target,
            "a",
            &json!({"colour": "red"}),
            "p",
            "2026-11-23T00:00:00Z".parse().unwrap(),
        )
        .unwrap_err()
        .to_string();
    assert!(
        unknown.starts_with(r#"p: patch.colour: "red" is not a field a routecap target patch can change (allowed: id, name,"#),
        "{unknown}"
    );
    let wrong = e
        .patch(
            OwnerKind::Target,
            "a",
            &json!({"caps": {"daily": -2}}),
            "p",
            "2026-11-23T00:00:00Z".parse().unwrap(),
        )
        .unwrap_err()
        .to_string();
    assert!(wrong.starts_with("p: patch.caps.daily: -2 "), "{wrong}");
    assert_eq!(
        e.patch(
            OwnerKind::Target,
            "zz",
            &json!({"paused": true}),
            "p",
            "2026-11-23T00:00:00Z".parse().unwrap()
        ),
        Err(EngineError::UnknownTarget("zz".into()))
    );
    let rename = e
        .patch(
            OwnerKind::Target,
            "a",
            &json!({"id": "x"}),
            "p",
            "2026-11-23T00:00:00Z".parse().unwrap(),
        )
        .unwrap_err()
        .to_string();
    assert!(rename.contains("cannot change the id"), "{rename}");
    let bad = e.replace_config(
        &json!({"targets": [{"id": 1.5}]}),
        "new.json",
        None,
        "2026-11-23T00:00:00Z".parse().unwrap(),
    );
    assert!(bad.is_err());
    let usage = e.import_usage(t, &json!({"a": {"daily": 0}, "ghost": {"daily": 1}}), "u");
    assert_eq!(
        usage.unwrap_err().to_string(),
        r#"usage import: unknown target or group "ghost"; nothing was applied"#
    );
    assert_eq!(e.snapshot(), snap);
    assert_eq!(**e.config(), *config);
}

#[test]
fn patching_an_engine_without_its_document_is_an_error() {
    let config =
        routecap_core::formats::parse_config(base().to_string().as_bytes(), "t", None).unwrap();
    let mut e = Engine::new(config);
    assert_eq!(
        e.patch(
            OwnerKind::Target,
            "a",
            &json!({"paused": true}),
            "p",
            "2026-11-23T00:00:00Z".parse().unwrap()
        ),
        Err(EngineError::NoSource)
    );
    // pause works on the config itself
    e.set_paused(OwnerKind::Target, "a", true).unwrap();
    assert!(e.config().targets[0].paused);
}

#[test]
fn restore_against_a_changed_config_keeps_known_ids_and_reports_the_rest() {
    let mut e = engine(base());
    let t = at(T0);
    assert!(connects(&mut e, "c1", "a", t));
    assert!(connects(&mut e, "c2", "b", t));
    let snap: Snapshot = e.snapshot();
    let mut changed = base();
    changed["targets"].as_array_mut().unwrap().remove(1);
    changed["groups"] = json!([]);
    let config =
        routecap_core::formats::parse_config(changed.to_string().as_bytes(), "t", None).unwrap();
    let (r, dropped) = Engine::restore_report(config, &snap).unwrap();
    assert_eq!(
        dropped,
        Dropped {
            targets: vec!["b".into()],
            groups: vec!["g".into()],
            calls: vec!["c2".into()]
        }
    );
    assert_eq!(count(&r, t, "a", "daily"), 2);
    assert_eq!(r.state().call_count(), 1);
}

#[test]
fn retreaver_patches_as_in_the_seeds_by_id_or_tid() {
    let doc = json!({"targets": [
        {"target": {"id": 22592, "tid": "support", "name": "Retreaver Support", "paused": false,
                    "caps": [{"type": "Hard", "cap": 1, "filled": 1}, {"type": "Daily", "cap": null, "filled": 0}]}}
    ]});
    let mut e = engine(doc);
    let t = at(T0);
    assert!(
        !e.reports(&Call::default(), t).unwrap()[0].eligible,
        "hard cap 1 filled"
    );
    e.patch(
        OwnerKind::Target,
        "22592",
        &json!({"target": {"hard_cap_attributes": {"cap": 100}}}),
        "p",
        "2026-11-23T00:00:00Z".parse().unwrap(),
    )
    .unwrap();
    assert_eq!(e.config().targets[0].limits().total, Some(100));
    assert!(e.reports(&Call::default(), t).unwrap()[0].eligible);
    assert_eq!(count(&e, t, "22592", "total"), 1);
    e.patch(
        OwnerKind::Target,
        "support",
        &json!({"target": {"paused": true}}),
        "p",
        "2026-11-23T00:00:00Z".parse().unwrap(),
    )
    .unwrap();
    assert!(e.config().targets[0].paused);
    e.patch(
        OwnerKind::Target,
        "support",
        &json!({"target": {"tag_list": "<<<calling_about:support>>>,<<<calling_about:other>>>"}}),
        "p",
        "2026-11-23T00:00:00Z".parse().unwrap(),
    )
    .unwrap();
    e.set_paused(OwnerKind::Target, "support", false).unwrap();
    assert!(!e.config().targets[0].paused);
    // lifecycle calls take the id or the tid, as every face does
    assert!(matches!(
        e.connect(&Call::new("c1"), "support", t),
        Ok(ConnectOutcome::Refused(_))
    ));
    assert!(e.connect(&Call::new("c1"), "nobody", t).is_err());
    let id = e.resolve(OwnerKind::Target, "support").unwrap();
    // the patched tag_list is the target's filter now: a call must be about
    // support or other
    assert!(!connects(&mut e, "c1", &id, t));
    let about = routecap_core::filter::CallAttrs::new().with_tag("calling_about", "support");
    assert!(matches!(
        e.connect(&Call::with_attrs("c1", about.clone()), &id, t),
        Ok(ConnectOutcome::Connected)
    ));
    assert_eq!(e.state().call("c1").unwrap().target, 0);
    assert_eq!(e.resolve(OwnerKind::Target, "support").unwrap(), "22592");
}

#[test]
fn ringba_patches_merge_into_the_schedule() {
    let doc = json!({"targets": [
        {"id": "TA1", "enabled": true, "schedule": {"timeZoneId": "Eastern Standard Time", "dailyCap": 2, "hourlyCap": 9}}
    ]});
    let mut e = engine(doc);
    e.patch(
        OwnerKind::Target,
        "TA1",
        &json!({"schedule": {"dailyCap": 5}}),
        "p",
        "2026-11-23T00:00:00Z".parse().unwrap(),
    )
    .unwrap();
    let t = &e.config().targets[0];
    assert_eq!((t.limits().daily, t.limits().hourly), (Some(5), Some(9)));
    assert_eq!(&*t.zone_name, "Eastern Standard Time");
    e.set_paused(OwnerKind::Target, "TA1", true).unwrap();
    assert!(e.config().targets[0].paused);
    let group = e
        .patch(
            OwnerKind::Group,
            "G",
            &json!({"name": "x"}),
            "p",
            "2026-11-23T00:00:00Z".parse().unwrap(),
        )
        .unwrap_err();
    assert_eq!(group, EngineError::UnknownGroup("G".into()));
}

fn fixture(name: &str) -> serde_json::Value {
    let path = format!("{}/../../tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn a_bare_array_of_ringba_targets_is_accepted() {
    let list = fixture("ringba-get-targets.json")["targets"].clone();
    assert!(list.is_array());
    let bytes = list.to_string();
    assert_eq!(
        routecap_core::formats::detect(&list),
        Some(routecap_core::formats::Format::Ringba)
    );
    let config = routecap_core::formats::parse_config(bytes.as_bytes(), "list.json", None).unwrap();
    assert_eq!(config.targets[0].id, "TA2f6961e921ef4b92b7304dd76db8336f");
}

#[test]
fn ringba_group_caps_come_from_the_group_caps_entry() {
    let mut doc = fixture("ringba-get-target-with-stats.json");
    // as the fixture: not a group entry, so the group has no caps
    let config =
        routecap_core::formats::parse_value(&doc, "t.json", routecap_core::formats::Format::Ringba)
            .unwrap();
    assert_eq!(config.groups.len(), 1);
    assert!(config.groups[0].limits.is_unlimited());
    // the same response for the group: its caps are the group's
    doc["caps"] = json!({"hour": -1, "day": 40, "month": 900, "total": -1, "live": 3,
                         "hourSum": -1, "daySum": "250.00", "monthSum": -1, "totalSum": -1, "isGroup": true});
    let config =
        routecap_core::formats::parse_value(&doc, "t.json", routecap_core::formats::Format::Ringba)
            .unwrap();
    let g = &config.groups[0];
    assert_eq!(g.id, "TA234457e6f96945cfa312938d4e358015");
    assert_eq!(
        (
            g.limits.daily,
            g.limits.monthly,
            g.limits.concurrency,
            g.limits.hourly
        ),
        (Some(40), Some(900), Some(3), None)
    );
    assert_eq!(g.limits.daily_revenue.unwrap().to_string(), "250.00");
    doc["caps"]["day"] = json!(-5);
    let err =
        routecap_core::formats::parse_value(&doc, "t.json", routecap_core::formats::Format::Ringba)
            .unwrap_err();
    assert_eq!(err.path(), "caps.day");
}

mod failed_changes {
    use super::*;
    use proptest::prelude::*;

    /// Field names: known and unknown; values: right and wrong types.
    fn field() -> impl Strategy<Value = (String, serde_json::Value)> {
        let names = prop_oneof![
            Just("caps"),
            Just("paused"),
            Just("hours"),
            Just("priority"),
            Just("weight"),
            Just("time_zone"),
            Just("trigger"),
            Just("id"),
            Just("usage"),
            Just("colour")
        ];
        let values = prop_oneof![
            Just(json!(true)),
            Just(json!(-1)),
            Just(json!(2)),
            Just(json!("x")),
            Just(json!({"daily": 1})),
            Just(json!({"daily": "x"})),
            Just(json!([{"day": 9}])),
            Just(json!("America/New_York")),
            Just(json!(null)),
            Just(json!("convert"))
        ];
        (names, values).prop_map(|(n, v)| (n.to_string(), v))
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

        /// Any patch either applies or leaves config and state as they were.
        #[test]
        fn a_failed_patch_changes_nothing(fields in proptest::collection::vec(field(), 0..4), target in 0usize..3) {
            let mut e = engine(base());
            let t = at(T0);
            prop_assert!(connects(&mut e, "c1", "a", t));
            prop_assert!(e.reserve(&Call::new("r1"), "b", 60, t).is_ok());
            let (snap, config) = (e.snapshot(), e.config().clone());
            let patch: serde_json::Map<String, serde_json::Value> = fields.into_iter().collect();
            let name = ["a", "b", "zz"][target];
            match e.patch(OwnerKind::Target, name, &serde_json::Value::Object(patch), "p", "2026-11-23T00:00:00Z".parse().unwrap()) {
                Ok(dropped) => {
                    prop_assert!(dropped.is_empty());
                    prop_assert_eq!(e.state().call_count(), 2);
                }
                Err(_) => {
                    prop_assert_eq!(e.snapshot(), snap);
                    prop_assert_eq!(&**e.config(), &*config);
                }
            }
        }
    }
}

#[test]
fn retreaver_group_patch_keeps_the_group_counters() {
    let doc = json!({
        "targets": [{"target": {"id": 1, "caps": []}}, {"target": {"id": 2}}],
        "target_groups": [{"target_group": {"id": 9, "target_ids": [1, 2],
            "caps": [{"type": "Daily", "cap": 1, "filled": 0}]}}]
    });
    let mut e = engine(doc);
    let t = at(T0);
    assert!(connects(&mut e, "c1", "1", t));
    assert!(!connects(&mut e, "c2", "2", t), "group daily 1 reached");
    e.patch(
        OwnerKind::Group,
        "9",
        &json!({"target_group": {"daily_cap_attributes": {"cap": 2}}}),
        "p",
        "2026-11-23T00:00:00Z".parse().unwrap(),
    )
    .unwrap();
    assert_eq!(count(&e, t, "9", "daily"), 1);
    assert!(connects(&mut e, "c2", "2", t));
    let err = e
        .patch(
            OwnerKind::Group,
            "9",
            &json!({"paused": true}),
            "p",
            "2026-11-23T00:00:00Z".parse().unwrap(),
        )
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("is not a field a retreaver group patch can change"),
        "{err}"
    );
}

/// Patches are JSON Merge Patches (RFC 7396): objects merge field by
/// field, `null` removes, arrays and scalars replace; an invalid result is
/// refused whole, with the path inside the patch.
#[test]
fn patches_merge_field_by_field() {
    let doc = json!({"targets": [
        {"id": "a", "caps": {"daily": 5, "hourly": 2, "concurrency": 1},
         "hours": [{"day": 1, "open": "09:00", "close": "17:00"}]},
        {"id": "b"}
    ]});
    let mut e = engine(doc);
    let t = at(T0);
    e.patch(
        OwnerKind::Target,
        "a",
        &json!({"caps": {"concurrency": 10}}),
        "p",
        t,
    )
    .unwrap();
    let l = e.config().targets[0].limits();
    assert_eq!(
        (l.daily, l.hourly, l.concurrency),
        (Some(5), Some(2), Some(10))
    );
    // null removes one cap, the others stay
    e.patch(
        OwnerKind::Target,
        "a",
        &json!({"caps": {"hourly": null}}),
        "p",
        t,
    )
    .unwrap();
    let l = e.config().targets[0].limits();
    assert_eq!(
        (l.daily, l.hourly, l.concurrency),
        (Some(5), None, Some(10))
    );
    // an array replaces: Monday only becomes Tuesday only
    e.patch(
        OwnerKind::Target,
        "a",
        &json!({"hours": [{"day": 2, "open": "10:00", "close": "11:00"}]}),
        "p",
        t,
    )
    .unwrap();
    let doc = e.source().unwrap().document().clone();
    assert_eq!(
        doc["targets"][0]["hours"],
        json!([{"day": 2, "open": "10:00", "close": "11:00"}])
    );
    // null removes the hours: open all week
    e.patch(OwnerKind::Target, "a", &json!({"hours": null}), "p", t)
        .unwrap();
    assert!(e.source().unwrap().document()["targets"][0]
        .get("hours")
        .is_none());
    // an invalid result is refused whole, named inside the patch
    let before = e.source().unwrap().document().clone();
    let err = e
        .patch(
            OwnerKind::Target,
            "a",
            &json!({"paused": true, "caps": {"daily": "many"}}),
            "PATCH /v1/targets/a",
            t,
        )
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("PATCH /v1/targets/a: patch.caps.daily: \"many\" "),
        "{err}"
    );
    assert_eq!(e.source().unwrap().document(), &before);
    assert!(!e.config().targets[0].paused);
}

#[test]
fn merge_patch_follows_rfc_7396() {
    use routecap_core::formats::source::merge_patch;
    // the examples of RFC 7396 appendix A
    for (target, patch, result) in [
        (json!({"a": "b"}), json!({"a": "c"}), json!({"a": "c"})),
        (
            json!({"a": "b"}),
            json!({"b": "c"}),
            json!({"a": "b", "b": "c"}),
        ),
        (json!({"a": "b"}), json!({"a": null}), json!({})),
        (
            json!({"a": "b", "b": "c"}),
            json!({"a": null}),
            json!({"b": "c"}),
        ),
        (json!({"a": ["b"]}), json!({"a": "c"}), json!({"a": "c"})),
        (json!({"a": "c"}), json!({"a": ["b"]}), json!({"a": ["b"]})),
        (
            json!({"a": {"b": "c"}}),
            json!({"a": {"b": "d", "c": null}}),
            json!({"a": {"b": "d"}}),
        ),
        (
            json!({"a": [{"b": "c"}]}),
            json!({"a": [1]}),
            json!({"a": [1]}),
        ),
        (json!(["a", "b"]), json!(["c", "d"]), json!(["c", "d"])),
        (json!({"a": "b"}), json!(["c"]), json!(["c"])),
        (json!({"a": "foo"}), json!(null), json!(null)),
        (json!({"a": "foo"}), json!("bar"), json!("bar")),
        (
            json!({"e": null}),
            json!({"a": 1}),
            json!({"e": null, "a": 1}),
        ),
        (
            json!([1, 2]),
            json!({"a": "b", "c": null}),
            json!({"a": "b"}),
        ),
        (
            json!({}),
            json!({"a": {"bb": {"ccc": null}}}),
            json!({"a": {"bb": {}}}),
        ),
    ] {
        let mut v = target.clone();
        merge_patch(&mut v, &patch);
        assert_eq!(v, result, "{target} + {patch}");
    }
}
