// Times the wasm route bench in node with the loop of src/native.rs:
// warm up 1 s, batches of decisions for 3 s, median ns per decision.
// Usage: node run.mjs path/to/routecap_wasm_bench.wasm
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";

const path = process.argv[2];
const { instance } = await WebAssembly.instantiate(readFileSync(path), {});
const { setup, run } = instance.exports;

function measure() {
  let batch = 1;
  const warm = performance.now();
  while (performance.now() - warm < 1000) {
    const t = performance.now();
    run(batch);
    if (performance.now() - t < 5) batch *= 2;
  }
  const samples = [];
  const start = performance.now();
  while (performance.now() - start < 3000) {
    const t = performance.now();
    run(batch);
    samples.push(((performance.now() - t) * 1e6) / batch);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)];
}

for (const n of [10, 100, 1000, 10000]) {
  setup(n);
  const median = measure();
  console.log(JSON.stringify({ bench: `route/targets/${n}`, side: "wasm", median_ns: +median.toFixed(1) }));
}
