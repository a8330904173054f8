// Cross-platform determinism: the core's route golden files, made by the
// native build, replayed through the wasm build must give the same plans
// and the same generator draws, byte for byte.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { wasm, root } from './helpers.mjs';

const dir = join(root, 'crates', 'routecap-core', 'tests', 'golden');
const files = readdirSync(dir).filter((f) => /^route_plan_.*\.json$/.test(f)).sort();

test('the route golden files are there', () => {
  assert.ok(files.length >= 5, `expected route_plan_*.json goldens in ${dir}, found ${files}`);
});

for (const file of files) {
  test(`${file}: every seed's plan is byte-identical in wasm`, () => {
    const golden = JSON.parse(readFileSync(join(dir, file), 'utf8'));
    assert.ok(golden.cases.length >= 1);
    for (const c of golden.cases) {
      assert.ok(Array.isArray(c.plan), `${file} seed ${c.seed}: golden has no plan`);
      // Seeds may be above 2^53: pass them as text.
      const got = wasm.goldenPlan(golden.candidates, String(c.seed));
      assert.equal(JSON.stringify(got), JSON.stringify(c.plan), `${file} seed ${c.seed}`);
    }
  });
}

test('route_draws.json: raw ChaCha8 words and unbiased draws are identical in wasm', () => {
  const golden = JSON.parse(readFileSync(join(dir, 'route_draws.json'), 'utf8'));
  const got = wasm.goldenDraws(String(golden.seed), golden.draws.map((d) => d.bound));
  assert.deepEqual(got.raw_next_u64, golden.raw_next_u64);
  assert.deepEqual(got.values, golden.draws.map((d) => d.value));
});

test('goldenPlan depends on the seed (the replay can fail)', () => {
  const golden = JSON.parse(readFileSync(join(dir, 'route_plan_many.json'), 'utf8'));
  const plans = new Set(golden.cases.map((c) => JSON.stringify(wasm.goldenPlan(golden.candidates, String(c.seed)))));
  assert.ok(plans.size > 1, 'different seeds should give different plans');
});
