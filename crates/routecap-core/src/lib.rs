//! # routecap-core
//!
//! The pure core of routecap, a cap-and-schedule call routing rules engine
//! for pay-per-call and call-tracking networks: who may receive a call now,
//! why the others may not and until when, and in what failover order to ring
//! the eligible ones.
//!
//! This crate does no I/O, reads no clock, owns no global RNG and starts no
//! threads: instants and random seeds come in as arguments, so the same
//! inputs give the same answers natively and in WebAssembly.
//!
//! Modules, one concept each:
//! - [`zone`]: Rails / Windows / IANA zone names and offset transition tables.
//! - [`hours`]: weekly business hours on the local wall clock.
//! - [`window`]: hourly / daily / monthly cap windows as UTC instant ranges.
//! - [`caps`]: cap limits, imported usage, count triggers.
//! - [`money`]: exact money in integer minor units.
//! - [`model`]: targets, groups, configs.
//! - [`state`]: counters and the call lifecycle.
//! - [`eligibility`]: who is eligible now, every reason why not, and until when.
//! - [`route`]: failover order by priority and weighted random draw.
//! - [`formats`]: the native, Retreaver and Ringba config shapes.
//! - [`render`]: JSON views of decisions, shared by the CLI and WebAssembly.
//!
//! Where the routing contract is silent, [`decisions`] says what routecap does and why.
#![deny(missing_docs)]

pub mod caps;
pub mod decisions;
pub mod eligibility;
pub mod formats;
pub mod hours;
pub mod model;
pub mod money;
pub mod render;
pub mod route;
pub mod state;
pub mod window;
pub mod zone;

pub use zone::Instant;
