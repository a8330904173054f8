//! Filters in the one eligibility path: reasons, details, group filters,
//! simultaneous groups, the cached checker agreeing with the one-shot
//! check call after call, connect re-checks, and the imports of whole configs.

use routecap_core::eligibility::{check, check_call, CandidateReport, Checker, Explainer};
use routecap_core::engine::Engine;
use routecap_core::filter::CallAttrs;
use routecap_core::formats::{parse_config, Format};
use routecap_core::lifecycle::ConnectOutcome;
use routecap_core::model::{CandidateRef, Config};
use routecap_core::route::Draws;
use routecap_core::route::{self, Router};
use routecap_core::zone::Instant;
use routecap_core::Call;
use serde_json::{json, Value};

fn at() -> Instant {
    "2026-11-23T15:00:00Z".parse().unwrap()
}

fn native(doc: Value) -> Config {
    parse_config(
        doc.to_string().as_bytes(),
        "cfg.json",
        Some(Format::Routecap),
    )
    .unwrap()
}

fn nc_only() -> Value {
    json!({"any_of": [{"all_of": [{"tag": "geo", "op": "in", "values": ["us-nc", "us-sc"]}]}]})
}

/// The detail a view shows for reason `i` of `rep` (decisions leave it
/// unwritten; the one-target re-check of connect writes it).
fn detail(config: &Config, call: &CallAttrs, rep: &CandidateReport, i: usize) -> Option<String> {
    assert_eq!(rep.reasons[i].detail, None);
    Explainer::new(config, call).detail(rep.candidate, &rep.reasons[i])
}

fn codes(rep: &CandidateReport) -> Vec<String> {
    rep.reasons.iter().map(|r| r.code_string()).collect()
}

fn nc_call() -> CallAttrs {
    CallAttrs::new().with_tag("geo", "301,us,us-28379,us-nc")
}

fn tx_call() -> CallAttrs {
    CallAttrs::new().with_tag("geo", "512,us,us-78701,us-tx")
}

#[test]
fn a_target_filter_rejects_with_a_detail_and_no_until() {
    let config = native(json!({"targets": [
        {"id": "a", "filter": nc_only()},
        {"id": "b", "filter": {"any_of": [{"all_of": [{"tag": "geo", "op": "not_in", "values": ["us-nc"]}]}]}},
        {"id": "c"}
    ]}));
    let engine = Engine::new(config.clone());
    let reps = check_call(&config, engine.state(), at(), &tx_call());
    assert_eq!(codes(&reps[0]), ["filter_mismatch"]);
    assert!(!reps[0].eligible);
    assert_eq!(reps[0].reasons[0].until, None);
    assert_eq!(
        detail(&config, &tx_call(), &reps[0], 0).as_deref(),
        Some("geo in [us-nc, us-sc]: call has geo = [512, us, us-78701, us-tx]")
    );
    assert!(reps[1].eligible && reps[2].eligible);

    let reps = check_call(&config, engine.state(), at(), &nc_call());
    assert!(reps[0].eligible);
    assert_eq!(codes(&reps[1]), ["filter_mismatch"]);
    assert_eq!(
        detail(&config, &nc_call(), &reps[1], 0).as_deref(),
        Some("geo not_in [us-nc]: call has geo = [301, us, us-28379, us-nc]")
    );

    // no attributes: a call with no tags (fails `in`, passes `not_in`)
    let reps = check(&config, engine.state(), at());
    assert_eq!(codes(&reps[0]), ["filter_mismatch"]);
    assert_eq!(
        detail(&config, &CallAttrs::new(), &reps[0], 0).as_deref(),
        Some("geo in [us-nc, us-sc]: call has no geo")
    );
    assert!(reps[1].eligible);
}

#[test]
fn call_reasons_follow_the_owners_state_reasons() {
    let config = native(json!({"targets": [
        {"id": "a", "paused": true, "filter": nc_only(), "caps": {"total": 0}}
    ], "groups": [{"id": "g", "members": ["a"], "caps": {"daily": 0}, "filter": nc_only()}]}));
    let engine = Engine::new(config.clone());
    let reps = check_call(&config, engine.state(), at(), &tx_call());
    assert_eq!(
        codes(&reps[0]),
        [
            "paused",
            "total_cap",
            "group_daily_cap",
            "filter_mismatch",
            "group_filter_mismatch"
        ]
    );
    assert_eq!(reps[0].reasons[4].group, Some(0));
}

#[test]
fn a_containing_group_filter_gives_group_filter_mismatch_with_its_id() {
    let config = native(json!({"targets": [{"id": "a"}, {"id": "b"}],
        "groups": [{"id": "east", "members": ["a"], "filter": nc_only()}]}));
    let mut engine = Engine::new(config);
    let view = engine
        .check(&Call::with_attrs("", tx_call().clone()), at())
        .unwrap();
    let a = serde_json::to_value(&view.candidates[0]).unwrap();
    assert_eq!(
        a["reasons"],
        json!([{"code": "group_filter_mismatch", "group": "east", "until": null,
                "detail": "geo in [us-nc, us-sc]: call has geo = [512, us, us-78701, us-tx]"}])
    );
    assert!(view.candidates[1].eligible);
    let route = engine
        .route(
            &Call::with_attrs("", tx_call().clone()),
            at(),
            &mut Draws::new(3),
        )
        .unwrap();
    let json = serde_json::to_value(&route).unwrap();
    assert_eq!(
        json["plan"],
        json!([{"target": "b", "timeout_seconds": 30}])
    );
    assert_eq!(json["rejected"][0]["id"], "a");
    let route = engine
        .route(
            &Call::with_attrs("", nc_call().clone()),
            at(),
            &mut Draws::new(3),
        )
        .unwrap();
    assert_eq!(route.plan.len(), 2);
}

#[test]
fn a_simultaneous_group_filter_applies_to_the_group_step() {
    let config = native(json!({"targets": [
            {"id": "a"}, {"id": "b", "filter": {"any_of": [{"all_of": [
                {"tag": "age", "op": "gte", "value": 65, "kind": "number"}]}]}}],
        "groups": [{"id": "sim", "members": ["a", "b"], "mode": "simultaneous", "filter": nc_only()}]}));
    let engine = Engine::new(config.clone());
    let reps = check_call(
        &config,
        engine.state(),
        at(),
        &tx_call().with_tag("age", "70"),
    );
    assert_eq!(reps.len(), 1);
    assert_eq!(reps[0].candidate, CandidateRef::Group(0));
    assert_eq!(codes(&reps[0]), ["filter_mismatch"]);
    // the group's verdict does not change who could ring
    assert_eq!(reps[0].eligible_members, [0, 1]);

    let call = nc_call().with_tag("age", "64");
    let reps = check_call(&config, engine.state(), at(), &call);
    assert!(reps[0].eligible);
    assert_eq!(reps[0].eligible_members, [0]);
    let call = nc_call().with_tag("age", "64.5").with_tag("age", "65.0");
    let reps = check_call(&config, engine.state(), at(), &call);
    assert_eq!(reps[0].eligible_members, [0, 1]);
}

/// 40 targets (the cached checker's size), filters over a few states, some
/// in groups: the router's reports equal the one-shot check for a sequence
/// of different calls at one instant (kept reports get the new call's
/// filter verdicts).
#[test]
fn the_cached_checker_agrees_call_after_call() {
    let states = ["us-nc", "us-sc", "us-tx", "us-ca"];
    let targets: Vec<Value> = (0..40)
        .map(|i| {
            let mut t = json!({"id": format!("t{i}"), "priority": i % 3, "weight": 1 + i});
            if i % 4 != 3 {
                t["filter"] = json!({"any_of": [{"all_of": [
                    {"tag": "geo", "op": "in", "values": [states[i % 4]]}]}]});
            }
            if i == 5 {
                t["caps"] = json!({"total": 0});
            }
            t
        })
        .collect();
    let config = native(json!({"targets": targets, "groups": [
        {"id": "g", "members": ["t0", "t1", "t2"], "filter": {"any_of": [{"all_of": [
            {"tag": "topic", "op": "exists"}]}]}}]}));
    let engine = Engine::new(config.clone());
    let mut router = Router::new(&config);
    let mut checker = Checker::new(&config);
    let calls = [
        nc_call(),
        tx_call(),
        CallAttrs::new(),
        nc_call().with_tag("topic", "medicare"),
        CallAttrs::new().with_tag("geo", "us-ca"),
        nc_call(),
    ];
    for (k, call) in calls.iter().chain(calls.iter()).enumerate() {
        let want = check_call(&config, engine.state(), at(), call);
        assert_eq!(
            checker.check_call(&config, engine.state(), at(), call),
            &want[..],
            "call {k}"
        );
        let mut rng = route::rng_from_seed(k as u64);
        let (reports, plan) = router.route_call(&config, engine.state(), at(), call, &mut rng);
        assert_eq!(reports, &want[..], "call {k}");
        let steps: Vec<_> = plan.collect();
        let expected = route::plan(&config, &want, &mut route::rng_from_seed(k as u64));
        assert_eq!(steps, expected, "call {k}");
    }
}

#[test]
fn connect_rechecks_filters_on_the_call_attributes() {
    let config = native(json!({"targets": [{"id": "a", "filter": nc_only()}]}));
    let mut engine = Engine::new(config);
    match engine
        .connect(&Call::with_attrs("c1", tx_call().clone()), "a", at())
        .unwrap()
    {
        ConnectOutcome::Refused(r) => {
            assert_eq!(r[0].code_string(), "filter_mismatch");
            assert_eq!(
                r[0].detail.as_deref(),
                Some("geo in [us-nc, us-sc]: call has geo = [512, us, us-78701, us-tx]")
            );
        }
        ConnectOutcome::Connected => panic!("a Texas call took a North Carolina buyer"),
    }
    assert!(matches!(
        engine.connect(&Call::new("c1"), "a", at()).unwrap(),
        ConnectOutcome::Refused(_)
    ));
    assert_eq!(
        engine.connect(&Call::with_attrs("c1", nc_call().clone()), "a", at()),
        Ok(ConnectOutcome::Connected)
    );
}

#[test]
fn retreaver_tag_values_and_tag_list_import_through_a_whole_config() {
    let doc = json!({"targets": [
        {"target": {"id": 11, "number": "+18005550100", "timeout_seconds": 15,
            "tag_values": [
                {"key": "calling_about", "value": "support", "operator": "=="},
                {"key": "calling_about", "value": "sales", "operator": "=="},
                {"key": "geo", "value": "us-tx", "operator": "!="},
                {"key": "age", "value": "18", "operator": ">"}]}},
        {"target": {"id": 12, "tag_list": "<<<calling_about:support>>>,<<<calling_about:other>>>"}}
    ]});
    let config = parse_config(doc.to_string().as_bytes(), "r.json", None).unwrap();
    assert_eq!(config.targets[0].timeout_seconds(), Some(15));
    let engine = Engine::new(config.clone());
    let call = CallAttrs::new()
        .with_tag("calling_about", "Sales")
        .with_tag("geo", "919,us,us-27601,us-nc")
        .with_tag("age", "40");
    let reps = check_call(&config, engine.state(), at(), &call);
    assert!(reps[0].eligible, "{:?}", reps[0].reasons);
    assert_eq!(
        detail(&config, &call, &reps[1], 0).as_deref(),
        Some("calling_about in [support, other]: call has calling_about = [Sales]")
    );
    let call = call.with_tag("geo", "us-tx");
    let reps = check_call(&config, engine.state(), at(), &call);
    assert_eq!(
        detail(&config, &call, &reps[0], 0).as_deref(),
        Some("geo not_in [us-tx]: call has geo = [919, us, us-27601, us-nc, us-tx]")
    );
}

#[test]
fn ringba_criteria_import_through_a_whole_config() {
    let doc = json!({"targets": [
        {"id": "TA1", "name": "Medicare", "enabled": true,
         "instructions": {"callType": "Number", "number": "+18005550100", "connectionTimeOut": 45},
         "criteria": [
            {"tagCriteria": [
                {"tagName": "InboundNumber:State", "comparisonType": "EQUALS", "value": "NC"},
                {"tagName": "age", "comparisonType": "GREATER_THAN", "value": "64", "isNumber": true}]},
            {"tagCriteria": [
                {"tagName": "topic", "comparisonType": "BEGINS_WITH", "value": "medi", "isNegativeMatch": true}]}]},
        {"id": "TA2", "instructions": {"connectionTimeOut": 0}}
    ]});
    let config = parse_config(doc.to_string().as_bytes(), "g.json", Some(Format::Ringba)).unwrap();
    assert_eq!(config.targets[0].timeout_seconds(), Some(45));
    assert_eq!(config.targets[1].timeout_seconds(), None);
    let engine = Engine::new(config.clone());
    let medicare = CallAttrs::new().with_tag("topic", "medicare");
    let reps = check_call(&config, engine.state(), at(), &medicare);
    // first rule's first failing condition
    assert_eq!(
        detail(&config, &medicare, &reps[0], 0).as_deref(),
        Some("InboundNumber:State in [NC]: call has no InboundNumber:State")
    );
    let older = medicare
        .with_tag("InboundNumber:State", "nc")
        .with_tag("age", "65");
    assert!(check_call(&config, engine.state(), at(), &older)[0].eligible);
    // second rule: any topic not starting with medi
    let other = CallAttrs::new().with_tag("topic", "auto");
    assert!(check_call(&config, engine.state(), at(), &other)[0].eligible);
}

#[test]
fn invalid_filters_name_their_config_path() {
    let bad = |doc: Value, format| {
        parse_config(doc.to_string().as_bytes(), "cfg.json", format).unwrap_err()
    };
    let e = bad(
        json!({"targets": [{"id": "a"}, {"id": "b", "filter": {"any_of": []}}]}),
        Some(Format::Routecap),
    );
    assert_eq!(e.path(), "targets[1].filter.any_of");
    let e = bad(
        json!({"targets": [{"id": "a"}], "groups": [{"id": "g", "members": ["a"],
            "filter": {"any_of": [{"all_of": [{"tag": "geo", "op": "near", "value": "x"}]}]}}]}),
        Some(Format::Routecap),
    );
    assert_eq!(e.path(), "groups[0].filter.any_of[0].all_of[0].op");
    assert!(e.to_string().contains("\"near\""), "{e}");
    let e = bad(
        json!({"targets": [{"id": 1, "tag_values": [{"key": "k", "value": "v", "operator": "~"}]}]}),
        Some(Format::Retreaver),
    );
    assert_eq!(e.path(), "targets[0].tag_values[0].operator");
    let e = bad(
        json!({"targets": [{"id": "T", "criteria": [{"tagCriteria": [
            {"tagName": "x", "comparisonType": "LIKE", "value": "v"}]}]}]}),
        Some(Format::Ringba),
    );
    assert_eq!(
        e.path(),
        "targets[0].criteria[0].tagCriteria[0].comparisonType"
    );
    let e = bad(
        json!({"targets": [{"id": "a", "timeout_seconds": 0}]}),
        Some(Format::Routecap),
    );
    assert_eq!(e.path(), "targets[0].timeout_seconds");
}

#[test]
fn step_timeouts_default_to_30_and_groups_use_their_own_else_the_largest_member() {
    let config = native(json!({"targets": [
            {"id": "a", "timeout_seconds": 12}, {"id": "b", "timeout_seconds": 40},
            {"id": "c"}, {"id": "d", "timeout_seconds": 50, "caps": {"total": 0}}],
        "groups": [
            {"id": "own", "members": ["a"], "mode": "simultaneous", "timeout_seconds": 25},
            {"id": "largest", "members": ["b", "c", "d"], "mode": "simultaneous"}]}));
    let mut engine = Engine::new(config);
    let view = serde_json::to_value(
        engine
            .route(&Call::default(), at(), &mut Draws::new(1))
            .unwrap(),
    )
    .unwrap();
    let mut plan: Vec<Value> = view["plan"].as_array().unwrap().clone();
    plan.sort_by_key(|s| s["group"].as_str().unwrap().to_string());
    // `largest` rings b and c (d is capped): 40, not d's 50
    assert_eq!(
        plan,
        [
            json!({"group": "largest", "targets": ["b", "c"], "timeout_seconds": 40}),
            json!({"group": "own", "targets": ["a"], "timeout_seconds": 25})
        ]
    );
    let e = Engine::new(native(json!({"targets": [{"id": "x"}]})));
    let reports = e.reports(&Call::default(), at()).unwrap();
    let steps = route::plan(e.config(), &reports, &mut route::rng_from_seed(0));
    assert_eq!(route::step_timeout(e.config(), &steps[0]), 30);
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 80, ..Default::default() })]

    /// Kept reports of ungrouped targets (capped, paused, with hours or
    /// not) only get the new call's filter verdict set or cleared: a
    /// reused router and checker agree with the one-shot check for any
    /// sequence of calls, connects and instants (time may go back).
    #[test]
    fn kept_reports_follow_each_calls_filters(
        steps in proptest::collection::vec((0usize..5, 0usize..12, -600i64..3600, proptest::bool::ANY), 1..30),
    ) {
        let states = ["us-nc", "us-sc", "us-tx"];
        let targets: Vec<Value> = (0..12)
            .map(|i| {
                let mut t = json!({"id": format!("t{i}"), "priority": i % 2, "weight": 1 + i});
                match i % 4 {
                    0 => t["filter"] = json!({"any_of": [{"all_of": [
                        {"tag": "geo", "op": "in", "values": [states[i % 3]]}]}]}),
                    1 => t["filter"] = json!({"any_of": [
                        {"all_of": [{"tag": "age", "op": "gte", "values": ["65"], "kind": "number"}]},
                        {"all_of": [{"tag": "source", "op": "contains", "values": ["google"]}]}]}),
                    2 => t["filter"] = json!({"any_of": [{"all_of": [
                        {"tag": "geo", "op": "not_in", "values": ["us-tx"]}]}]}),
                    _ => {}
                }
                if i % 3 == 0 {
                    t["caps"] = json!({"hourly": 2});
                }
                if i == 7 {
                    t["paused"] = json!(true);
                }
                if i % 5 == 1 {
                    t["hours"] = json!([{"day": 1, "open": "09:00", "close": "17:00"},
                        {"day": 2, "open": "15:10", "close": "16:30"}]);
                }
                t
            })
            .collect();
        let config = native(json!({"targets": targets}));
        let calls = [
            nc_call(),
            tx_call(),
            CallAttrs::new(),
            nc_call().with_tag("age", "70"),
            tx_call().with_tag("source", "google-ads"),
        ];
        let mut engine = Engine::new(config.clone());
        let mut router = Router::new(&config);
        let mut checker = Checker::new(&config);
        let mut now = at();
        for (k, &(c, tg, dt, connect)) in steps.iter().enumerate() {
            now += chrono::TimeDelta::seconds(dt);
            let call = &calls[c];
            if connect {
                let _ = engine.connect(&Call::with_attrs(format!("c{k}"), call.clone()), &format!("t{tg}"), now).unwrap();
            }
            let want = check_call(&config, engine.state(), now, call);
            proptest::prop_assert_eq!(checker.check_call(&config, engine.state(), now, call), &want[..]);
            let mut rng = route::rng_from_seed(k as u64);
            let (reports, plan) = router.route_call(&config, engine.state(), now, call, &mut rng);
            proptest::prop_assert_eq!(reports, &want[..]);
            let steps: Vec<_> = plan.collect();
            let expected = route::plan(&config, &want, &mut route::rng_from_seed(k as u64));
            proptest::prop_assert_eq!(steps, expected);
        }
    }
}
