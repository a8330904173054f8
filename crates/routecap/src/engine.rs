//! A thread-safe [`Engine`]: the core's [`routecap_core::engine::Engine`]
//! behind a lock.
//!
//! Every lifecycle call takes the write lock once, so the eligibility
//! re-check and the counting of a `connect` or `reserve` happen in one
//! critical section: two concurrent calls can never both take the last unit
//! of a cap. Checks take the read lock and run concurrently.

use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

use chrono::{DateTime, Utc};
use routecap_core::eligibility::CandidateReport;
use routecap_core::engine::Engine as Core;
use routecap_core::filter::CallAttrs;
use routecap_core::lifecycle::{ConnectOutcome, State};
use routecap_core::model::Config;
use routecap_core::money::Money;
use routecap_core::render::RouteView;
use routecap_core::route::{LazyPlan, Router};
use routecap_core::snapshot::Snapshot;
use routecap_core::Instant;

pub use routecap_core::engine::EngineError;

/// The system clock as an instant (chrono's `clock` feature is off).
fn now() -> Instant {
    DateTime::<Utc>::from(std::time::SystemTime::now())
}

/// A config and its live counters, shareable between threads (`Send + Sync`).
#[derive(Debug)]
pub struct Engine {
    /// The same config as the core engine's, readable without the lock.
    config: Arc<Config>,
    core: RwLock<Core>,
}

impl Engine {
    /// An engine with the config's imported usage (see [`State::new`]).
    pub fn new(config: impl Into<Arc<Config>>) -> Engine {
        Engine::wrap(Core::new(config))
    }

    /// An engine continuing from a snapshot taken with the same config.
    pub fn restore(
        config: impl Into<Arc<Config>>,
        snapshot: &Snapshot,
    ) -> Result<Engine, EngineError> {
        Ok(Engine::wrap(Core::restore(config, snapshot)?))
    }

    fn wrap(core: Core) -> Engine {
        Engine {
            config: core.config().clone(),
            core: RwLock::new(core),
        }
    }

    /// The config.
    pub fn config(&self) -> &Arc<Config> {
        &self.config
    }

    fn read(&self) -> RwLockReadGuard<'_, Core> {
        self.core.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, Core> {
        self.core.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// Read access to config and state together (e.g. to plan a route
    /// against a consistent view). Holds the read lock while `f` runs.
    pub fn with_state<R>(&self, f: impl FnOnce(&Config, &State) -> R) -> R {
        let core = self.read();
        f(core.config(), core.state())
    }

    /// Eligibility of the default candidates at `at`.
    pub fn check(&self, at: Instant) -> Vec<CandidateReport> {
        self.read().check(at)
    }

    /// A decision context for [`Engine::route_with`]. Keep one per worker
    /// thread and reuse it: it caches per-zone clocks and reports between
    /// decisions, so a steady-state decision does not allocate.
    pub fn router(&self) -> Router {
        Router::new(&self.config)
    }

    /// Route one call at `at` against a consistent view (under the read
    /// lock): `f` gets the config, the report of every default candidate and
    /// the failover plan, whose steps are drawn from `rng` only as `f` takes
    /// them (callers usually take 1–5). The same reports and steps as
    /// [`routecap_core::eligibility::check`] followed by `route::plan` with
    /// the same generator. Then `connect` the step that answers: it
    /// re-checks, so a race with another thread can never overbook.
    pub fn route_with<T, R: rand_core::Rng + ?Sized>(
        &self,
        router: &mut Router,
        at: Instant,
        rng: &mut R,
        f: impl for<'a> FnOnce(&'a Config, &'a [CandidateReport], LazyPlan<'a, 'a, R>) -> T,
    ) -> T {
        self.read().route_with(router, at, rng, f)
    }

    /// Eligibility at `at` for a call with `attrs` (its campaign's
    /// candidates when it names one; an unknown campaign is an error).
    pub fn check_call(
        &self,
        at: Instant,
        attrs: &CallAttrs,
    ) -> Result<Vec<CandidateReport>, EngineError> {
        self.read().check_call(at, attrs)
    }

    /// [`Engine::route_with`] for a call with `attrs`: filters judge them.
    /// The default candidates are routed (a campaign in `attrs` is not
    /// applied here: [`Engine::route_view_call`] applies it); allocation-free
    /// in steady state like [`Engine::route_with`] when the config has no
    /// filters.
    pub fn route_call<T, R: rand_core::Rng + ?Sized>(
        &self,
        router: &mut Router,
        at: Instant,
        attrs: &CallAttrs,
        rng: &mut R,
        f: impl for<'a> FnOnce(&'a Config, &'a [CandidateReport], LazyPlan<'a, 'a, R>) -> T,
    ) -> T {
        self.read().route_with_call(router, at, attrs, rng, f)
    }

    /// The whole plan for a call with `attrs` and seed `seed`, as `routecap
    /// route --json` prints it: campaign scoping, refusal and fallback included.
    pub fn route_view_call(
        &self,
        at: Instant,
        seed: u64,
        attrs: &CallAttrs,
    ) -> Result<RouteView, EngineError> {
        self.write().route_view_call(at, seed, attrs)
    }

    /// [`Engine::connect`] for a call with `attrs` (the re-check applies
    /// the target's and its groups' filters to them).
    pub fn connect_call(
        &self,
        call: &str,
        target_id: &str,
        at: Instant,
        attrs: &CallAttrs,
    ) -> Result<ConnectOutcome, EngineError> {
        self.write().connect_call(call, target_id, at, attrs)
    }

    /// Re-check and, if eligible, connect and count — atomically.
    pub fn connect(
        &self,
        call: &str,
        target_id: &str,
        at: Instant,
    ) -> Result<ConnectOutcome, EngineError> {
        self.write().connect(call, target_id, at)
    }

    /// Record a conversion (see [`State::convert`]).
    pub fn convert(&self, call: &str, revenue: Money, at: Instant) -> Result<(), EngineError> {
        self.write().convert(call, revenue, at)
    }

    /// End a call, releasing its concurrency.
    pub fn end(&self, call: &str, at: Instant) -> Result<(), EngineError> {
        self.write().end(call, at)
    }

    /// Reserve capacity on a target for `ttl` (rounded up to whole seconds).
    pub fn reserve(
        &self,
        call: &str,
        target_id: &str,
        ttl: Duration,
        at: Instant,
    ) -> Result<ConnectOutcome, EngineError> {
        let secs = ttl
            .as_secs()
            .saturating_add(u64::from(ttl.subsec_nanos() > 0));
        self.write().reserve(call, target_id, secs, at)
    }

    /// Reset a target's total count and revenue.
    pub fn reset_target(&self, target_id: &str) -> Result<(), EngineError> {
        self.write().reset_target(target_id)
    }

    /// Reset a group's total counters and its members'.
    pub fn reset_group(&self, group_id: &str) -> Result<(), EngineError> {
        self.write().reset_group(group_id)
    }

    /// A consistent snapshot of the state.
    pub fn snapshot(&self) -> Snapshot {
        self.read().snapshot()
    }

    /// [`Engine::check`] at the system clock.
    pub fn check_now(&self) -> Vec<CandidateReport> {
        self.check(now())
    }

    /// [`Engine::connect`] at the system clock.
    pub fn connect_now(&self, call: &str, target_id: &str) -> Result<ConnectOutcome, EngineError> {
        self.connect(call, target_id, now())
    }

    /// [`Engine::convert`] at the system clock.
    pub fn convert_now(&self, call: &str, revenue: Money) -> Result<(), EngineError> {
        self.convert(call, revenue, now())
    }

    /// [`Engine::end`] at the system clock.
    pub fn end_now(&self, call: &str) -> Result<(), EngineError> {
        self.end(call, now())
    }

    /// [`Engine::reserve`] at the system clock.
    pub fn reserve_now(
        &self,
        call: &str,
        target_id: &str,
        ttl: Duration,
    ) -> Result<ConnectOutcome, EngineError> {
        self.reserve(call, target_id, ttl, now())
    }
}
