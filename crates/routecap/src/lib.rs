//! # routecap
//!
//! The native face of routecap: re-exports the pure core, adds a thread-safe
//! [`Engine`] for services, file loading, the simulator, and the `routecap`
//! CLI.
//!
//! - [`engine`]: one config and its live counters behind a lock; every
//!   lifecycle call re-checks and counts atomically (no overbooking).
//! - [`load`]: configs from files or standard input, any of the three shapes.
//! - [`replay`]: JSON Lines of call events through a state.
//! - [`simulate`]: synthetic traffic through the real engine (from the core).
//! - [`report_html`]: the self-contained HTML report of a simulation.
//! - [`serve`]: the engine as an HTTP service (`routecap serve`).
//! - [`core`]: the pure engine (zones, hours, caps, eligibility, route order).
//!
//! # Embedding in a service
//!
//! Build one [`Engine`] per config and share it (`Arc<Engine>`) between request
//! handlers. For each inbound call: `check` who may take it (with every reason
//! for the others), draw the failover order, then report what happened —
//! `connect` when a target answers, `convert` when the call pays, `end` when
//! it hangs up. Instants are UTC (`chrono::DateTime<Utc>`); the `*_now`
//! variants read the system clock.
//!
//! ```
//! use routecap::core::formats::parse_config;
//! use routecap::core::money::Money;
//! use routecap::core::lifecycle::ConnectOutcome;
//! use routecap::Engine;
//! use chrono::{DateTime, Utc};
//!
//! let json = br#"{
//!   "targets": [
//!     {"id": "east", "priority": 1, "weight": 3, "time_zone": "America/New_York",
//!      "hours": [{"day": 1, "open": "09:00", "close": "17:00"}],
//!      "caps": {"daily": 2, "concurrency": 1}},
//!     {"id": "backup", "priority": 2}
//!   ]
//! }"#;
//! let config = parse_config(json, "buyers.json", None)?;
//! let engine = Engine::new(config);
//!
//! // Monday 2026-11-23, 10:00 in New York
//! let at: DateTime<Utc> = "2026-11-23T15:00:00Z".parse()?;
//!
//! // who may take the call, and why not the others
//! let reports = engine.check(at);
//! assert!(reports.iter().all(|r| r.eligible));
//!
//! // the failover order: priority tiers, weighted random within a tier;
//! // the same seed gives the same order on every platform
//! let order: Vec<String> = engine.with_state(|config, state| {
//!     use routecap::core::{eligibility, route};
//!     let reports = eligibility::check(config, state, at);
//!     let mut rng = route::rng_from_seed(7);
//!     route::plan(config, &reports, &mut rng)
//!         .iter()
//!         .map(|step| match *step {
//!             route::Step::Target(t) => config.targets[t].id.clone(),
//!             route::Step::Group { group, .. } => config.groups[group].id.clone(),
//!         })
//!         .collect()
//! });
//! assert_eq!(order, ["east", "backup"]);
//!
//! // on live traffic, keep one router per worker thread: same answer, but
//! // per-zone clocks and reports are cached and nothing is allocated
//! let mut router = engine.router();
//! let first = engine.route_with(&mut router, at, &mut routecap::core::route::rng_from_seed(7),
//!     |config, _reports, mut plan| match plan.next() {
//!         Some(routecap::core::route::Step::Target(t)) => config.targets[t].id.clone(),
//!         _ => String::new(),
//!     });
//! assert_eq!(first, "east");
//!
//! // "east" answers: connect re-checks and counts atomically
//! assert_eq!(engine.connect("call-1", "east", at)?, ConnectOutcome::Connected);
//! // a second live call would exceed its concurrency cap of 1: refused, nothing changes
//! match engine.connect("call-2", "east", at)? {
//!     ConnectOutcome::Refused(reasons) => assert_eq!(reasons[0].code_string(), "concurrency_cap"),
//!     ConnectOutcome::Connected => unreachable!(),
//! }
//! // the call pays 25.00 (exact cents), then hangs up, releasing the line
//! let later: DateTime<Utc> = "2026-11-23T15:04:00Z".parse()?;
//! engine.convert("call-1", Money(2500), later)?; // 25.00 in cents
//! engine.end("call-1", later)?;
//! // ending twice is an error, never a double count
//! assert!(engine.end("call-1", later).is_err());
//!
//! // persist the counters (JSON-friendly) and restore them after a restart
//! let snapshot = engine.snapshot();
//! assert_eq!(snapshot.targets[0].day.count, 1);
//! assert_eq!(snapshot.targets[0].total_revenue, "25.00");
//! let text = serde_json::to_string(&snapshot)?;
//! let restored = Engine::restore(engine.config().clone(), &serde_json::from_str(&text)?)?;
//! assert_eq!(restored.snapshot(), snapshot);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Simulating a config
//!
//! [`simulate::simulate`] runs Poisson traffic through the same state,
//! eligibility and route code, reproducibly from a seed:
//!
//! ```
//! use routecap::core::formats::parse_config;
//! use routecap::simulate::{simulate, SimParams};
//!
//! let config = parse_config(br#"{"targets": [{"id": "a", "caps": {"daily": 3}}]}"#, "a.json", None)?;
//! let mut params = SimParams::new("2026-03-02T00:00:00Z".parse()?, "2026-03-04T00:00:00Z".parse()?, 1);
//! params.answer_rate = 1.0;
//! let report = simulate(&config, &params, &mut |_progress| {})?;
//! assert_eq!(report.connected, 6); // 3 a day for 2 days
//! assert_eq!(report.no_eligible, report.calls - 6);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

pub use routecap_core as core;

pub mod engine;
pub mod load;
pub mod replay;
pub mod report_html;
pub mod serve;
pub mod simulate;
pub mod state;

pub use engine::Engine;
