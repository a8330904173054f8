//! The native side of the wasm/native ratio: the same decisions as the wasm
//! module, timed by the same loop as `run.mjs` (batches, median of the
//! per-decision times). Prints one JSON line per size.

use std::time::Instant;

use routecap_wasm_bench::Bench;

fn main() {
    let sizes = [10usize, 100, 1000, 10_000];
    for n in sizes {
        let mut bench = Bench::new(n);
        let median = measure(|iters| bench.run(iters));
        println!(
            "{{\"bench\":\"route/targets/{n}\",\"side\":\"native\",\"median_ns\":{median:.1}}}"
        );
    }
}

/// Warm up 1 s, then time batches for 3 s; median ns per decision.
fn measure(mut run: impl FnMut(u32) -> u32) -> f64 {
    let mut batch = 1u32;
    let warm = Instant::now();
    while warm.elapsed().as_secs_f64() < 1.0 {
        let t = Instant::now();
        std::hint::black_box(run(batch));
        if t.elapsed().as_secs_f64() < 0.005 {
            batch *= 2;
        }
    }
    let mut samples = Vec::new();
    let start = Instant::now();
    while start.elapsed().as_secs_f64() < 3.0 {
        let t = Instant::now();
        std::hint::black_box(run(batch));
        samples.push(t.elapsed().as_secs_f64() * 1e9 / f64::from(batch));
    }
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}
