//! The Engine's id-based API, errors, snapshots and thread-safety bounds.

use crate::engine_support;

use engine_support::*;
use routecap::core::caps::Limits;
use routecap::core::eligibility::ReasonCode;
use routecap::core::formats::source::OwnerKind;
use routecap::core::lifecycle::{ConnectOutcome, LifecycleError};
use routecap::core::model::CandidateRef;
use routecap::core::money::Money;
use routecap::core::zone::Zone;
use routecap::engine::EngineError;
use routecap::Call;
use routecap::Engine;

fn engine() -> Engine {
    let z = Zone::utc();
    let a = target(
        "a",
        &z,
        Limits {
            hourly: Some(1),
            concurrency: Some(1),
            ..Limits::default()
        },
    );
    let b = target("b", &z, Limits::default());
    let g = group(
        "g",
        &[0, 1],
        &z,
        Limits {
            total: Some(2),
            ..Limits::default()
        },
    );
    Engine::new(config(vec![a, b], vec![g]))
}

/// The typed reports of every default candidate at `at`.
fn reports(
    e: &Engine,
    at: chrono::DateTime<chrono::Utc>,
) -> Vec<routecap::core::eligibility::CandidateReport> {
    e.with_state(|c, s| routecap::core::eligibility::check(c, s, at))
}

#[test]
fn engine_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Engine>();
}

#[test]
fn lifecycle_by_id() {
    let e = engine();
    let at = utc(2026, 9, 1, 10, 0);
    assert_eq!(
        e.connect(&Call::new("c1"), "a", at),
        Ok(ConnectOutcome::Connected)
    );
    let Ok(ConnectOutcome::Refused(rs)) = e.connect(&Call::new("c2"), "a", at) else {
        panic!("a is full")
    };
    let codes: Vec<_> = rs.iter().map(|r| r.code).collect();
    assert_eq!(codes, [ReasonCode::HourlyCap, ReasonCode::ConcurrencyCap]);
    assert_eq!(e.convert(&Call::new("c1"), Money(250), at), Ok(()));
    assert_eq!(e.end(&Call::new("c1"), at), Ok(()));
    assert_eq!(
        e.end(&Call::new("c1"), at),
        Err(EngineError::Lifecycle(LifecycleError::AlreadyEnded(
            "c1".into()
        )))
    );
    assert_eq!(
        e.connect(&Call::new("c2"), "nope", at),
        Err(EngineError::UnknownTarget("nope".into()))
    );
    assert_eq!(
        e.reset(OwnerKind::Group, "nope"),
        Err(EngineError::UnknownGroup("nope".into()))
    );
    assert_eq!(
        e.reserve(&Call::new("r"), "b", 2, at),
        Ok(ConnectOutcome::Connected)
    );
    // the group total (2) now holds c1 + the reservation
    assert!(reports(&e, at).iter().all(|r| !r.eligible));
    let exp = at + chrono::TimeDelta::seconds(2);
    assert!(!reports(&e, exp - chrono::TimeDelta::seconds(1))[1].eligible);
    assert!(reports(&e, exp)[1].eligible);
    e.reset(OwnerKind::Group, "g").unwrap();
    let total = e.with_state(|c, s| s.usage(c, CandidateRef::Group(0), at).total);
    assert_eq!(total, 1, "only the held unit is left");
    let err = e.connect(&Call::new("c"), "x", at).unwrap_err();
    assert_eq!(err.to_string(), "unknown target \"x\"");
}

#[test]
fn snapshot_and_restore_continue_the_same_state() {
    let e = engine();
    let at = utc(2026, 9, 1, 10, 0);
    e.connect(&Call::new("c1"), "a", at).unwrap();
    let snap = e.snapshot();
    let r = Engine::restore(e.config().clone(), &snap).unwrap();
    assert_eq!(reports(&r, at), reports(&e, at));
    assert_eq!(r.end(&Call::new("c1"), at), Ok(()));
    assert!(r.end(&Call::new("c1"), at).is_err());
    // an id the config no longer has is dropped and reported, not an error
    let mut other = snap.clone();
    other.groups[0].id = "zz".into();
    let (_, dropped) = Engine::restore_report(e.config().clone(), &other).unwrap();
    assert_eq!(dropped.groups, vec!["zz".to_string()]);
    let mut bad = snap;
    bad.version = 99;
    assert!(matches!(
        Engine::restore(e.config().clone(), &bad),
        Err(EngineError::Snapshot(_))
    ));
}

#[test]
fn now_reads_the_system_clock() {
    let e = engine();
    let now = routecap::now();
    assert!(now > utc(2025, 1, 1, 0, 0));
    assert_eq!(
        e.connect(&Call::new("n1"), "b", now),
        Ok(ConnectOutcome::Connected)
    );
    let connected_at = e.with_state(|_, s| match s.call("n1").map(|r| r.phase) {
        Some(routecap::core::lifecycle::CallPhase::Connected { at }) => at,
        other => panic!("{other:?}"),
    });
    assert_eq!(connected_at, now);
}

#[test]
fn touch_and_cancel_by_id() {
    let e = engine();
    let at = utc(2026, 9, 1, 10, 0);
    assert_eq!(
        e.reserve(&Call::new("r1"), "a", 600, at),
        Ok(ConnectOutcome::Connected)
    );
    assert!(matches!(
        e.connect(&Call::new("c1"), "a", at),
        Ok(ConnectOutcome::Refused(_))
    ));
    assert_eq!(e.cancel(&Call::new("r1"), at), Ok(()));
    assert_eq!(
        e.connect(&Call::new("c1"), "a", at),
        Ok(ConnectOutcome::Connected)
    );
    assert_eq!(
        e.cancel(&Call::new("c1"), at),
        Err(EngineError::Lifecycle(LifecycleError::NotReserved(
            "c1".into()
        )))
    );
    // the default 4-hour lease, renewed by a touch at 13:00 until 17:00
    assert_eq!(e.touch(&Call::new("c1"), utc(2026, 9, 1, 13, 0)), Ok(()));
    let live = |h, m| e.with_state(|_, s| s.live(CandidateRef::Target(0), utc(2026, 9, 1, h, m)));
    assert_eq!((live(16, 59), live(17, 0)), (1, 0));
    assert_eq!(
        e.touch(&Call::new("ghost"), at),
        Err(EngineError::Lifecycle(LifecycleError::UnknownCall(
            "ghost".into()
        )))
    );
    // a day after the lease ran out the call is forgotten: sweeping frees it
    e.advance(utc(2026, 9, 2, 17, 0));
    assert_eq!(e.with_state(|_, s| s.call_count()), 0);
    assert_eq!(
        e.end(&Call::new("c1"), utc(2026, 9, 2, 17, 0)),
        Err(EngineError::Lifecycle(LifecycleError::UnknownCall(
            "c1".into()
        )))
    );
}

#[test]
fn call_attributes_through_the_native_engine() {
    use routecap::core::filter::CallAttrs;
    use routecap::core::formats::parse_config;
    use routecap::core::route::{rng_from_seed, Step};
    let text = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/attributes.json"
    ))
    .unwrap();
    let e = Engine::new(parse_config(&text, "attributes.json", None).unwrap());
    let at = utc(2026, 11, 23, 15, 0);
    let tx = CallAttrs::new().with_tag("geo", "us-tx");
    let view = e.check(&Call::with_attrs("", tx.clone()), at).unwrap();
    assert_eq!(view.candidates[0].reasons[0].code, "filter_mismatch");
    let mut router = e.router();
    let first = e.route_with(
        &mut router,
        &Call::with_attrs("", tx.clone()),
        at,
        &mut rng_from_seed(1),
        |c, _, mut plan| match plan.next() {
            Some(Step::Group { group, .. }) => c.groups[group].id.clone(),
            other => format!("{other:?}"),
        },
    );
    assert_eq!(first.unwrap(), "sim");
    let view = e
        .route(
            &Call::with_attrs("", tx.clone().with_campaign("medicare")),
            at,
            &mut routecap::core::route::Draws::new(1),
        )
        .unwrap();
    assert!(view.plan.is_empty());
    assert_eq!(view.rejected[0].kind, Some("campaign"));
    assert_eq!(
        e.check(&Call::new("").campaign("x"), at).unwrap_err(),
        EngineError::UnknownCampaign("x".into())
    );
    let nc = CallAttrs::new()
        .with_tag("geo", "us-nc")
        .with_tag("age", "80");
    assert!(matches!(
        e.connect(&Call::with_attrs("c1", tx.clone()), "nc-medicare", at),
        Ok(ConnectOutcome::Refused(_))
    ));
    assert_eq!(
        e.connect(&Call::with_attrs("c1", nc.clone()), "nc-medicare", at),
        Ok(ConnectOutcome::Connected)
    );
}
