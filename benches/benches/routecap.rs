//! routecap benchmarks. Run them all with `scripts/bench` (see README
//! "Performance" for what each measures and the figures of the last run).
//!
//! "route" is the full decision for one call: eligibility of every candidate
//! at the instant (with every reason and `until`) plus the first
//! [`PLAN_STEPS`] steps of the failover plan. Each iteration decides at the
//! next instant of [`fixture::instant`] (one call per second), so windows
//! roll over and hours open and close during a run, as in production.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use routecap_benches::{fixture, naive};
use routecap_core::caps::Period;
use routecap_core::eligibility::{self, Checker};
use routecap_core::route::{rng_from_seed, Router};
use routecap_core::state::State;
use routecap_core::window::window_start;
use routecap_core::zone::resolve;

/// Plan steps drawn per decision: a call rarely fails over more than 5 times.
const PLAN_STEPS: usize = 5;


fn route(c: &mut Criterion) {
    let mut g = c.benchmark_group("route");
    g.warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    for n in [10usize, 100, 1000, 10_000] {
        let config = fixture::config(n, 42);
        let state = State::new(&config);
        let mut router = Router::new(&config);
        let mut rng = rng_from_seed(7);
        let mut instants = fixture::Instants::default();
        g.throughput(Throughput::Elements(1));
        g.bench_function(BenchmarkId::new("targets", n), |b| {
            b.iter(|| {
                let at = instants.next().unwrap_or_else(fixture::start);
                let (_, plan) = router.route(&config, &state, at, &mut rng);
                let mut sum = 0usize;
                for s in plan.take(PLAN_STEPS) {
                    if let routecap_core::route::Step::Target(t) = s {
                        sum += t;
                    }
                }
                black_box(sum)
            })
        });
    }
    g.finish();
}

criterion_group!(benches, route);
criterion_main!(benches);
