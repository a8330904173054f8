// The published package as a user gets it: `npm pack` of the web build
// (bindings/wasm/pkg, which scripts/build-wasm assembles with
// bindings/wasm/npm/package.json), installed from the tarball into a fresh
// directory with `npm install --offline` (a local tarball without
// dependencies needs no registry), then a Node script there imports
// `routecap-wasm` by name and checks a bundled example, and tsc --strict
// type-checks a TypeScript user of it. scripts/test-wasm builds pkg/ first.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { root } from './helpers.mjs';

const pkg = join(root, 'bindings', 'wasm', 'pkg');

/** Run `cmd` in `cwd`; its stdout (its output in the error when it fails). */
function run(cmd, args, cwd) {
  try {
    return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    throw new Error(`${cmd} ${args.join(' ')} failed in ${cwd}:\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}

test('package.json: name, version (the workspace\'s), license, files, main and types', () => {
  const meta = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8'));
  const cargo = readFileSync(join(root, 'Cargo.toml'), 'utf8');
  const version = /\[workspace\.package\][^[]*?\nversion = "([^"]+)"/.exec(cargo)[1];
  assert.equal(meta.name, 'routecap-wasm');
  assert.equal(meta.version, version);
  assert.equal(meta.license, 'MIT OR Apache-2.0');
  assert.equal(meta.main, 'routecap_wasm.js');
  assert.equal(meta.types, 'routecap_wasm.d.ts');
  for (const f of ['routecap_wasm.js', 'routecap_wasm.d.ts', 'routecap_wasm_bg.wasm']) {
    assert.ok(meta.files.includes(f), `files lacks ${f}`);
  }
});

test('npm pack, npm install of the tarball into a fresh directory, a check from Node', (t) => {
  const work = mkdtempSync(join(tmpdir(), 'routecap-npm-'));
  t.after(() => rmSync(work, { recursive: true, force: true }));
  const packed = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', work], pkg))[0];
  const names = packed.files.map((f) => f.path).sort();
  console.log(`# npm pack: ${packed.filename}, ${packed.size} bytes, ${names.length} files: ${names.join(' ')}`);
  for (const f of ['package.json', 'README.md', 'routecap_wasm.js', 'routecap_wasm.d.ts', 'routecap_wasm_bg.wasm',
    'routecap_wasm_full.js', 'routecap_wasm_full_bg.wasm', 'routecap_wasm_sim.js', 'routecap_wasm_sim_bg.wasm',
    'examples/native.json']) {
    assert.ok(names.includes(f), `the tarball lacks ${f}`);
  }
  assert.ok(!names.some((f) => f.startsWith('snippets/') || f.endsWith('.snip')), names.join(' '));

  const app = join(work, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  // an empty npm cache of its own: nothing can come from a registry or a cache
  run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--cache', join(work, 'npm-cache'),
    join(work, packed.filename)], app);
  assert.deepEqual(readdirSync(join(app, 'node_modules')).filter((d) => !d.startsWith('.')), ['routecap-wasm']);

  // the README's Node example, with a check at a Sunday afternoon
  writeFileSync(join(app, 'check.mjs'), `
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { initSync, Engine } from 'routecap-wasm';
const require = createRequire(import.meta.url);
initSync({ module: readFileSync(require.resolve('routecap-wasm/routecap_wasm_bg.wasm')) });
const config = JSON.parse(readFileSync(require.resolve('routecap-wasm/examples/native.json'), 'utf8'));
console.log(JSON.stringify(new Engine(config).check('2026-11-22T15:00:00Z')));
`);
  const answer = JSON.parse(run('node', ['check.mjs'], app));
  console.log(`# check from the installed package: ${answer.candidates.map((c) => `${c.id} ${c.eligible ? 'eligible' : c.reasons.map((r) => r.code).join('+')}`).join(', ')}`);
  assert.equal(answer.at, '2026-11-22T15:00:00Z');
  const byId = Object.fromEntries(answer.candidates.map((c) => [c.id, c]));
  // Sunday: the night pool takes calls; la-solar is closed at weekends and
  // ny-insurance on Sundays, until Monday 09:00 in New York (14:00Z)
  assert.equal(byId['night-pool']?.eligible, true, JSON.stringify(answer));
  assert.equal(byId['la-solar']?.eligible, false, JSON.stringify(answer));
  assert.equal(byId['ny-insurance']?.eligible, false, JSON.stringify(answer));
  assert.deepEqual(byId['ny-insurance'].reasons.map((r) => r.code), ['closed']);
  assert.equal(byId['ny-insurance'].reasons[0].until, '2026-11-23T14:00:00Z');

  // TypeScript in the same directory finds the declarations through the
  // package's `exports` (tsc --strict, Node's own module resolution)
  writeFileSync(join(app, 'typed.ts'), `
import { Engine, type CheckView, type ReasonView } from 'routecap-wasm';
import { Engine as Full, type OutcomeView } from 'routecap-wasm/full';
import { simulate } from 'routecap-wasm/sim';
export function codes(e: Engine, at: string): string[] {
  const view: CheckView = e.check(at, { caller: '+19195550100', tags: { geo: 'us-nc' } });
  return view.candidates.flatMap((c) => c.reasons.map((r: ReasonView) => r.code));
}
export const connect = (e: Full): OutcomeView => e.connect('c1', 'la-solar', '2026-11-22T15:00:00Z');
export const sim = simulate;
`);
  const tsc = join(root, 'web-demo', 'node_modules', '.bin', 'tsc');
  run(tsc, ['--noEmit', '--strict', '--target', 'es2022', '--module', 'nodenext', '--moduleResolution', 'nodenext',
    '--lib', 'esnext,dom', 'typed.ts'], app);
});
