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
