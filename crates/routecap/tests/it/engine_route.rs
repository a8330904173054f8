//! `Engine::route_with`: the fast per-thread decision path answers exactly
//! like `eligibility::check` + `route::plan`, before and after lifecycle
//! events, and its plan feeds `connect`.

use routecap::core::eligibility;
use routecap::core::formats::parse_config;
use routecap::core::lifecycle::ConnectOutcome;
use routecap::core::route::{self, Step};
use routecap::Call;
use routecap::Engine;

fn example() -> Engine {
    let text = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/native.json"
    ))
    .unwrap();
    Engine::new(parse_config(&text, "native.json", None).unwrap())
}

fn owned(steps: &[Step<'_>]) -> Vec<(usize, Vec<usize>)> {
    steps
        .iter()
        .map(|s| match *s {
            Step::Target(t) => (t, vec![]),
            Step::Group { group, members } => (1000 + group, members.to_vec()),
        })
        .collect()
}

#[test]
fn route_with_equals_check_plus_plan_across_events() {
    let engine = example();
    let mut router = engine.router();
    let start: chrono::DateTime<chrono::Utc> = "2026-11-23T14:00:00Z".parse().unwrap();
    let mut connected = 0;
    for i in 0..200u64 {
        let at = start + chrono::Duration::minutes(7 * i as i64);
        let seed = i * 31 + 7;
        let fast = engine
            .route_with(
                &mut router,
                &Call::default(),
                at,
                &mut route::rng_from_seed(seed),
                |_, reports, plan| (reports.to_vec(), owned(&plan.collect::<Vec<_>>())),
            )
            .unwrap();
        let slow = engine.with_state(|c, s| {
            let reports = eligibility::check(c, s, at);
            let plan = owned(&route::plan(c, &reports, &mut route::rng_from_seed(seed)));
            (reports, plan)
        });
        assert_eq!(fast, slow, "decision {i} at {at}");
        // connect the first target step, end it half the time: state moves on
        if let Some((t, _)) = fast.1.iter().find(|(t, _)| *t < 1000) {
            let id = engine.config().targets[*t].id.clone();
            let call = Call::new(format!("c{i}"));
            if engine.connect(&call, &id, at).unwrap() == ConnectOutcome::Connected {
                connected += 1;
                if i % 2 == 0 {
                    engine.end(&call, at).unwrap();
                }
            }
        }
    }
    assert!(
        connected > 10,
        "the scenario exercised the lifecycle ({connected})"
    );
}

#[test]
fn route_with_takes_only_the_steps_it_needs() {
    let engine = example();
    let mut router = engine.router();
    let at = "2026-11-22T15:00:00Z".parse().unwrap();
    let first = engine
        .route_with(
            &mut router,
            &Call::default(),
            at,
            &mut route::rng_from_seed(7),
            |c, _, mut plan| {
                plan.next().map(|s| match s {
                    Step::Target(t) => c.targets[t].id.clone(),
                    Step::Group { group, .. } => c.groups[group].id.clone(),
                })
            },
        )
        .unwrap();
    let all = engine.with_state(|c, s| {
        let reports = eligibility::check(c, s, at);
        match route::plan(c, &reports, &mut route::rng_from_seed(7)).first() {
            Some(Step::Target(t)) => Some(c.targets[*t].id.clone()),
            Some(Step::Group { group, .. }) => Some(c.groups[*group].id.clone()),
            None => None,
        }
    });
    assert_eq!(first, all);
    assert!(first.is_some());
}
