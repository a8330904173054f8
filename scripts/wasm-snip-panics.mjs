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
// With --no-float-display (the main module only), also snips core's
// `<f64 as Display>::fmt`, which takes core's float formatting (flt2dec:
// Grisu, Dragon and their tables, ~17 KB raw, 7.4 KB gzipped) along. In the
// main module its one user is serde's `Unexpected::Float` display
// (`WithDecimalPoint`), and that is dead: serde_json's errors display
// `Unexpected` through its own `JsonUnexpected`, which writes floats with
// zmij and hands serde only the other variants (and with arbitrary_precision
// its text reader reports a misplaced number as `number`, never as a float;
// bindings/wasm/tests/modules.test.mjs checks the texts). The script checks that no
// other function takes the formatter's address (stores its table index) or
// calls it; when one does, it snips nothing more and warns (the size test
// then fails), since that code would format an f64.
//
// usage: node scripts/wasm-snip-panics.mjs [--no-float-display] IN.wasm OUT.wasm
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

const args = process.argv.slice(2);
const noFloatDisplay = args[0] === '--no-float-display';
const [input, output] = noFloatDisplay ? args.slice(1) : args;
if (!input || !output) {
  console.error('usage: node scripts/wasm-snip-panics.mjs [--no-float-display] IN.wasm OUT.wasm');
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
if (noFloatDisplay) {
  const info = floatDisplay(module);
  if (info) snipped.push(info);
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
console.log(`wasm-snip-panics: ${snipped.length} functions -> unreachable (${snipped.map((f) => plain(f.name)).join(', ')})`);

/** core's `<f64 as Display>::fmt` when its only user is serde's
 * `WithDecimalPoint` (see the top of this file), else `undefined` (with a
 * warning naming the other users). */
function floatDisplay(module) {
  const FLOAT = '<f64 as core::fmt::Display>::fmt';
  const ALLOWED = /^<serde_core::de::WithDecimalPoint as core::fmt::Display>::fmt$/;
  let info;
  for (let i = 0; i < module.getNumFunctions(); i++) {
    const f = binaryen.getFunctionInfo(module.getFunctionByIndex(i));
    if (f.module === '' && plain(f.name) === FLOAT) info = f;
  }
  if (!info) return undefined;
  // its index in the function table: what a `fmt::Argument` stores
  const slots = [];
  for (let i = 0; i < module.getNumElementSegments(); i++) {
    const seg = binaryen.getElementSegmentInfo(module.getElementSegmentByIndex(i));
    const base = binaryen.getExpressionInfo(seg.offset).value;
    seg.data.forEach((name, k) => { if (name === info.name) slots.push(base + k); });
  }
  // Text of the module: `(func $name`, then one expression per line, an
  // operand one space deeper than its parent.
  const users = new Set();
  let current = '';
  const lines = module.emitText().split('\n');
  const quoted = (name) => (/^[\w.:<>]+$/.test(name) ? name : `"${name}"`);
  const target = `$${quoted(info.name)}`;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const head = /^ \(func \$("(?:[^"\\]|\\.)*"|\S+)/.exec(line);
    if (head) {
      current = head[1].replace(/^"|"$/g, '').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
      continue;
    }
    if (line.includes(`(call ${target})`) || line.includes(`(ref.func ${target})`) || line.includes(`(return_call ${target})`)) {
      users.add(current);
      continue;
    }
    const c = /^( *)\(i32\.const (-?\d+)\)$/.exec(line);
    if (!c || !slots.includes(Number(c[2]))) continue;
    // the parent expression: the nearest line above, one space shallower
    const depth = c[1].length;
    for (let j = i - 1; j >= 0; j--) {
      const d = lines[j].length - lines[j].trimStart().length;
      if (d < depth) {
        if (/^\(i32\.store( |$)/.test(lines[j].trimStart())) users.add(current);
        break;
      }
    }
  }
  const others = [...users].filter((u) => !ALLOWED.test(plain(u)));
  if (others.length > 0) {
    console.error(`wasm-snip-panics: ${input}: not snipping ${FLOAT}: also used by ${others.map(plain).join(', ')}`);
    return undefined;
  }
  return info;
}
