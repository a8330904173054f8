//! Where counters, live calls and reservations live: a [`Backend`].
//!
//! Two backends answer the same calls with the same decisions:
//!
//! - [`MemoryBackend`]: the process's own [`crate::Engine`] (the default);
//! - [`redis::RedisBackend`]: a Redis-compatible server shared by every
//!   process of a service, so caps hold across processes and restarts.
//!
//! The core stays pure: [`routecap_core::effects`] says which owners and
//! windows an event touches and which limits must hold; a backend applies
//! that atomically.

mod lua;
pub mod redis;

use std::sync::Arc;

use routecap_core::eligibility::CandidateReport;
use routecap_core::engine::EngineError;
use routecap_core::lifecycle::ConnectOutcome;
use routecap_core::model::{CandidateRef, Config};
use routecap_core::money::Money;
use routecap_core::render::{self, RouteView, UsageRow};
use routecap_core::route::{self, Step};
use routecap_core::Instant;

use crate::Engine;

/// Why a backend call failed.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// The event is impossible (unknown id, double end, …): nothing changed,
    /// exactly as in memory.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// The backend cannot do this yet.
    #[error("{0} is not supported by the {1} backend")]
    Unsupported(&'static str, &'static str),
    /// The server could not be reached, refused us, or is not a Redis
    /// server. Nothing was applied.
    #[error("state server {url}: {message}")]
    Unavailable {
        /// The server URL, without any password.
        url: String,
        /// What went wrong.
        message: String,
    },
    /// The connection failed while a write was in flight: it may or may not
    /// have been applied. Retrying with the same `op` is safe: a step that
    /// applied answers the same again and never applies twice.
    #[error("state server {url}: operation {op} may or may not have applied: {message}")]
    Ambiguous {
        /// The server URL, without any password.
        url: String,
        /// The operation id to retry with.
        op: String,
        /// What went wrong.
        message: String,
    },
}

/// One set of counters and calls that lifecycle events change and checks
/// read. Every method takes the event's instant; none reads a clock.
pub trait Backend: Send + Sync {
    /// The config the state belongs to.
    fn config(&self) -> &Arc<Config>;
    /// Anchor imported usage not anchored yet to the windows containing
    /// `at` (a no-op once anchored), as a route decision does.
    fn anchor(&self, at: Instant) -> Result<(), StateError>;
    /// Re-check and, if eligible, connect and count — atomically.
    fn connect(&self, call: &str, target: &str, at: Instant) -> Result<ConnectOutcome, StateError>;
    /// Hold capacity on `target` for `ttl_secs` seconds.
    fn reserve(
        &self,
        call: &str,
        target: &str,
        ttl_secs: u64,
        at: Instant,
    ) -> Result<ConnectOutcome, StateError>;
    /// Record a conversion.
    fn convert(&self, call: &str, revenue: Money, at: Instant) -> Result<(), StateError>;
    /// End a call, releasing its concurrency.
    fn end(&self, call: &str, at: Instant) -> Result<(), StateError>;
    /// Renew the lease of a connected call (a heartbeat).
    fn touch(&self, call: &str, at: Instant) -> Result<(), StateError>;
    /// Drop a live reservation, freeing its capacity at once.
    fn cancel(&self, call: &str, at: Instant) -> Result<(), StateError>;
    /// Reset a target's total count and revenue.
    fn reset_target(&self, target: &str) -> Result<(), StateError>;
    /// Reset a group's totals and its members'.
    fn reset_group(&self, group: &str) -> Result<(), StateError>;
    /// Eligibility of the default candidates at `at`.
    fn check(&self, at: Instant) -> Result<Vec<CandidateReport>, StateError>;
    /// The whole failover plan at `at` for `seed`.
    fn route_view(&self, at: Instant, seed: u64) -> Result<RouteView, StateError>;
    /// Usage of every target, then every group, at `at`.
    fn usage(&self, at: Instant) -> Result<Vec<UsageRow>, StateError>;
}

/// The in-process backend: a [`crate::Engine`].
#[derive(Debug)]
pub struct MemoryBackend {
    config: Arc<Config>,
    engine: Engine,
}

impl MemoryBackend {
    /// A fresh state with the config's imported usage.
    pub fn new(config: impl Into<Arc<Config>>) -> MemoryBackend {
        let config = config.into();
        MemoryBackend {
            engine: Engine::new(config.clone()),
            config,
        }
    }

    /// The engine underneath. [`Backend::config`] stays the config the
    /// backend was made with: change the config through a new backend.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }
}

/// The plan of a route as `routecap route --json` prints it, from a state.
pub(crate) fn route_view_of(engine: &Engine, at: Instant, seed: u64) -> RouteView {
    let mut rng = route::rng_from_seed(seed);
    let mut router = engine.router();
    engine.route_with(&mut router, at, &mut rng, |config, reports, plan| {
        let steps: Vec<Step<'_>> = plan.collect();
        render::route(config, at, seed, &steps, reports)
    })
}

/// Usage rows of every owner, from a state.
pub(crate) fn usage_of(engine: &Engine, at: Instant) -> Vec<UsageRow> {
    engine.with_state(|c, s| {
        (0..c.targets.len())
            .map(CandidateRef::Target)
            .chain((0..c.groups.len()).map(CandidateRef::Group))
            .map(|o| render::usage_row(c, o, &s.usage(c, o, at)))
            .collect()
    })
}

impl Backend for MemoryBackend {
    fn config(&self) -> &Arc<Config> {
        &self.config
    }

    fn anchor(&self, at: Instant) -> Result<(), StateError> {
        self.engine.anchor(at);
        Ok(())
    }

    fn connect(&self, call: &str, target: &str, at: Instant) -> Result<ConnectOutcome, StateError> {
        Ok(self.engine.connect(call, target, at)?)
    }

    fn reserve(
        &self,
        call: &str,
        target: &str,
        ttl_secs: u64,
        at: Instant,
    ) -> Result<ConnectOutcome, StateError> {
        let ttl = std::time::Duration::from_secs(ttl_secs);
        Ok(self.engine.reserve(call, target, ttl, at)?)
    }

    fn convert(&self, call: &str, revenue: Money, at: Instant) -> Result<(), StateError> {
        Ok(self.engine.convert(call, revenue, at)?)
    }

    fn end(&self, call: &str, at: Instant) -> Result<(), StateError> {
        Ok(self.engine.end(call, at)?)
    }

    fn touch(&self, call: &str, at: Instant) -> Result<(), StateError> {
        Ok(self.engine.touch(call, at)?)
    }

    fn cancel(&self, call: &str, at: Instant) -> Result<(), StateError> {
        Ok(self.engine.cancel(call, at)?)
    }

    fn reset_target(&self, target: &str) -> Result<(), StateError> {
        Ok(self.engine.reset_target(target)?)
    }

    fn reset_group(&self, group: &str) -> Result<(), StateError> {
        Ok(self.engine.reset_group(group)?)
    }

    fn check(&self, at: Instant) -> Result<Vec<CandidateReport>, StateError> {
        Ok(self.engine.check(at))
    }

    fn route_view(&self, at: Instant, seed: u64) -> Result<RouteView, StateError> {
        Ok(route_view_of(&self.engine, at, seed))
    }

    fn usage(&self, at: Instant) -> Result<Vec<UsageRow>, StateError> {
        Ok(usage_of(&self.engine, at))
    }
}
