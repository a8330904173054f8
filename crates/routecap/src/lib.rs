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
//! handlers. For each inbound call: ask who may take it (`check`, with every
//! reason for the others) or straight away for the failover order (`route`),
//! then report what happened — `connect` when a target answers, `convert`
//! when the call pays, `end` when it hangs up. A call is one [`Call`] value;
//! every operation takes the instant of the event (UTC; [`now`] reads the
//! system clock).
//!
//! ```
//! use routecap::core::lifecycle::ConnectOutcome;
//! use routecap::core::money::Money;
//! use routecap::core::route::Draws;
//! use routecap::{Call, Engine};
//!
//! let engine = Engine::parse(br#"{
//!   "targets": [
//!     {"id": "east", "priority": 1, "weight": 3, "time_zone": "America/New_York",
//!      "hours": [{"day": 1, "open": "09:00", "close": "17:00"}],
//!      "caps": {"daily": 2, "concurrency": 1}},
//!     {"id": "backup", "priority": 2}
//!   ]
//! }"#, "buyers.json", None)?;
//!
//! // Monday 2026-11-23, 10:00 in New York
//! let at = "2026-11-23T15:00:00Z".parse()?;
//! let call = Call::new("call-1").caller("+19195550100");
//!
//! // who may take the call, and why not the others
//! let check = engine.check(&call, at)?;
//! assert!(check.candidates.iter().all(|c| c.eligible));
//!
//! // the failover order: priority tiers, weighted random within a tier;
//! // the same seed gives the same order on every platform
//! let plan = engine.route(&call, at, &mut Draws::new(7))?;
//! assert_eq!(serde_json::to_value(&plan.plan)?, serde_json::json!([
//!     {"target": "east", "timeout_seconds": 30},
//!     {"target": "backup", "timeout_seconds": 30}]));
//!
//! // "east" answers: connect re-checks and counts atomically
//! assert_eq!(engine.connect(&call, "east", at)?, ConnectOutcome::Connected);
//! // a second live call would exceed its concurrency cap of 1: refused, nothing changes
//! match engine.connect(&Call::new("call-2"), "east", at)? {
//!     ConnectOutcome::Refused(reasons) => assert_eq!(reasons[0].code_string(), "concurrency_cap"),
//!     ConnectOutcome::Connected => unreachable!(),
//! }
//! // the call pays 25.00 (exact cents), then hangs up, releasing the line
//! let later = "2026-11-23T15:04:00Z".parse()?;
//! engine.convert(&call, Money(2500), later)?;
//! engine.end(&call, later)?;
//! // ending twice is an error, never a double count
//! assert!(engine.end(&call, later).is_err());
//!
//! // every cap's fill, as `routecap usage --json` prints it
//! let usage = engine.usage(later);
//! assert_eq!(usage.owners[0].caps[0].cap, "daily");
//!
//! // persist the counters (JSON-friendly) and restore them after a restart
//! let snapshot = engine.snapshot();
//! assert_eq!(snapshot.targets[0].day.count, 1);
//! assert_eq!(snapshot.targets[0].total_revenue, "25.00");
//! let text = serde_json::to_string(&snapshot)?;
//! let restored = Engine::restore(engine.config(), &serde_json::from_str(&text)?)?;
//! assert_eq!(restored.snapshot(), snapshot);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! On live traffic that takes only the first steps of a plan, keep one
//! [`core::route::Router`] per worker thread and use [`Engine::route_with`]:
//! the same plan, drawn lazily, with no allocation in steady state.
//!
//! The same operations, on state shared by several processes (Redis), are
//! the methods of [`state::Backend`]; a service holds any backend as
//! `Arc<dyn Backend>` and the engine is the in-memory one.
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

pub use engine::{now, Engine};
pub use routecap_core::Call;
