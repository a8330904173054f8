//! The floor of a cold decision's verdict pass ([`FloorPass`]): the least
//! a scalar pass over the same data volume does per target, every kept
//! verdict forgotten first; the same in columns, and by hand with
//! AVX-512 where the CPU has it. The anchor for `route_cold` in the
//! routecap bench. Run with `cargo bench -p routecap-floor`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use routecap_floor::{FloorColumns, FloorPass, NOW};

fn floor_cold(c: &mut Criterion) {
    let mut g = c.benchmark_group("floor_cold");
    // the routecap bench's settings, so the figures stand beside route_cold
    g.warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(50);
    for n in [1000usize, 10_000] {
        let mut pass = FloorPass::new(n, 42);
        g.bench_function(BenchmarkId::new("targets", n), |b| {
            b.iter(|| {
                pass.forget();
                black_box(pass.pass(NOW))
            })
        });
        let mut columns = FloorColumns::of(&FloorPass::new(n, 42));
        g.bench_function(BenchmarkId::new("columns/targets", n), |b| {
            b.iter(|| {
                columns.forget();
                black_box(columns.pass(NOW))
            })
        });
        // by hand with AVX-512, where the CPU has it
        if columns.pass_wide(NOW).is_some() {
            g.bench_function(BenchmarkId::new("avx512/targets", n), |b| {
                b.iter(|| {
                    columns.forget();
                    black_box(columns.pass_wide(NOW))
                })
            });
        } else {
            eprintln!("no AVX-512F on this CPU: floor_cold/avx512 is not run");
        }
    }
    g.finish();
}

criterion_group!(benches, floor_cold);
criterion_main!(benches);
