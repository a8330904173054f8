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

pub mod redis;

use std::sync::Arc;

use routecap_core::eligibility::CandidateReport;
use routecap_core::engine::EngineError;
use routecap_core::filter::CallAttrs;
use routecap_core::formats::live::{parse_usage, OwnerKind};
use routecap_core::lifecycle::ConnectOutcome;
use routecap_core::live::{Dropped, UsageImport};
use routecap_core::model::{CandidateRef, Config};
use routecap_core::money::Money;
use routecap_core::render::{self, CheckView, RouteView, UsageRow, UsageView};
use routecap_core::route::{self, RouteRng};
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
/// read, and the config they run under. Every method takes the event's
/// instant; none reads a clock. The CLI and replay use only this, so both
/// backends take one code path.
pub trait Backend: Send + Sync {
    /// The config in force (a config change swaps it).
    fn config(&self) -> Arc<Config>;
    /// The id the config gives the target (else group) named `name`
    /// (Retreaver targets may be named by `tid`).
    fn resolve(&self, kind: OwnerKind, name: &str) -> Result<String, StateError>;
    /// Anchor imported usage not anchored yet to the windows containing
    /// `at` (a no-op once anchored), as a route decision does.
    fn anchor(&self, at: Instant) -> Result<(), StateError>;
    /// Re-check and, if eligible, connect and count — atomically.
    fn connect(&self, call: &str, target: &str, at: Instant) -> Result<ConnectOutcome, StateError> {
        self.connect_call(call, target, at, &CallAttrs::new())
    }
    /// [`Backend::connect`] for a call with attributes (filters judge them).
    fn connect_call(
        &self,
        call: &str,
        target: &str,
        at: Instant,
        attrs: &CallAttrs,
    ) -> Result<ConnectOutcome, StateError>;
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
    /// A read-only engine holding the counters at `at` (for callers that
    /// need more than the views, e.g. the CLI's tables); memory's is live.
    fn view(&self, at: Instant) -> Result<Arc<Engine>, StateError>;
    /// Eligibility for a call with `attrs`, as `routecap check --json`
    /// prints it.
    fn check_view(&self, at: Instant, attrs: &CallAttrs) -> Result<CheckView, StateError>;
    /// The whole failover plan at `at` for `seed` (anchors first).
    fn route_view(
        &self,
        at: Instant,
        seed: u64,
        attrs: &CallAttrs,
    ) -> Result<RouteView, StateError> {
        self.route_view_rng(at, seed, attrs, &mut route::rng_from_seed(seed))
    }
    /// [`Backend::route_view`] drawing from `rng` (`seed` only printed).
    fn route_view_rng(
        &self,
        at: Instant,
        seed: u64,
        attrs: &CallAttrs,
        rng: &mut RouteRng,
    ) -> Result<RouteView, StateError>;
    /// Usage of every target, then every group, at `at`.
    fn usage(&self, at: Instant) -> Result<Vec<UsageRow>, StateError>;
    /// Every cap of every owner at `at`, as `routecap usage --json` prints
    /// it (imported usage not anchored yet reads as anchored at `at`).
    fn usage_view(&self, at: Instant) -> Result<UsageView, StateError>;
    /// Replace the whole config (a document in any shape), keeping
    /// counters, live calls and reservations by id.
    fn update_value(&self, doc: &serde_json::Value, file: &str) -> Result<Dropped, StateError>;
    /// Patch one target or group in the config's own shape; `request`
    /// names the patch in errors.
    fn patch_value(
        &self,
        kind: OwnerKind,
        name: &str,
        patch: &serde_json::Value,
        request: &str,
    ) -> Result<Dropped, StateError>;
    /// Pause (`true`) or resume a target, or every member of a group.
    fn set_paused(&self, kind: OwnerKind, name: &str, paused: bool) -> Result<(), StateError>;
    /// Merge a platform usage snapshot taken at `at` (all or nothing).
    fn import_usage(&self, at: Instant, usage: &UsageImport) -> Result<(), StateError>;
    /// [`Backend::import_usage`] of a JSON document in any of the three
    /// shapes; `request` names it in errors.
    fn import_usage_json(
        &self,
        at: Instant,
        usage: &serde_json::Value,
        request: &str,
    ) -> Result<(), StateError> {
        let usage = parse_usage(usage, request).map_err(|e| StateError::Engine(e.into()))?;
        self.import_usage(at, &usage)
    }
}

/// The in-process backend: a [`crate::Engine`].
#[derive(Debug)]
pub struct MemoryBackend {
    engine: Arc<Engine>,
}

impl MemoryBackend {
    /// A fresh state with the config's imported usage (no document:
    /// patches are refused; see [`MemoryBackend::from_engine`]).
    pub fn new(config: impl Into<Arc<Config>>) -> MemoryBackend {
        MemoryBackend::from_engine(Engine::new(config))
    }

    /// A backend over an engine (e.g. [`Engine::parse`]d from a document,
    /// so that patches work).
    pub fn from_engine(engine: Engine) -> MemoryBackend {
        MemoryBackend {
            engine: Arc::new(engine),
        }
    }

    /// The engine underneath.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }
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
    fn config(&self) -> Arc<Config> {
        self.engine.config()
    }

    fn resolve(&self, kind: OwnerKind, name: &str) -> Result<String, StateError> {
        Ok(self.engine.resolve(kind, name)?)
    }

    fn anchor(&self, at: Instant) -> Result<(), StateError> {
        self.engine.anchor(at);
        Ok(())
    }

    fn connect_call(
        &self,
        call: &str,
        target: &str,
        at: Instant,
        attrs: &CallAttrs,
    ) -> Result<ConnectOutcome, StateError> {
        Ok(self.engine.connect_call(call, target, at, attrs)?)
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

    fn view(&self, _at: Instant) -> Result<Arc<Engine>, StateError> {
        Ok(self.engine.clone())
    }

    fn check_view(&self, at: Instant, attrs: &CallAttrs) -> Result<CheckView, StateError> {
        Ok(self.engine.check_view_call(at, attrs)?)
    }

    fn route_view_rng(
        &self,
        at: Instant,
        seed: u64,
        attrs: &CallAttrs,
        rng: &mut RouteRng,
    ) -> Result<RouteView, StateError> {
        self.engine.anchor(at);
        Ok(self.engine.route_view_with(at, seed, attrs, rng)?)
    }

    fn usage(&self, at: Instant) -> Result<Vec<UsageRow>, StateError> {
        Ok(usage_of(&self.engine, at))
    }

    fn usage_view(&self, at: Instant) -> Result<UsageView, StateError> {
        self.engine.anchor(at);
        Ok(self.engine.usage(at))
    }

    fn update_value(&self, doc: &serde_json::Value, file: &str) -> Result<Dropped, StateError> {
        Ok(self.engine.update_document(doc, file, None)?)
    }

    fn patch_value(
        &self,
        kind: OwnerKind,
        name: &str,
        patch: &serde_json::Value,
        request: &str,
    ) -> Result<Dropped, StateError> {
        Ok(self.engine.patch(kind, name, patch, request)?)
    }

    fn set_paused(&self, kind: OwnerKind, name: &str, paused: bool) -> Result<(), StateError> {
        Ok(self.engine.set_paused(kind, name, paused)?)
    }

    fn import_usage(&self, at: Instant, usage: &UsageImport) -> Result<(), StateError> {
        Ok(self.engine.import_usage(at, usage)?)
    }
}
