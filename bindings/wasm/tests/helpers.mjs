// Shared helpers of the node tests: load the nodejs-target build, find the
// repository's files, and run the native CLI for native == wasm comparisons.
import { createRequire } from 'node:module';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const root = join(here, '..', '..', '..');
const require = createRequire(import.meta.url);

/** The wasm module (built by scripts/build-wasm into pkg-node/). */
export const wasm = require(join(here, '..', 'pkg-node', 'routecap_wasm.js'));

export const examples = ['native', 'retreaver', 'ringba'].map((name) => ({
  name,
  path: join(root, 'examples', `${name}.json`),
}));

export function readJson(path) {
  return JSON.parse(readFileSync(path, 'utf8'));
}

/** The native `routecap` binary: $ROUTECAP_BIN, or the debug build. */
export function cliPath() {
  const bin = process.env.ROUTECAP_BIN || join(root, 'target', 'debug', 'routecap');
  if (!existsSync(bin)) {
    throw new Error(`native CLI not found at ${bin} (cargo build -p routecap, or set ROUTECAP_BIN)`);
  }
  return bin;
}

/** Run the CLI; returns {status, stdout, stderr} without throwing. */
export function cli(args, input) {
  try {
    const stdout = execFileSync(cliPath(), args, { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'] });
    return { status: 0, stdout, stderr: '' };
  } catch (e) {
    if (e.status === undefined || e.status === null) throw e;
    return { status: e.status, stdout: e.stdout, stderr: e.stderr };
  }
}

/** What `fn` throws (fails the test if it does not). */
export function thrown(fn) {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected an exception, none was thrown');
}
