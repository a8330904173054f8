// Every bundled example config loads in wasm (as a JS object and as JSON
// text, auto-detected and with an explicit format), and check/route answer
// byte-for-byte what the native CLI prints.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { wasm, examples, readJson, cli } from './helpers.mjs';

const { Engine } = wasm;
// A Sunday afternoon in New York, an evening in Kolkata, and a US weekday
// morning: different hours and caps bite at each.
const INSTANTS = ['2026-11-22T15:00:00Z', '2026-11-24T03:30:00Z', '2026-11-25T14:05:00Z'];

for (const ex of examples) {
  test(`${ex.name}.json loads from an object and from text, with and without --format`, () => {
    const text = readFileSync(ex.path, 'utf8');
    const a = new Engine(readJson(ex.path));
    const b = new Engine(text);
    const c = new Engine(text, ex.name === 'native' ? 'routecap' : ex.name);
    const ja = a.checkJson(INSTANTS[0]);
    assert.equal(b.checkJson(INSTANTS[0]), ja);
    assert.equal(c.checkJson(INSTANTS[0]), ja);
    const targets = a.targets();
    assert.ok(targets.length >= 2, `${ex.name}: expected several targets, got ${targets.length}`);
    for (const t of targets) {
      assert.equal(typeof t.id, 'string');
      assert.match(t.iana, /^[A-Za-z_]+(\/[A-Za-z_+\-0-9]+)*$|^UTC$/);
    }
  });

  for (const at of INSTANTS) {
    test(`${ex.name}.json at ${at}: check --json is byte-identical to the native CLI`, () => {
      const engine = new Engine(readFileSync(ex.path, 'utf8'));
      const native = cli(['check', ex.path, '--at', at, '--json']);
      assert.equal(native.status, 0, native.stderr);
      assert.equal(engine.checkJson(at), native.stdout);
      assert.deepEqual(engine.check(at), JSON.parse(native.stdout));
    });

    test(`${ex.name}.json at ${at}: route --json is byte-identical to the native CLI for several seeds`, () => {
      const engine = new Engine(readFileSync(ex.path, 'utf8'));
      for (const seed of [0, 1, 7, 42, 123456789]) {
        const native = cli(['route', ex.path, '--at', at, '--seed', String(seed), '--json']);
        assert.equal(native.status, 0, native.stderr);
        assert.equal(engine.routeJson(at, seed), native.stdout, `seed ${seed}`);
      }
    });
  }
}

test('native.json on a Sunday afternoon in New York: exact reasons and untils', () => {
  const engine = new Engine(readJson(examples[0].path));
  const r = engine.check('2026-11-22T15:00:00Z');
  const by = Object.fromEntries(r.candidates.map((c) => [c.id, c]));
  assert.equal(r.at, '2026-11-22T15:00:00Z');
  // Closed on Sundays; opens Monday 09:00 EST = 14:00Z. (Its group has no
  // Sunday entry, so the group itself is open all day.)
  assert.equal(by['ny-insurance'].eligible, false);
  assert.equal(by['ny-insurance'].local_time, '2026-11-22T10:00:00-05:00');
  assert.deepEqual(by['ny-insurance'].reasons, [{ code: 'closed', until: '2026-11-23T14:00:00Z' }]);
  // Daily cap 25/25 in Chicago: lifts at local midnight = 06:00Z.
  assert.deepEqual(by['chicago-auto'].reasons, [{ code: 'daily_cap', used: 25, limit: 25, until: '2026-11-23T06:00:00Z' }]);
  // Monday to Friday, Saturday and Sunday listed as closed: opens Monday
  // 07:00 in Los Angeles = 15:00Z.
  assert.equal(by['la-solar'].eligible, false);
  assert.equal(by['la-solar'].local_time, '2026-11-22T07:00:00-08:00');
  assert.deepEqual(by['la-solar'].reasons, [{ code: 'closed', until: '2026-11-23T15:00:00Z' }]);
  assert.deepEqual(by['night-pool'].eligible_members, ['kolkata-bpo']);
  // The simultaneous night pool is a candidate of its own, its members are not.
  assert.equal(by['night-pool'].kind, 'group');
  assert.equal(by['phoenix-overnight'], undefined);
  // Paused and hard-capped: both reasons, the hard cap never lifts by itself.
  const codes = by['stjohns-backup'].reasons.map((x) => x.code);
  assert.ok(codes.includes('paused') && codes.includes('total_cap'), codes.join());
  assert.equal(by['stjohns-backup'].reasons.find((x) => x.code === 'total_cap').until, null);
});

test('route seeds: number, BigInt and decimal string give the same plan; u64 seeds above 2^53 work', () => {
  const engine = new Engine(readJson(examples[0].path));
  const at = '2026-11-25T14:05:00Z';
  assert.equal(engine.routeJson(at, 99), engine.routeJson(at, 99n));
  assert.equal(engine.routeJson(at, 99), engine.routeJson(at, '99'));
  const big = '18446744073709551615';
  const native = cli(['route', examples[0].path, '--at', at, '--seed', big, '--json']);
  assert.equal(native.status, 0, native.stderr);
  assert.equal(engine.routeJson(at, BigInt(big)), native.stdout);
  assert.equal(engine.routeJson(at, big), native.stdout);
});

test('routeMany counts the first step of route() over consecutive seeds', () => {
  const engine = new Engine(readJson(examples[0].path));
  // Monday 17:00Z: every target but the paused backup is open
  const at = '2026-11-23T17:00:00Z';
  const n = 300;
  const tally = {};
  let none = 0;
  for (let i = 0; i < n; i++) {
    const first = engine.route(at, 1000 + i).plan[0];
    if (!first) none++;
    else tally[first.target ?? first.group] = (tally[first.target ?? first.group] ?? 0) + 1;
  }
  const many = engine.routeMany(at, 1000, n);
  assert.equal(many.n, n);
  assert.equal(many.none, none);
  for (const [id, c] of Object.entries(many.first)) assert.equal(c, tally[id] ?? 0, id);
  assert.equal(Object.values(many.first).reduce((a, b) => a + b, 0) + many.none, n);
  // Only the lowest eligible priority tier can come first: ny-insurance (1)
  // and chicago-auto (1), weights 3:2; nothing of tier 2+ ever does.
  assert.deepEqual(Object.keys(many.first).filter((id) => many.first[id] > 0).sort(), ['chicago-auto', 'ny-insurance']);
});

test('firstPlaceChances: each plan step\'s chance to be rung first, by id', () => {
  const engine = new Engine(readJson(examples[0].path));
  // Monday 17:00Z: the priority-1 targets lead, weights 3:2
  const at = '2026-11-23T17:00:00Z';
  const chances = engine.firstPlaceChances(at);
  assert.deepEqual(chances, { 'ny-insurance': 0.6, 'chicago-auto': 0.4, 'la-solar': 0, 'london-debt': 0, 'night-pool': 0 });
  // Every plan step has a chance, whatever the seed's order.
  const plan = engine.route(at, 3).plan.map((s) => s.target ?? s.group);
  assert.deepEqual(plan.slice().sort(), Object.keys(chances).sort());
});
