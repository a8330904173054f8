// The weekly hours heatmap, in the owner's zone and in the viewer's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { wasm, examples, readJson } from './helpers.mjs';

const engine = new wasm.Engine(readJson(examples[0].path));

test('NY insurance desk, week of Sun 2026-11-22: own zone and UTC', () => {
  const g = engine.hoursGrid('ny-insurance', '2026-11-22', 'UTC');
  assert.equal(g.kind, 'target');
  assert.equal(g.always_open, false);
  assert.equal(g.own.zone, 'America/New_York');
  assert.equal(g.viewer.zone, 'Etc/UTC');
  assert.equal(g.own.days.length, 7);
  assert.deepEqual(g.own.days.map((d) => d.weekday), [0, 1, 2, 3, 4, 5, 6]);
  assert.deepEqual(g.own.days[0].hours, Array(24).fill(0), 'closed on Sundays');
  const monday = g.own.days[1].hours;
  assert.deepEqual(monday.map((h, i) => (h > 0 ? i : -1)).filter((i) => i >= 0), [9, 10, 11, 12, 13, 14, 15, 16]);
  assert.deepEqual(g.own.days[6].hours.map((h, i) => (h > 0 ? i : -1)).filter((i) => i >= 0), [10, 11, 12, 13]);
  // 09:00-17:00 EST is 14:00-22:00 UTC.
  const utcMonday = g.viewer.days[1].hours;
  assert.deepEqual(utcMonday.map((h, i) => (h === 1 ? i : -1)).filter((i) => i >= 0), [14, 15, 16, 17, 18, 19, 20, 21]);
});

test('London 17:30 close shows as a half-open hour; Kolkata viewer sees :30 boundaries', () => {
  const g = engine.hoursGrid('london-debt', '2026-11-23', 'Asia/Kolkata');
  assert.equal(g.own.days[0].hours[17], 0.5);
  assert.equal(g.own.days[0].hours[16], 1);
  // 09:00 GMT = 14:30 IST: hour 14 is half open.
  assert.equal(g.viewer.days[0].hours[14], 0.5);
  assert.equal(g.viewer.days[0].hours[15], 1);
});

test('DST: the spring-forward hour does not exist (null); the fall-back hour is judged twice', () => {
  const spring = engine.hoursGrid('ny-insurance', '2026-03-08', 'UTC');
  assert.equal(spring.own.days[0].hours[2], null, '02:00-03:00 is skipped on 8 March 2026');
  assert.equal(spring.own.days[0].hours.filter((h) => h === null).length, 1);
  // Phoenix (no DST) seen from New York on the spring-forward Sunday.
  const px = engine.hoursGrid('phoenix-overnight', '2026-03-08', 'America/New_York');
  assert.equal(px.viewer.days[0].hours[2], null);
  assert.equal(px.own.days[0].hours[2], 1, 'open overnight, inverted 06-22');
  assert.equal(px.own.days[0].hours[12], 0);
});

test('a group heatmap, and an always-open target', () => {
  const g = engine.hoursGrid('us-east', '2026-11-22');
  assert.equal(g.kind, 'group');
  assert.equal(g.viewer.zone, 'UTC');
  const k = engine.hoursGrid('kolkata-bpo', '2026-11-22', 'Pacific Standard Time');
  assert.equal(k.always_open, true);
  assert.ok(k.viewer.days.every((d) => d.hours.every((h) => h === 1)));
  assert.equal(k.viewer.zone, 'America/Los_Angeles');
});
