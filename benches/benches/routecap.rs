//! routecap benchmarks. Run them all with `scripts/bench` (see README
//! "Performance" for what each measures and the figures of the last run).
//!
//! "route" is the full decision for one call: the eligibility of every
//! candidate at the instant (every reason, with `until`) plus the first
//! [`PLAN_STEPS`] steps of the failover plan, through one reused
//! [`Router`]. Each iteration decides at the next instant of
//! [`fixture::Instants`] (one call per second), so windows roll over and
//! hours open and close during a run, as in production.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{
    criterion_group, criterion_main, BatchSize, BenchmarkGroup, BenchmarkId, Criterion,
};
use rand::SeedableRng;
use routecap_benches::{fixture, naive};
use routecap_core::caps::Period;
use routecap_core::eligibility::{self, CandidateReport, Checker};
use routecap_core::engine::Engine;
use routecap_core::lifecycle::State;
use routecap_core::route::{rng_from_seed, RouteRng, Router, Step};
use routecap_core::window::window_start;
use routecap_core::zone::resolve;
use routecap_core::zone_cache::ZoneCache;
use routecap_core::Call;

/// Plan steps drawn per decision: a call rarely fails over more than 5 times.
pub const PLAN_STEPS: usize = 5;

/// Short runs: the whole suite takes a few minutes.
fn group<'a>(c: &'a mut Criterion, name: &str) -> BenchmarkGroup<'a, WallTime> {
    let mut g = c.benchmark_group(name);
    g.warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(50);
    g
}

/// Sum of the steps' target indices: keeps the plan observable.
fn consume<'r>(plan: impl Iterator<Item = Step<'r>>) -> usize {
    plan.take(PLAN_STEPS)
        .map(|s| match s {
            Step::Target(t) => t,
            Step::Group { group, .. } => group,
        })
        .sum()
}

fn route(c: &mut Criterion) {
    let mut g = group(c, "route");
    for n in [10usize, 100, 1000, 10_000] {
        let config = fixture::config(n, 42);
        let state = State::new(&config);
        let mut router = Router::new(&config);
        let mut rng = rng_from_seed(7);
        let mut instants = fixture::Instants::default();
        g.bench_function(BenchmarkId::new("targets", n), |b| {
            b.iter(|| {
                let at = instants.next().unwrap_or_else(fixture::start);
                let (_, plan) = router.route(&config, &state, at, &mut rng);
                black_box(consume(plan))
            })
        });
    }
    // 1,000 targets each with a filter, a call with 10 tags: cycling over
    // 64 calls so every decision judges a call the previous one did not
    let config = fixture::filtered_config(1000, 42);
    let calls = fixture::filtered_calls(64, 9);
    let state = State::new(&config);
    let mut router = Router::new(&config);
    let mut rng = rng_from_seed(7);
    let mut instants = fixture::Instants::default();
    let mut k = 0usize;
    g.bench_function(BenchmarkId::new("filtered/targets", 1000), |b| {
        b.iter(|| {
            let at = instants.next().unwrap_or_else(fixture::start);
            k = (k + 1) % calls.len();
            let (_, plan) = router.route_call(&config, &state, at, &calls[k], &mut rng);
            black_box(consume(plan))
        })
    });
    g.finish();
}

/// 1,000 targets that each refuse a caller they took within 30 days, a
/// config whose repeat callers go to `different` targets, and a history of
/// 10,000 callers who reached 3 targets each: the decision for a call from
/// a known caller (every other call) or an unknown one, through
/// `Router::route_seen`. Anchor: `route/targets/1000` (the same config
/// without caller rules) in the same run.
fn route_callers(c: &mut Criterion) {
    use routecap_core::caller_history::{Basis, DuplicateRule, RepeatMode, RepeatRule};
    use routecap_core::filter::CallAttrs;
    use routecap_core::snapshot::{CallerSnapshot, Snapshot};
    let mut g = group(c, "route");
    let window = 30 * 86_400;
    let mut config = fixture::config(1000, 42);
    for t in &mut config.targets {
        t.extras.get_mut().duplicates = Some(DuplicateRule {
            basis: Basis::Connect,
            window,
        });
    }
    config.repeat_callers = Some(RepeatRule {
        mode: RepeatMode::Different,
        window,
    });
    let before = (fixture::start() - chrono::TimeDelta::hours(1)).to_rfc3339();
    let number = |i: usize| format!("+1555{i:07}");
    let callers = (0..10_000usize)
        .flat_map(|i| (0..3).map(move |k| (i, k)))
        .map(|(i, k)| CallerSnapshot {
            caller: number(i),
            target: config.targets[(i * 7 + k * 131) % 1000].id.clone(),
            connected_at: Some(before.clone()),
            converted_at: None,
        })
        .collect();
    let snap = Snapshot {
        version: 3,
        targets: Vec::new(),
        groups: Vec::new(),
        calls: Vec::new(),
        callers,
    };
    let state = State::restore(&config, &snap).expect("a valid snapshot");
    assert_eq!(state.callers().len(), 30_000);
    let calls: Vec<CallAttrs> = (0..64)
        .map(|i| match i % 2 {
            0 => CallAttrs::new().with_caller(&number(i * 150)),
            _ => CallAttrs::new().with_caller(&format!("+1666{i:07}")),
        })
        .collect();
    let mut router = Router::new(&config);
    let mut rng = rng_from_seed(7);
    // the rules are in force: a known caller's 3 targets refuse it twice
    let (reports, _) = router.route_seen(
        &config,
        &state,
        fixture::start(),
        &calls[0],
        state.callers(),
        &mut rng,
    );
    let refusals = (reports.iter().flat_map(|r| &r.reasons))
        .filter(|r| r.code.is_call_dependent())
        .count();
    assert_eq!(refusals, 6);
    let mut instants = fixture::Instants::default();
    let mut k = 0usize;
    g.bench_function(BenchmarkId::new("callers/targets", 1000), |b| {
        b.iter(|| {
            let at = instants.next().unwrap_or_else(fixture::start);
            k = (k + 1) % calls.len();
            let history = state.callers();
            let (_, plan) = router.route_seen(&config, &state, at, &calls[k], history, &mut rng);
            black_box(consume(plan))
        })
    });
    g.finish();
}

/// The same decision with every kept report forgotten first: each
/// candidate is evaluated (zone clocks and reopening times stay cached).
/// What a decision costs right after every target's counters changed.
fn route_cold(c: &mut Criterion) {
    let mut g = group(c, "route_cold");
    for n in [10usize, 1000, 10_000] {
        let config = fixture::config(n, 42);
        let state = State::new(&config);
        let mut router = Router::new(&config);
        let mut rng = rng_from_seed(7);
        let mut instants = fixture::Instants::default();
        g.bench_function(BenchmarkId::new("targets", n), |b| {
            b.iter(|| {
                let at = instants.next().unwrap_or_else(fixture::start);
                router.forget();
                let (_, plan) = router.route(&config, &state, at, &mut rng);
                black_box(consume(plan))
            })
        });
    }
    g.finish();
}

/// A decision right after the whole state was read again from a shared
/// store — a snapshot restored, as the Redis cache does on every refresh —
/// with one target's counters changed since the previous read: with the
/// previous engine's router carried over ([`Engine::adopt_router`]: only
/// the changed target is judged again) and with the new engine's own
/// router (every report built). Restoring is not timed.
fn route_reread(c: &mut Criterion) {
    let mut g = group(c, "route_reread");
    let n = 1000;
    let config = Arc::new(fixture::config(n, 42));
    let at = fixture::start();
    let mut first = Engine::new(config.clone());
    first.anchor(at);
    let mut second = Engine::restore(config.clone(), &first.snapshot()).expect("restores");
    let id = config.targets[n / 2].id.clone();
    (second.connect(&Call::new("reread"), &id, at)).expect("target known");
    let snaps = [first.snapshot(), second.snapshot()];
    let restore = |k: usize| Engine::restore(config.clone(), &snaps[k % 2]).expect("restores");
    let call = Call::default();
    // on the engine's own router, the one a cache refresh carries over
    let decide = |engine: &mut Engine, rng: &mut RouteRng| {
        let mut router = std::mem::take(engine.router_mut());
        let out = engine.route_with(&mut router, &call, at, rng, |_, reports, plan| {
            reports.len() + consume(plan)
        });
        *engine.router_mut() = router;
        out.expect("no campaign")
    };
    let mut rng = rng_from_seed(7);
    let mut prev = restore(0);
    decide(&mut prev, &mut rng);
    let mut k = 1;
    g.bench_function(BenchmarkId::new("adopted/targets", n), |b| {
        b.iter_batched(
            || {
                k += 1;
                restore(k)
            },
            |mut engine| {
                engine.adopt_router(&mut prev);
                let out = decide(&mut engine, &mut rng);
                prev = engine;
                black_box(out)
            },
            BatchSize::LargeInput,
        )
    });
    g.bench_function(BenchmarkId::new("fresh/targets", n), |b| {
        b.iter_batched(
            || restore(1),
            |mut engine| black_box(decide(&mut engine, &mut rng)),
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

/// Restoring an engine from a snapshot of its own state: what a state
/// backend's cache pays on every refresh before deciding.
fn restore(c: &mut Criterion) {
    let mut g = group(c, "restore");
    for n in [1000usize, 10_000] {
        let config = Arc::new(fixture::config(n, 42));
        let mut engine = Engine::new(config.clone());
        engine.anchor(fixture::start());
        let snap = engine.snapshot();
        g.bench_function(BenchmarkId::new("targets", n), |b| {
            b.iter(|| black_box(Engine::restore(config.clone(), &snap).is_ok()))
        });
    }
    g.finish();
}

/// Eligibility only, through a reused [`Checker`]; and the one-shot
/// [`eligibility::check`] (allocating, no caches) for comparison.
fn check(c: &mut Criterion) {
    let mut g = group(c, "check");
    for n in [10usize, 1000] {
        let config = fixture::config(n, 42);
        let state = State::new(&config);
        let mut checker = Checker::new(&config);
        let mut instants = fixture::Instants::default();
        g.bench_function(BenchmarkId::new("targets", n), |b| {
            b.iter(|| {
                let at = instants.next().unwrap_or_else(fixture::start);
                black_box(checker.check(&config, &state, at).len())
            })
        });
        let mut instants = fixture::Instants::default();
        g.bench_function(BenchmarkId::new("oneshot/targets", n), |b| {
            b.iter(|| {
                let at = instants.next().unwrap_or_else(fixture::start);
                black_box(eligibility::check(&config, &state, at).len())
            })
        });
    }
    g.finish();
}

/// `iters` calls of `pair(i, call)` in batches of [`BATCH`] on a fresh
/// `make()` each (built outside the timing): call records are kept after
/// `end`, so batches keep the call map at a realistic size.
fn batched<S, C>(
    iters: u64,
    calls: &[C],
    make: impl Fn() -> S,
    mut pair: impl FnMut(&mut S, usize, &C),
) -> Duration {
    let mut total = Duration::ZERO;
    let mut left = iters as usize;
    while left > 0 {
        let k = left.min(calls.len());
        let mut s = make();
        let start = std::time::Instant::now();
        for (i, call) in calls.iter().take(k).enumerate() {
            pair(&mut s, i, call);
        }
        total += start.elapsed();
        left -= k;
        drop(black_box(s));
    }
    total
}

/// Calls per fresh state in the lifecycle benches.
const BATCH: usize = 10_000;

/// One connect and its end at the same instant, on the 1,000-target
/// fixture, each call to the next eligible target in turn: on the core
/// [`State`] (`connect_end`) and through the native `Engine` (write lock
/// and id lookup included).
fn lifecycle(c: &mut Criterion) {
    let mut g = group(c, "lifecycle");
    let config = std::sync::Arc::new(fixture::config(1000, 42));
    let at = fixture::start();
    let fresh = State::new_at(&config, at);
    let open = eligible_targets(&eligibility::check(&config, &fresh, at));
    let calls: Vec<String> = (0..BATCH).map(|i| format!("call-{i}")).collect();
    let engine_calls: Vec<Call> = calls.iter().map(|c| Call::new(c.as_str())).collect();
    g.bench_function("connect_end", |b| {
        b.iter_custom(|iters| {
            batched(
                iters,
                &calls,
                || fresh.clone(),
                |state, i, call| {
                    let t = open[i % open.len()];
                    let _ = black_box(state.connect(&config, call, t, at));
                    let _ = black_box(state.end(&config, call, at));
                },
            )
        })
    });
    let ids: Vec<&str> = open
        .iter()
        .map(|&t| config.targets[t].id.as_str())
        .collect();
    g.bench_function("engine_connect_end", |b| {
        b.iter_custom(|iters| {
            batched(
                iters,
                &engine_calls,
                || routecap::Engine::new(config.clone()),
                |engine, i, call| {
                    let _ = black_box(engine.connect(call, ids[i % ids.len()], at));
                    let _ = black_box(engine.end(call, at));
                },
            )
        })
    });
    g.finish();
}

fn zone_hours_window(c: &mut Criterion) {
    let mut g = group(c, "zone");
    let mut k = 0usize;
    g.bench_function("resolve", |b| {
        b.iter(|| {
            k = (k + 1) % fixture::ZONE_NAMES.len();
            black_box(resolve(black_box(fixture::ZONE_NAMES[k])).is_ok())
        })
    });
    g.bench_function("rules_new", |b| {
        b.iter(|| black_box(routecap_core::zone::Zone::new(chrono_tz::America::New_York)))
    });
    g.finish();

    let config = fixture::config(200, 42);
    let with_hours: Vec<_> = config
        .targets
        .iter()
        .filter_map(|t| t.hours.as_ref().map(|h| (h, &t.zone)))
        .collect();
    let mut g = group(c, "hours");
    let mut instants = fixture::Instants::default();
    let mut k = 0usize;
    g.bench_function("is_open", |b| {
        b.iter(|| {
            k = (k + 1) % with_hours.len();
            let (h, z) = with_hours[k];
            let at = instants.next().unwrap_or_else(fixture::start);
            black_box(h.is_open(z, at))
        })
    });
    g.finish();

    let mut zones = ZoneCache::new();
    let zs: Vec<_> = fixture::ZONE_NAMES
        .iter()
        .filter_map(|n| resolve(n).ok().map(|r| zones.get(r.tz)))
        .collect();
    let mut g = group(c, "window");
    let mut instants = fixture::Instants::default();
    g.bench_function("daily_start", |b| {
        b.iter(|| {
            k = (k + 1) % zs.len();
            let at = instants.next().unwrap_or_else(fixture::start);
            black_box(window_start(&zs[k], Period::Day, at))
        })
    });
    g.finish();
}

/// Which targets routecap finds eligible at `at`.
fn eligible_targets(reports: &[CandidateReport]) -> Vec<usize> {
    reports
        .iter()
        .filter(|r| r.eligible)
        .filter_map(|r| match r.candidate {
            routecap_core::model::CandidateRef::Target(t) => Some(t),
            _ => None,
        })
        .collect()
}

fn naive_peer(c: &mut Criterion) {
    let mut g = group(c, "naive/route");
    for n in [10usize, 1000] {
        let config = fixture::config(n, 42);
        let state = State::new(&config);
        let peer = naive::Peer::new(&config);
        // agreement, outside the timing: a day of instants, every 7 minutes
        for at in fixture::Instants::default()
            .step_by(7 * 60)
            .take(24 * 60 / 7 * 7)
        {
            assert_eq!(
                peer.eligible_set(at),
                eligible_targets(&eligibility::check(&config, &state, at)),
                "naive peer and routecap disagree at {at}"
            );
        }
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let mut instants = fixture::Instants::default();
        g.bench_function(BenchmarkId::new("targets", n), |b| {
            b.iter(|| {
                let at = instants.next().unwrap_or_else(fixture::start);
                black_box(peer.route(at, PLAN_STEPS, &mut rng))
            })
        });
    }
    g.finish();
}

/// Refusing a bad config costs microseconds whatever the size of the bad
/// name: a 1 MiB unknown zone, a 1 MiB unknown field, a misspelt field.
fn config_refusals(c: &mut Criterion) {
    let mut g = group(c, "config_refusal");
    let huge = "A".repeat(1 << 20);
    let mut long_field = serde_json::json!({"id": "a"});
    long_field[huge.as_str()] = 1.into();
    let cases = [
        (
            "zone_1mib",
            serde_json::json!({"targets": [{"id": "a", "time_zone": huge}]}),
        ),
        ("field_1mib", serde_json::json!({"targets": [long_field]})),
        (
            "typo",
            serde_json::json!({"targets": [{"id": "a", "tiem_zone": "UTC"}]}),
        ),
    ];
    for (name, doc) in cases {
        g.bench_function(name, |b| {
            b.iter(|| {
                let refused = routecap_core::formats::parse_value(
                    &doc,
                    "bench",
                    routecap_core::formats::Format::Routecap,
                );
                black_box(refused.is_err())
            })
        });
    }
    g.finish();
}

criterion_group!(
    benches,
    config_refusals,
    route,
    route_callers,
    naive_peer,
    route_cold,
    route_reread,
    restore,
    check,
    lifecycle,
    zone_hours_window
);
criterion_main!(benches);
