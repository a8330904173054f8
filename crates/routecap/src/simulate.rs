//! The simulator, re-exported from the core (`routecap_core::simulate`), where
//! it lives so the WebAssembly demo runs the very same code for a seed.
//! This crate adds only its faces: the `routecap simulate` command (with a
//! progress bar) and [`crate::report_html`].

pub use routecap_core::simulate::*;
