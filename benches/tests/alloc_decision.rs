//! No heap allocation per decision in steady state: after a warm-up week of
//! decisions, a second week of decisions through the same `Router` (and
//! through a `Checker`) allocates nothing — kept reports or not, calls
//! without attributes or with tags judged by every target's filter.

use routecap_benches::alloc_count::{allocations, Counting};
use routecap_benches::fixture;
use routecap_core::eligibility::Checker;
use routecap_core::filter::CallAttrs;
use routecap_core::lifecycle::State;
use routecap_core::model::Config;
use routecap_core::route::{rng_from_seed, Router};

#[global_allocator]
static A: Counting = Counting;

/// Decisions every 97 s over a week starting `from` seconds after the
/// fixture start, for `calls` in turn; returns the allocations they made.
fn week(
    (config, state, calls): (&Config, &State, &[CallAttrs]),
    router: &mut Router,
    checker: &mut Checker,
    cold: bool,
    from: i64,
) -> u64 {
    let mut rng = rng_from_seed(3);
    let before = allocations();
    let mut steps = 0usize;
    for (k, at) in fixture::Instants::default()
        .skip(from as usize)
        .step_by(97)
        .take(7 * 86_400 / 97)
        .enumerate()
    {
        if cold {
            router.forget();
        }
        let call = &calls[k % calls.len()];
        let (_, plan) = router.route_call(config, state, at, call, &mut rng);
        steps += plan.take(5).count();
        steps += checker.check_call(config, state, at, call).len();
    }
    assert!(steps > 0);
    allocations() - before
}

#[test]
fn steady_state_decisions_do_not_allocate() {
    for cold in [false, true] {
        let config = fixture::config(1000, 42);
        let state = State::new(&config);
        let mut router = Router::new(&config);
        let mut checker = Checker::new(&config);
        let both = (&config, &state, &[CallAttrs::new()][..]);
        let warm = week(both, &mut router, &mut checker, cold, 0);
        assert!(warm > 0, "the warm-up builds the buffers");
        let steady = week(both, &mut router, &mut checker, cold, 7 * 86_400);
        assert_eq!(
            steady, 0,
            "allocations in a steady-state week (cold = {cold})"
        );
    }
}

#[test]
fn steady_state_filtered_decisions_do_not_allocate() {
    let calls = fixture::filtered_calls(64, 9);
    for cold in [false, true] {
        let config = fixture::filtered_config(1000, 42);
        let state = State::new(&config);
        let mut router = Router::new(&config);
        let mut checker = Checker::new(&config);
        let all = (&config, &state, &calls[..]);
        let warm = week(all, &mut router, &mut checker, cold, 0);
        assert!(warm > 0, "the warm-up builds the buffers");
        let steady = week(all, &mut router, &mut checker, cold, 7 * 86_400);
        assert_eq!(
            steady, 0,
            "allocations in a steady-state week of filtered calls (cold = {cold})"
        );
    }
}
