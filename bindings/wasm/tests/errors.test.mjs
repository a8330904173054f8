// Bad input throws a JS Error with the CLI's message and JSON path, never a
// panic (a wasm panic would surface as "unreachable" RuntimeError).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { wasm, examples, readJson, cli, thrown } from './helpers.mjs';

const { Engine, zones } = wasm;

/** The CLI's stderr for a config on stdin, as wasm words it ("config" for "<stdin>"). */
function cliMessage(text, extra = []) {
  const r = cli(['check', '-', '--at', '2026-11-22T15:00:00Z', ...extra], text);
  assert.equal(r.status, 2, `CLI should refuse: ${r.stdout}`);
  const line = r.stderr.trim().replace(/^routecap: /, '');
  assert.ok(line.startsWith('<stdin>: '), line);
  return 'config: ' + line.slice('<stdin>: '.length);
}

const BAD_CONFIGS = [
  {
    about: 'native hours open after close',
    config: { targets: [{ id: 'a', hours: [{ day: 1, open: '18:00', close: '09:00' }] }] },
    path: 'targets[0].hours[0].close',
  },
  {
    about: 'unknown zone with suggestions',
    config: { targets: [{ id: 'a', time_zone: 'Eastern Time (US and Canada)', hours: [] }] },
    path: 'targets[0].time_zone',
    includes: 'Eastern Time (US & Canada)',
  },
  {
    about: 'Retreaver HHMM with minutes >= 60',
    config: { target: { id: 1, business_hours: [{ day_of_week: 1, time_open: 975, time_close: 1700 }] } },
    path: 'target.business_hours[0].time_open',
  },
  {
    about: 'Ringba negative cap other than -1',
    config: { targets: [{ id: 'TA1', enabled: true, schedule: { timeZoneId: 'UTC', dailyCap: -5 } }] },
    path: 'targets[0].schedule.dailyCap',
  },
  {
    about: 'native money with three decimals',
    config: { targets: [{ id: 'a', caps: { daily_revenue: '1.234' } }] },
    path: 'targets[0].caps.daily_revenue',
  },
];

for (const bad of BAD_CONFIGS) {
  test(`config error: ${bad.about} — message and path as the CLI`, () => {
    const text = JSON.stringify(bad.config);
    const err = thrown(() => new Engine(bad.config));
    assert.ok(err instanceof Error, `not an Error: ${err}`);
    assert.equal(err.path, bad.path);
    assert.equal(err.file, 'config');
    assert.ok(err.message.startsWith(`config: ${bad.path}: `), err.message);
    if (bad.includes) assert.ok(err.message.includes(bad.includes), err.message);
    assert.equal(err.message, cliMessage(text));
    // The same from text.
    assert.equal(thrown(() => new Engine(text)).message, err.message);
  });
}

test('invalid JSON text: line and column like the CLI', () => {
  const text = '{"targets": [ {"id": "a",, } ]}';
  const err = thrown(() => new Engine(text));
  assert.match(err.path, /^line 1 column \d+$/);
  assert.equal(err.message, cliMessage(text));
});

test('unrecognised shape and bad --format', () => {
  assert.equal(thrown(() => new Engine('42')).message, cliMessage('42'));
  const e = thrown(() => new Engine('{"targets": []}', 'xml'));
  assert.equal(e.message, '"xml" is not a config format (routecap, retreaver, ringba)');
  // A Retreaver export forced through the Ringba reader fails with a path, as in the CLI.
  const retreaver = JSON.stringify(readJson(examples[1].path));
  const forced = thrown(() => new Engine(retreaver, 'ringba'));
  assert.equal(forced.message, cliMessage(retreaver, ['--format', 'ringba']));
});

test('bad instants and seeds name the argument', () => {
  const engine = new Engine(readJson(examples[0].path));
  assert.match(thrown(() => engine.check('tomorrow')).message, /^at "tomorrow" is not an RFC 3339 instant/);
  assert.equal(thrown(() => engine.check('2200-01-01T00:00:00Z')).message,
    'at "2200-01-01T00:00:00Z" is outside the supported range 1970-01-01T00:00:00Z .. 2100-01-01T00:00:00Z');
  assert.equal(thrown(() => engine.check(' 2026-11-22T15:00:00Z')).message,
    'at " 2026-11-22T15:00:00Z" is not an RFC 3339 instant (e.g. 2026-11-22T15:00:00Z): input contains invalid characters');
  assert.equal(engine.check('2026-11-22T10:00:00-05:00').at, '2026-11-22T15:00:00Z');
  assert.match(thrown(() => engine.route('2026-11-22T15:00:00Z', -1)).message, /^seed -1 is not an integer/);
  assert.match(thrown(() => engine.route('2026-11-22T15:00:00Z', 1.5)).message, /^seed 1.5 is not an integer/);
  assert.match(thrown(() => engine.route('2026-11-22T15:00:00Z', 2 ** 60)).message, /use a BigInt/);
  assert.match(thrown(() => engine.route('2026-11-22T15:00:00Z', '18446744073709551616')).message, /^seed "18446744073709551616"/);
});

test('zones(): resolution as `routecap zones --json`, unknown names with suggestions', () => {
  const names = ['Eastern Time (US & Canada)', 'Romance Standard Time', 'america/new_york', ' Arizona '];
  const native = cli(['zones', ...names, '--json']);
  assert.equal(native.status, 0, native.stderr);
  assert.deepEqual(zones(names), JSON.parse(native.stdout));
  assert.equal(zones([]).length, JSON.parse(cli(['zones', '--json']).stdout).length);
  const err = thrown(() => zones(['Pacific Time (US and Canada)']));
  assert.match(err.message, /^unknown time zone "Pacific Time \(US and Canada\)"; did you mean "Pacific Time \(US & Canada\)"/);
  const nativeErr = cli(['zones', 'Pacific Time (US and Canada)']);
  assert.equal(nativeErr.status, 2);
  assert.equal('routecap: ' + err.message, nativeErr.stderr.trim());
});

test('unknown ids in lifecycle calls and hoursGrid', () => {
  const engine = new Engine(readJson(examples[0].path));
  const at = '2026-11-25T14:05:00Z';
  assert.equal(thrown(() => engine.connect('c1', 'nobody', at)).message, 'unknown target "nobody"');
  assert.equal(thrown(() => engine.resetGroup('nogroup')).message, 'unknown group "nogroup"');
  // As `routecap hours --target nobody` words it (minus the "routecap: " prefix).
  const hours = cli(['hours', examples[0].path, '--target', 'nobody', '--week-of', '2026-11-22']);
  assert.equal(hours.status, 2);
  assert.equal(thrown(() => engine.hoursGrid('nobody', '2026-11-22')).message, hours.stderr.trim().replace(/^routecap: /, ''));
  assert.match(thrown(() => engine.hoursGrid('nobody', '2026-11-22')).message, /^unknown target or group "nobody" \(known: /);
  assert.match(thrown(() => engine.hoursGrid('ny-insurance', '2026-11-22', 'Mars/Olympus')).message, /^unknown time zone "Mars\/Olympus"/);
  assert.match(thrown(() => engine.convert('c1', '1.234', at)).message, /^revenue: "1.234" has more than 2 decimal places/);
});

test('validate: the CLI\'s report, errors and warnings, as a value', () => {
  const warned = {
    targets: [
      { id: 'weekdays', hours: [{ day: 1, open: '09:00', close: '17:00' }] },
      { id: 'old-zone', time_zone: 'US/Eastern' },
    ],
  };
  const typo = { targets: [{ id: 'a', tiem_zone: 'UTC' }] };
  for (const config of [warned, typo]) {
    const r = cli(['validate', '-', '--json'], JSON.stringify(config));
    const report = wasm.validate(config);
    assert.deepEqual(report, JSON.parse(r.stdout));
    assert.deepEqual(wasm.validate(JSON.stringify(config)), report);
  }
  assert.deepEqual(wasm.validate(warned).warnings.map((w) => w.code), ['open_unlisted_days', 'legacy_zone_alias']);
  assert.deepEqual(wasm.validate(typo).errors, [
    { path: '$.targets[0].tiem_zone', message: 'unknown field `tiem_zone`; did you mean `time_zone`?' },
  ]);
  // the engine refuses the same config with the same words
  const e = thrown(() => new Engine(typo));
  assert.equal(e.path, 'targets[0].tiem_zone');
  assert.throws(() => wasm.validate(warned, 'xml'), /not a config format/);
});
