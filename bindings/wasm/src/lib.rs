//! WebAssembly bindings (filled by the WASM issue).
