// Replaces the bodies of the standard library's panic entry points in a
// wasm module with `unreachable`, so that the panic runtime and the message
// formatting only it reaches are dropped by the wasm-opt that follows.
//
// Behaviour is unchanged: routecap's wasm builds use panic = "abort", where
// every panic already ends in `unreachable` (a JS RuntimeError), and the
// message it formats first goes to stderr, which wasm32-unknown-unknown
// discards (no panic hook is installed). Only functions that never return
// (`-> !`) are listed. Needs the name section (wasm-bindgen keeps it).
//
// usage: node scripts/wasm-snip-panics.mjs IN.wasm OUT.wasm
// (binaryen.js from web-demo/node_modules, the npm package wasm-opt comes from)
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const binaryen = (await import(join(here, '..', 'web-demo', 'node_modules', 'binaryen', 'index.js'))).default;

// Diverging functions of core, alloc and std (names without crate hashes).
const DIVERGING = [
  /^core::panicking::[a-z_:0-9]+$/,
  /^std::panicking::(begin_panic_handler|panic_with_hook|rust_panic_with_hook|rust_panic)$/,
  /^std::panicking::begin_panic(::<.*>)?$/,
  /^core::option::(unwrap|expect)_failed$/,
  /^core::result::unwrap_failed$/,
  /^core::slice::index::slice_[a-z_]+_fail$/,
  /^core::str::slice_error_fail(_rt|_ct)?$/,
  /^core::cell::panic_already_(mutably_)?borrowed$/,
  /^alloc::alloc::handle_alloc_error$/,
  /^alloc::raw_vec::(capacity_overflow|handle_error)$/,
];

/** A function's name without crate disambiguators and symbol hashes. */
const plain = (name) => name.replace(/\[[0-9a-f]+\]/g, '').replace(/::h[0-9a-f]{16}$/, '');

const [input, output] = process.argv.slice(2);
if (!input || !output) {
  console.error('usage: node scripts/wasm-snip-panics.mjs IN.wasm OUT.wasm');
  process.exit(2);
}
const module = binaryen.readBinary(readFileSync(input));
// the features scripts/build-wasm gives wasm-opt (what rustc emits for
// wasm32-unknown-unknown); more would let binaryen write newer encodings
const F = binaryen.Features;
module.setFeatures(F.MVP | F.BulkMemory | F.BulkMemoryOpt | F.NontrappingFPToInt | F.SignExt | F.MutableGlobals | F.ReferenceTypes | F.Multivalue);
const snipped = [];
for (let i = 0; i < module.getNumFunctions(); i++) {
  const info = binaryen.getFunctionInfo(module.getFunctionByIndex(i));
  if (info.module === '' && DIVERGING.some((re) => re.test(plain(info.name)))) snipped.push(info);
}
for (const info of snipped) {
  module.removeFunction(info.name);
  module.addFunction(info.name, info.params, info.results, info.vars, module.unreachable());
}
if (!module.validate()) {
  console.error(`wasm-snip-panics: ${input}: the module does not validate after snipping`);
  process.exit(1);
}
writeFileSync(output, module.emitBinary());
console.log(`wasm-snip-panics: ${snipped.length} panic entry points -> unreachable (${snipped.map((f) => plain(f.name)).join(', ')})`);
