// Call attributes through the wasm face: check/route/connect take an
// optional {caller, tags, campaign}, answer what the native CLI prints for
// the same --caller/--tag/--campaign flags, and campaigns refuse or fall back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { wasm, root, readJson, cli } from './helpers.mjs';

const { Engine } = wasm;
const CFG = join(root, 'examples', 'attributes.json');
const AT = '2026-11-23T15:00:00Z';

test('check and route with attributes equal the CLI byte for byte', () => {
  const e = new Engine(readJson(CFG));
  const attrs = { caller: '+19195550100', tags: { geo: '919,us,us-27601,us-nc', age: [70] } };
  const flags = ['--caller', '+19195550100', '--tag', 'geo=919,us,us-27601,us-nc', '--tag', 'age=70'];
  assert.equal(e.checkJson(AT, attrs), cli(['check', CFG, '--at', AT, '--json', ...flags]).stdout);
  assert.equal(e.routeJson(AT, 5, attrs), cli(['route', CFG, '--at', AT, '--seed', '5', '--json', ...flags]).stdout);
  const camp = { campaign: 'medicare', tags: { calling_about: 'medicare' } };
  const cflags = ['--campaign', 'medicare', '--tag', 'calling_about=medicare'];
  assert.equal(e.routeJson(AT, 2, camp), cli(['route', CFG, '--at', AT, '--seed', '2', '--json', ...cflags]).stdout);
  // no attributes (undefined / null / {}) is a call with no tags
  assert.equal(e.checkJson(AT), e.checkJson(AT, {}));
  assert.equal(e.checkJson(AT, null), cli(['check', CFG, '--at', AT, '--json']).stdout);
});

test('filter reasons carry a detail; plan steps a timeout; the fallback comes last', () => {
  const e = new Engine(readJson(CFG));
  const c = e.check(AT, { tags: { geo: 'us-tx' } });
  const nc = c.candidates.find((x) => x.id === 'nc-medicare');
  assert.deepEqual(nc.reasons, [{ code: 'filter_mismatch', until: null, detail: 'geo in [us-nc, us-sc]: call has geo = [us-tx]' }]);
  const r = e.route(AT, 1, { campaign: 'medicare', tags: { calling_about: 'medicaid' } });
  assert.deepEqual(r.plan.at(-1), { target: 'overflow', timeout_seconds: 60, fallback: true });
  const refused = e.route(AT, 1, { campaign: 'medicare', tags: { calling_about: 'auto' } });
  assert.deepEqual(refused.plan, []);
  assert.equal(refused.rejected[0].kind, 'campaign');
  assert.throws(() => e.route(AT, 1, { campaign: 'nope' }), /unknown campaign "nope"/);
  assert.throws(() => e.check(AT, { tags: 'geo' }), /attrs: tags must be an object/);
  assert.equal(e.routeMany(AT, 1, 50, { campaign: 'medicare', tags: { calling_about: 'auto' } }).none, 50);
});

test('connect re-checks the filter on the call attributes', () => {
  const e = new Engine(readJson(CFG));
  const no = e.connect('c1', 'nc-medicare', AT, { tags: { geo: 'us-tx', age: '70' } });
  assert.equal(no.ok, false);
  assert.equal(no.reasons[0].code, 'filter_mismatch');
  assert.deepEqual(e.connect('c1', 'nc-medicare', AT, { tags: { geo: 'us-nc', age: '70' } }), { ok: true });
});

test('formatReason is the CLI\'s wording: every reason of check and route reads as the CLI text prints it', () => {
  const e = new Engine(readJson(CFG));
  const cases = [
    [{ tags: { geo: 'us-tx' } }, ['--tag', 'geo=us-tx']],
    [{ campaign: 'medicare', tags: { calling_about: 'auto' } }, ['--campaign', 'medicare', '--tag', 'calling_about=auto']],
    [{ campaign: 'medicare', tags: { calling_about: 'medicaid' } }, ['--campaign', 'medicare', '--tag', 'calling_about=medicaid']],
  ];
  let seen = 0;
  for (const [attrs, flags] of cases) {
    const check = cli(['check', CFG, '--at', AT, ...flags]);
    assert.equal(check.status, 0, check.stderr);
    const reasons = e.check(AT, attrs).candidates.flatMap((c) => c.reasons);
    for (const r of [...reasons, ...(e.check(AT, attrs).campaign?.reasons ?? [])]) {
      assert.ok(check.stdout.includes(wasm.formatReason(r)), `${wasm.formatReason(r)} in\n${check.stdout}`);
      seen++;
    }
    const route = cli(['route', CFG, '--at', AT, '--seed', '3', ...flags]);
    assert.equal(route.status, 0, route.stderr);
    for (const rej of e.route(AT, 3, attrs).rejected) {
      for (const r of rej.reasons) {
        assert.ok(route.stdout.includes(wasm.formatReason(r)), `${wasm.formatReason(r)} in\n${route.stdout}`);
        seen++;
      }
    }
  }
  assert.ok(seen >= 4, `${seen} reasons compared`);
  assert.equal(wasm.formatReason({ code: 'daily_cap', used: 40, limit: 40, until: '2026-11-23T05:00:00Z' }),
    'daily_cap 40/40 until 2026-11-23T05:00:00Z');
  assert.equal(wasm.formatReason({ code: 'group_daily_revenue_cap', group: 'east', used: '9.50', limit: '9.50', until: null }),
    'group_daily_revenue_cap 9.50/9.50 [east]');
  assert.throws(() => wasm.formatReason({ until: null }), /reason\.code is missing/);
  assert.throws(() => wasm.formatReason({ code: 'daily_cap', used: -1, limit: 2, until: null }), /reason\.used must be a count/);
  assert.throws(() => wasm.formatReason('daily_cap'), /reason must be a reason object/);
});
