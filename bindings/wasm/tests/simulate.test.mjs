// The wasm `simulate` is the core's simulator: for the same config, options
// and seed it gives exactly the report `routecap simulate --json --seed N`
// prints. The demo's "Play a day" runs this function.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { root, examples, cli, thrown } from './helpers.mjs';

// The simulator is a second module (bindings/wasm-sim), built by scripts/build-wasm.
const pkgNode = join(root, 'bindings', 'wasm', 'pkg-node');
const { simulate } = createRequire(import.meta.url)(join(pkgNode, 'routecap_wasm_sim.js'));

/** The CLI's report for `text` with `flags`, parsed. */
function cliReport(text, flags) {
  const r = cli(['simulate', '-', '--json', '--quiet', ...flags], text);
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

const RUNS = [
  { about: 'a week, defaults', options: { from: '2026-11-23T00:00:00Z', to: '2026-11-30T00:00:00Z', seed: 42 } },
  {
    about: 'a day, every knob',
    options: {
      from: '2026-11-23T13:00:00Z', to: '2026-11-24T13:00:00Z', seed: 7, calls_per_hour: 120,
      answer_rate: 0.6, convert_rate: 0.5, revenue: '12.50', mean_duration: 300, fresh: true,
    },
  },
  {
    about: 'a profiled week in New York',
    options: {
      from: '2026-11-23T00:00:00Z', to: '2026-11-30T00:00:00Z', seed: 3,
      profile: { time_zone: 'America/New_York', weights: Array.from({ length: 24 }, (_, h) => (h >= 9 && h < 18 ? 3 : 1)) },
    },
  },
];

function flagsOf(o) {
  const f = ['--from', o.from, '--to', o.to, '--seed', String(o.seed)];
  if (o.calls_per_hour !== undefined) f.push('--calls-per-hour', String(o.calls_per_hour));
  if (o.answer_rate !== undefined) f.push('--answer-rate', String(o.answer_rate));
  if (o.convert_rate !== undefined) f.push('--convert-rate', String(o.convert_rate));
  if (o.revenue !== undefined) f.push('--revenue', String(o.revenue));
  if (o.mean_duration !== undefined) f.push('--mean-duration', String(o.mean_duration));
  if (o.profile !== undefined) f.push('--profile', JSON.stringify(o.profile));
  if (o.fresh) f.push('--fresh');
  return f;
}

for (const ex of examples) {
  const text = readFileSync(ex.path, 'utf8');
  for (const run of RUNS) {
    test(`simulate ${ex.name}: ${run.about} — wasm report equals routecap simulate --json`, () => {
      const native = cliReport(text, flagsOf(run.options));
      const report = simulate(text, run.options);
      assert.ok(native.calls > 0, 'the run had calls');
      assert.deepEqual(report, native);
    });
  }
}

test('simulate: hours: true adds per-hour counts that add up to the totals', () => {
  const text = readFileSync(examples[0].path, 'utf8');
  const options = { from: '2026-11-23T13:00:00Z', to: '2026-11-24T13:00:00Z', seed: 1, calls_per_hour: 90 };
  const plain = simulate(text, options);
  const { hours, ...report } = simulate(text, { ...options, hours: true });
  assert.deepEqual(report, plain);
  assert.equal(hours.length, 24);
  const sum = (k) => hours.reduce((n, h) => n + h[k], 0);
  assert.equal(sum('calls'), report.calls);
  assert.equal(sum('connected'), report.connected);
  assert.equal(sum('no_eligible'), report.no_eligible);
  assert.equal(sum('unanswered'), report.unanswered);
  assert.equal(hours[0].owners.length, report.targets.length + report.groups.length);
  const owners = [...report.targets, ...report.groups];
  owners.forEach((o, i) => assert.equal(hours.reduce((n, h) => n + h.owners[i].connected, 0), o.connected, o.id));
});

test('simulate: bad options throw the CLI message', () => {
  const text = readFileSync(examples[0].path, 'utf8');
  const early = { from: '2026-01-01T00:00:00Z', to: '2026-01-02T00:00:00Z', seed: 1 };
  const r = cli(['simulate', '-', '--json', ...flagsOf(early)], text);
  assert.equal(r.status, 2);
  assert.equal(thrown(() => simulate(text, early)).message, r.stderr.trim().replace(/^routecap: /, ''));
  assert.match(thrown(() => simulate(text, { ...early, answer_rate: 2, fresh: true })).message, /--answer-rate 2 must be between 0 and 1/);
  assert.match(thrown(() => simulate(text, { from: 'x', to: 'y', seed: 1 })).message, /RFC 3339/);
  // instants as the CLI reads them (the core's one instant reader)
  for (const bad of [{ ...early, from: '2200-01-01T00:00:00Z' }, { ...early, to: ' 2026-01-02T00:00:00Z' }]) {
    const native = cli(['simulate', '-', '--json', ...flagsOf(bad)], text);
    assert.equal(native.status, 2);
    assert.equal(thrown(() => simulate(text, bad)).message, native.stderr.trim().replace(/^routecap: /, ''));
  }
  assert.match(thrown(() => simulate(text, { ...early, colour: 'red' })).message, /unknown field `colour`/);
});
