// The published package as a user gets it: `npm pack` of the web build
// (bindings/wasm/pkg, which scripts/build-wasm assembles with
// bindings/wasm/npm/package.json), installed from the tarball into a fresh
// directory with `npm install --offline` (a local tarball without
// dependencies needs no registry), then a Node script there imports
// `routecap-wasm` by name and checks a bundled example.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { root } from './helpers.mjs';

const pkg = join(root, 'bindings', 'wasm', 'pkg');

/** Run `cmd` in `cwd`; its stdout. */
function run(cmd, args, cwd) {
  return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
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
  run('npm', ['install', '--offline', '--no-audit', '--no-fund', join(work, packed.filename)], app);
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
  const eligible = answer.candidates.filter((c) => c.eligible).map((c) => c.id);
  const codes = answer.candidates.flatMap((c) => c.reasons.map((r) => r.code));
  assert.ok(eligible.length > 0, JSON.stringify(answer));
  assert.ok(codes.length > 0, JSON.stringify(answer));
  const config = JSON.parse(readFileSync(join(root, 'examples', 'native.json'), 'utf8'));
  const ids = [...config.targets, ...(config.groups ?? [])].map((o) => o.id);
  for (const id of eligible) assert.ok(ids.includes(id), `${id} is no id of examples/native.json`);
  for (const code of codes) assert.match(code, /^[a-z_]+$/);
});
