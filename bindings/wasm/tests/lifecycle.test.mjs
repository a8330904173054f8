// The call lifecycle through wasm: caps fill on connect, refusals carry
// reasons and change nothing, misuse throws, snapshots round-trip.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { wasm, thrown } from './helpers.mjs';

const { Engine } = wasm;

// Two UTC targets open 24/7: "a" has an hourly cap of 2 and concurrency 1,
// "b" counts on conversion with revenue and has a daily revenue cap.
const CONFIG = {
  targets: [
    { id: 'a', time_zone: 'UTC', caps: { hourly: 2, concurrency: 1, total: 3 } },
    { id: 'b', time_zone: 'UTC', trigger: 'revenue', caps: { daily: 1, daily_revenue: '10.00' } },
  ],
  groups: [{ id: 'g', members: ['a', 'b'], mode: 'separate', caps: { daily: 100 } }],
};
const T0 = '2026-11-22T10:00:00Z';
const at = (min) => new Date(Date.parse(T0) + min * 60_000).toISOString().replace('.000Z', 'Z');
// What counts against cap `cap` of owner `id` at `t` (`routecap usage --json`).
const used = (engine, t, id, cap) =>
  engine.usage(t).owners.find((o) => o.id === id).caps.find((c) => c.cap === cap).used;
const reasonsOf = (engine, t, id) => engine.check(t).candidates.find((c) => c.id === id).reasons;

test('connect counts, concurrency refuses with reasons, end releases, the hour rolls over', () => {
  const e = new Engine(CONFIG);
  assert.deepEqual(e.connect('c1', 'a', at(0)), { ok: true });
  const refused = e.connect('c2', 'a', at(1));
  assert.equal(refused.ok, false);
  assert.deepEqual(refused.reasons, [{ code: 'concurrency_cap', used: 1, limit: 1, until: null }]);
  assert.deepEqual(e.end('c1', at(2)), { ok: true });
  assert.deepEqual(e.connect('c2', 'a', at(3)), { ok: true });
  e.end('c2', at(4));
  // Two calls this hour: the hourly cap is reached until 11:00.
  assert.deepEqual(reasonsOf(e, at(5), 'a'), [{ code: 'hourly_cap', used: 2, limit: 2, until: '2026-11-22T11:00:00Z' }]);
  assert.deepEqual(reasonsOf(e, at(60), 'a'), []);
  assert.equal(used(e, at(5), 'a', 'hourly'), 2);
  assert.equal(used(e, at(5), 'a', 'total'), 2);
  assert.equal(used(e, at(5), 'g', 'daily'), 2, 'group counts its members');
  const hourly = e.usage(at(5)).owners[0].caps[0];
  assert.deepEqual(hourly, { cap: 'hourly', used: 2, limit: 2, window_start: '2026-11-22T10:00:00Z', window_end: '2026-11-22T11:00:00Z' });
});

test('a refused connect changes nothing', () => {
  const e = new Engine(CONFIG);
  e.connect('c1', 'a', at(0));
  const before = JSON.stringify(e.snapshot());
  assert.equal(e.connect('c2', 'a', at(1)).ok, false);
  assert.equal(JSON.stringify(e.snapshot()), before);
});

test('misuse throws the core messages and changes nothing', () => {
  const e = new Engine(CONFIG);
  assert.equal(thrown(() => e.end('ghost', at(0))).message, 'unknown call "ghost"');
  e.connect('c1', 'a', at(0));
  assert.equal(thrown(() => e.connect('c1', 'a', at(1))).message, 'call "c1" is already connected');
  e.end('c1', at(2));
  const before = JSON.stringify(e.snapshot());
  assert.equal(thrown(() => e.end('c1', at(3))).message, 'call "c1" already ended');
  e.convert('c1', '5.00', at(4));
  assert.equal(thrown(() => e.convert('c1', 1, at(5))).message, 'call "c1" already converted');
  assert.match(thrown(() => e.convert('c1', '-1', at(5))).message, /negative|already converted/);
  assert.notEqual(JSON.stringify(e.snapshot()), before, 'the conversion itself was recorded');
});

test('revenue trigger and exact revenue caps: 4.10 + 5.90 reaches 10.00 exactly', () => {
  const e = new Engine(CONFIG);
  const cfg = structuredClone(CONFIG);
  cfg.targets[1].caps.daily = 5;
  const f = new Engine(cfg);
  f.connect('x', 'b', at(0));
  f.convert('x', 4.1, at(1));
  f.end('x', at(2));
  f.connect('y', 'b', at(3));
  f.convert('y', '5.90', at(4));
  f.end('y', at(5));
  const r = reasonsOf(f, at(6), 'b');
  assert.deepEqual(r, [{ code: 'daily_revenue_cap', used: '10.00', limit: '10.00', until: '2026-11-23T00:00:00Z' }]);
  assert.equal(used(f, at(6), 'b', 'daily'), 2, 'revenue > 0 counts each call');
  assert.equal(used(f, at(6), 'b', 'daily_revenue'), '10.00');
  // A zero-revenue conversion does not count under the revenue trigger.
  e.connect('z', 'b', at(0));
  e.convert('z', 0, at(1));
  assert.equal(used(e, at(2), 'b', 'daily'), 0);
});

test('reserve holds capacity until it expires or is confirmed', () => {
  const e = new Engine(CONFIG);
  assert.deepEqual(e.reserve('r1', 'a', 60, at(0)), { ok: true });
  assert.equal(e.connect('other', 'a', at(0)).ok, false, 'the reservation holds the only live slot');
  assert.equal(e.connect('late', 'a', at(1)).ok, true, 'expired after 60 s');
  e.end('late', at(2));
  const f = new Engine(CONFIG);
  f.reserve('r2', 'a', 300, at(0));
  assert.deepEqual(f.connect('r2', 'a', at(1)), { ok: true }, 'confirming its own reservation');
  assert.equal(used(f, at(1), 'a', 'hourly'), 1, 'confirmed once, counted once');
  assert.match(thrown(() => f.reserve('r3', 'a', 0, at(2))).message, /ttl of 0 s is invalid/);
});

test('resetTarget clears the hard cap; resetGroup clears the group and its members', () => {
  const e = new Engine(CONFIG);
  for (let i = 0; i < 3; i++) {
    e.connect(`c${i}`, 'a', at(i * 70));
    e.end(`c${i}`, at(i * 70 + 1));
  }
  assert.deepEqual(reasonsOf(e, at(300), 'a').map((r) => r.code), ['total_cap']);
  assert.deepEqual(e.resetTarget('a'), { ok: true });
  assert.deepEqual(reasonsOf(e, at(300), 'a'), []);
  const f = new Engine(CONFIG);
  for (let i = 0; i < 3; i++) {
    f.connect(`c${i}`, 'a', at(i * 70));
    f.end(`c${i}`, at(i * 70 + 1));
  }
  assert.deepEqual(f.resetGroup('g'), { ok: true });
  assert.equal(used(f, at(300), 'a', 'total'), 0);
});

test('snapshot → restore (object or text) reproduces checks and later events', () => {
  const e = new Engine(CONFIG);
  e.connect('c1', 'a', at(0));
  e.connect('c2', 'b', at(1));
  e.convert('c2', '3.50', at(2));
  const snap = e.snapshot();
  assert.equal(snap.version, 3);
  const f = new Engine(CONFIG);
  f.restore(snap);
  const g = new Engine(CONFIG);
  g.restore(JSON.stringify(snap));
  for (const x of [f, g]) {
    assert.equal(x.checkJson(at(3)), e.checkJson(at(3)));
    assert.deepEqual(x.snapshot(), snap);
    // Call records came back too: c2 can end once, and only once.
    assert.deepEqual(x.end('c2', at(4)), { ok: true });
    assert.equal(thrown(() => x.end('c2', at(5))).message, 'call "c2" already ended');
  }
  assert.match(thrown(() => f.restore('{"version": 1}')).message, /^snapshot: /);
  assert.match(thrown(() => f.restore({ version: 1, targets: [], groups: [], calls: [{}] })).message, /snapshot/);
});

test('touch renews a lease; a call never ended frees its slot when the lease runs out', () => {
  // lease of 10 minutes: "a" has concurrency 1
  const e = new Engine({ ...CONFIG, call_lease_seconds: 600 });
  assert.deepEqual(e.connect('c1', 'a', at(0)), { ok: true });
  assert.equal(e.connect('c2', 'a', at(9)).ok, false, 'the lease holds until 10:10 exclusive');
  assert.deepEqual(e.touch('c1', at(9)), { ok: true }, 'renewed until 10:19');
  assert.equal(e.connect('c2', 'a', at(18)).ok, false);
  assert.equal(e.usage(at(18)).owners.find((x) => x.id === 'a').live, 1);
  assert.equal(e.usage(at(19)).owners.find((x) => x.id === 'a').live, 0, 'lapsed at touch + lease');
  assert.match(thrown(() => e.touch('c1', at(19))).message, /^call "c1": lease expired at 2026-11-22T10:19:00Z$/);
  assert.deepEqual(e.connect('c2', 'a', at(19)), { ok: true }, 'the slot is free again');
  // the late end is accepted and frees nothing more: c2 still holds the slot
  assert.deepEqual(e.end('c1', at(20)), { ok: true });
  assert.equal(e.connect('c3', 'a', at(20)).ok, false);
  assert.equal(thrown(() => e.touch('ghost', at(20))).message, 'unknown call "ghost"');
});

test('cancel frees a reservation at once; a connected call cannot be cancelled', () => {
  const e = new Engine(CONFIG);
  assert.deepEqual(e.reserve('r1', 'a', 300, at(0)), { ok: true });
  assert.equal(e.connect('c1', 'a', at(1)).ok, false, 'the reservation holds the slot');
  assert.deepEqual(e.cancel('r1', at(1)), { ok: true });
  assert.deepEqual(e.connect('c1', 'a', at(1)), { ok: true }, 'freed at once');
  const before = JSON.stringify(e.snapshot());
  assert.equal(thrown(() => e.cancel('c1', at(2))).message, 'call "c1" is connected, not reserved: end it instead of cancelling');
  assert.equal(thrown(() => e.cancel('r1', at(2))).message, 'unknown call "r1"');
  assert.equal(JSON.stringify(e.snapshot()), before, 'errors change nothing');
});

test('live changes: patch a cap, pause, import usage, replace the config; usage matches the CLI', () => {
  const e = new Engine(CONFIG);
  e.connect('c1', 'a', at(0));
  e.end('c1', at(1));
  e.connect('c2', 'a', at(2));
  e.end('c2', at(3));
  assert.equal(e.connect('c3', 'a', at(4)).ok, false, 'hourly cap 2 reached');
  // raising the hourly cap re-opens "a" at once, against the same counters
  assert.deepEqual(e.patch('target', 'a', { caps: { hourly: 3, concurrency: 1, total: 3 } }), { targets: [], groups: [], calls: [] });
  assert.equal(used(e, at(4), 'a', 'hourly'), 2);
  assert.deepEqual(e.connect('c3', 'a', at(4)), { ok: true });
  e.end('c3', at(5));
  assert.match(thrown(() => e.patch('target', 'a', { colour: 'red' })).message, /patch\.colour: "red" is not a field/);
  assert.match(thrown(() => e.patch('target', 'zz', { paused: true })).message, /unknown target "zz"/);
  // a usage import replaces the hour's count
  e.importUsage(at(6), { a: { hourly: 0 } });
  assert.equal(used(e, at(6), 'a', 'hourly'), 0);
  assert.equal(used(e, at(6), 'a', 'total'), 3, 'kinds not imported keep their counts');
  assert.match(thrown(() => e.importUsage(at(6), { nobody: { daily: 1 } })).message, /unknown target or group "nobody"/);
  // a whole new config: "b" is gone, "a" keeps its counters
  const dropped = e.update({ targets: [{ id: 'a', caps: { total: 10 } }] });
  assert.deepEqual(dropped, { targets: ['b'], groups: ['g'], calls: [] });
  assert.equal(used(e, at(7), 'a', 'total'), 3);
  assert.equal(e.usageJson(at(7)), JSON.stringify(e.usage(at(7)), null, 2) + '\n');
});
