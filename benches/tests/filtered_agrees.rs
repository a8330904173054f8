//! The filtered fixture through a reused router (kept reports, the filter
//! pass over 64 reports a word, the planner's kept first tier) gives the
//! one-shot reports and plan, call after call, warm and cold.

use routecap_benches::fixture;
use routecap_core::eligibility::check_call;
use routecap_core::lifecycle::State;
use routecap_core::route::{plan, rng_from_seed, Router};

#[test]
fn filtered_router_agrees_with_one_shot_check_and_plan() {
    let config = fixture::filtered_config(300, 42);
    let calls = fixture::filtered_calls(16, 9);
    let state = State::new(&config);
    let mut warm = Router::new(&config);
    let mut cold = Router::new(&config);
    let mut refusals = 0usize;
    for (k, at) in fixture::Instants::default()
        .step_by(61)
        .take(400)
        .enumerate()
    {
        let call = &calls[k % calls.len()];
        let want = check_call(&config, &state, at, call);
        refusals += (want.iter().flat_map(|r| &r.reasons))
            .filter(|r| r.code.is_call_dependent())
            .count();
        let steps = plan(&config, &want, &mut rng_from_seed(k as u64));
        for (router, forget) in [(&mut warm, false), (&mut cold, true)] {
            if forget {
                router.forget();
            }
            let mut rng = rng_from_seed(k as u64);
            let (got, plan) = router.route_call(&config, &state, at, call, &mut rng);
            assert_eq!(got, &want[..], "reports of call {k} at {at}");
            assert_eq!(plan.collect::<Vec<_>>(), steps, "plan of call {k} at {at}");
        }
    }
    // the filters are in force: about half the targets refuse each call
    assert!(refusals > 400 * 300 / 4, "{refusals} refusals");
}
