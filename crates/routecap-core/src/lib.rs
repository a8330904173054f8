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
//! - [`zone_cache`]: one shared copy per config of each zone and schedule.
//! - [`instant`]: RFC 3339 instants as text, the one reader every face uses.
//! - [`hours`]: weekly business hours on the local wall clock.
//! - [`window`]: hourly / daily / monthly cap windows as UTC instant ranges.
//! - [`caps`]: cap limits, imported usage, count triggers.
//! - [`cap_settings`]: a target's cap limits and imported usage, stored as set.
//! - [`money`]: exact money in integer minor units.
//! - [`model`]: targets, groups, campaigns, configs.
//! - [`call`]: one inbound call: its id, caller, tags and campaign.
//! - [`filter`]: call attributes and target filters.
//! - [`caller_rules`]: the duplicate and repeat caller rules a config holds.
//! - [`caller_history`]: who called whom and when, as those rules read it.
//! - [`counters`]: usage per cap window, per target and group.
//! - [`eligibility`]: who is eligible now, every reason why not, and until when.
//! - [`effects`]: what a lifecycle event touches, for shared-state backends.
//! - [`lifecycle`]: connect, reserve, convert, end, resets — checked, then counted.
//! - [`carry_over`]: a running state carried to a new config; usage imports merged.
//! - [`snapshot`]: the JSON-friendly copy of a lifecycle state, and restoring one.
//! - [`route`]: failover order by priority and weighted random draw.
//! - [`formats`]: the native, Retreaver and Ringba config shapes.
//! - [`render`]: JSON views of decisions, shared by every face.
//! - [`grid`]: week grids of business hours, exact across DST.
//! - [`engine`]: config + state + id index: one method per operation, for every face.
//! - [`simulate`]: synthetic traffic through the real state and router.
//!
//! The routing semantics, including what routecap does where the platforms
//! it imports from are silent, are written out in the repository's
//! `docs/semantics.md`. The DST policies for local date-times are named in
//! [`zone::LocalTimePolicy`].
//!
//! # Using the core directly
//!
//! The core works on a [`model::Config`] and a [`lifecycle::State`] that the
//! caller owns (the `routecap` crate wraps them in a thread-safe `Engine`).
//! Every call takes the instant of the event; nothing reads a clock.
//!
//! ```
//! use routecap_core::{eligibility, formats, route, lifecycle::{ConnectOutcome, State}};
//! use routecap_core::money::Money;
//! use chrono::{DateTime, Utc};
//!
//! let config = formats::parse_config(br#"{
//!   "targets": [
//!     {"id": "a", "weight": 3, "caps": {"hourly": 1}},
//!     {"id": "b", "weight": 1, "time_zone": "Europe/London",
//!      "hours": [{"day": 0, "closed": true}]}
//!   ]
//! }"#, "config.json", None)?;
//! let mut state = State::new(&config);
//! // Sunday 2026-11-22, 15:00 UTC: "b" is closed on Sundays
//! let at: DateTime<Utc> = "2026-11-22T15:00:00Z".parse()?;
//!
//! let reports = eligibility::check(&config, &state, at);
//! assert!(reports[0].eligible);
//! assert!(!reports[1].eligible);
//! assert_eq!(reports[1].reasons[0].code_string(), "closed");
//! // ...until Monday 00:00 in London
//! assert_eq!(reports[1].reasons[0].until, Some("2026-11-23T00:00:00Z".parse()?));
//!
//! // failover order from a seed: only "a" is eligible
//! let plan = route::plan(&config, &reports, &mut route::rng_from_seed(42));
//! assert_eq!(plan, [route::Step::Target(0)]);
//!
//! // the lifecycle: connect (re-checked and counted), convert, end
//! assert_eq!(state.connect(&config, "c1", 0, at)?, ConnectOutcome::Connected);
//! state.convert(&config, "c1", Money(1250), at)?;
//! state.end(&config, "c1", at)?;
//! // "a" has used its hourly cap of 1
//! let again = eligibility::check(&config, &state, at);
//! assert_eq!(again[0].reasons[0].code_string(), "hourly_cap");
//!
//! // a JSON-friendly snapshot of every counter and call
//! let snap = state.snapshot(&config);
//! assert_eq!(snap.targets[0].hour.count, 1);
//! assert_eq!(snap.calls[0].revenue.as_deref(), Some("12.50"));
//! assert_eq!(State::restore(&config, &snap)?, state);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

pub mod call;
pub mod caller_history;
pub mod caller_rules;
pub mod cap_settings;
pub mod caps;
pub mod carry_over;
pub mod counters;
pub mod effects;
pub mod eligibility;
pub mod engine;
pub mod filter;
pub mod formats;
pub mod grid;
pub mod hours;
pub mod instant;
mod intern_hasher;
pub mod lifecycle;
pub mod model;
pub mod money;
pub mod render;
pub mod route;
pub mod simulate;
pub mod snapshot;
pub mod validate;
pub mod window;
pub mod zone;
pub mod zone_cache;
// The build-time zone prober; at runtime only its range constants are used.
#[cfg_attr(not(test), allow(dead_code))]
mod zone_transitions;

pub use call::Call;
pub use zone::Instant;
