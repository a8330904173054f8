//! Bytes per target with 1,000,000 targets loaded: the config, the state
//! and a router after one decision, measured with a counting allocator
//! (heap bytes; the few stack bytes are ignored). About 4 GB of RAM and a
//! minute of CPU, hence ignored by default:
//!
//! `cargo test -p routecap-benches --release --test memory -- --ignored --nocapture`

use routecap_benches::alloc_count::{live_bytes, Counting};
use routecap_benches::fixture;
use routecap_core::lifecycle::State;
use routecap_core::route::{rng_from_seed, Router};

#[global_allocator]
static A: Counting = Counting;

const TARGETS: usize = 1_000_000;

#[test]
#[ignore = "needs ~4 GB and a minute; run with --ignored --nocapture"]
fn bytes_per_target_with_a_million_targets() {
    let base = live_bytes();
    let config = fixture::config(TARGETS, 42);
    let after_config = live_bytes();
    let state = State::new(&config);
    let after_state = live_bytes();
    let mut router = Router::new(&config);
    let mut rng = rng_from_seed(1);
    let at = fixture::start();
    let (reports, plan) = router.route(&config, &state, at, &mut rng);
    let eligible = reports.iter().filter(|r| r.eligible).count();
    let steps = plan.take(5).count();
    let after_router = live_bytes();
    let per = |from: isize, to: isize| (to - from) as f64 / TARGETS as f64;
    println!("targets: {TARGETS} ({eligible} eligible at {at}, {steps} steps)");
    println!("config: {:.0} B/target", per(base, after_config));
    println!(
        "  of which Target struct: {} B",
        std::mem::size_of::<routecap_core::model::Target>()
    );
    println!("state:  {:.0} B/target", per(after_config, after_state));
    println!("router: {:.0} B/target", per(after_state, after_router));
    println!("total:  {:.0} B/target", per(base, after_router));
    assert!(eligible > 0 && steps == 5);
    assert!(after_router > after_state && after_state > after_config && after_config > base);
    // the config and the state were 670 B before h3/memory, 332 B after
    // (README "Memory, h3/memory"); the router's share is the other 360 B
    let own = per(base, after_state);
    assert!(
        own <= 400.0,
        "config + state take {own:.0} B per target, over the 400 B they fit in"
    );
}
