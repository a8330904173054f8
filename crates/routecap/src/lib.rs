//! # routecap
//!
//! The native face of routecap: re-exports the pure core, adds a thread-safe
//! [`Engine`] for services, file loading, and the `routecap` CLI.
#![deny(missing_docs)]

pub use routecap_core as core;

pub mod engine;
pub mod load;
pub mod replay;
pub mod report_html;
pub mod simulate;

pub use engine::Engine;
