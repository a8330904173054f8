//! A thread-safe [`Engine`]: one config and its [`State`] behind a lock.
//!
//! Every lifecycle call takes the write lock once, so the eligibility
//! re-check and the counting of a `connect` or `reserve` happen in one
//! critical section: two concurrent calls can never both take the last unit
//! of a cap. Checks take the read lock and run concurrently.
//!
//! Targets and groups are named by id here; the core works on indices.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use routecap_core::eligibility::{self, CandidateReport};
use routecap_core::lifecycle::{ConnectOutcome, LifecycleError, State};
use routecap_core::model::Config;
use routecap_core::money::Money;
use routecap_core::route::{LazyPlan, Router};
use routecap_core::snapshot::{Snapshot, SnapshotError};
use routecap_core::Instant;

/// The system clock as an instant (chrono's `clock` feature is off).
fn now() -> Instant {
    DateTime::<Utc>::from(std::time::SystemTime::now())
}

/// Why an engine call failed. The state is unchanged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EngineError {
    /// No target with this id.
    UnknownTarget(String),
    /// No group with this id.
    UnknownGroup(String),
    /// The lifecycle rejected the event.
    Lifecycle(LifecycleError),
    /// A snapshot that does not fit the config.
    Snapshot(SnapshotError),
}

impl fmt::Display for EngineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EngineError::UnknownTarget(id) => write!(f, "unknown target {id:?}"),
            EngineError::UnknownGroup(id) => write!(f, "unknown group {id:?}"),
            EngineError::Lifecycle(e) => e.fmt(f),
            EngineError::Snapshot(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for EngineError {}

impl From<LifecycleError> for EngineError {
    fn from(e: LifecycleError) -> Self {
        EngineError::Lifecycle(e)
    }
}

/// A config and its live counters, shareable between threads (`Send + Sync`).
#[derive(Debug)]
pub struct Engine {
    config: Arc<Config>,
    state: RwLock<State>,
    /// Target index by id: `Config::target_index` scans, this does not.
    target_ids: HashMap<String, usize>,
}

/// Target index by id; the first of duplicate ids wins, like
/// `Config::target_index`.
fn target_ids(config: &Config) -> HashMap<String, usize> {
    let mut ids = HashMap::with_capacity(config.targets.len());
    for (i, t) in config.targets.iter().enumerate() {
        ids.entry(t.id.clone()).or_insert(i);
    }
    ids
}

impl Engine {
    /// An engine with the config's imported usage (see [`State::new`]).
    pub fn new(config: impl Into<Arc<Config>>) -> Engine {
        let config = config.into();
        let state = RwLock::new(State::new(&config));
        let target_ids = target_ids(&config);
        Engine {
            config,
            state,
            target_ids,
        }
    }

    /// An engine continuing from a snapshot taken with the same config.
    pub fn restore(
        config: impl Into<Arc<Config>>,
        snapshot: &Snapshot,
    ) -> Result<Engine, EngineError> {
        let config = config.into();
        let state = State::restore(&config, snapshot).map_err(EngineError::Snapshot)?;
        Ok(Engine {
            target_ids: target_ids(&config),
            config,
            state: RwLock::new(state),
        })
    }

    /// The config.
    pub fn config(&self) -> &Arc<Config> {
        &self.config
    }

    /// Read access to config and state together (e.g. to plan a route
    /// against a consistent view). Holds the read lock while `f` runs.
    pub fn with_state<R>(&self, f: impl FnOnce(&Config, &State) -> R) -> R {
        let state = self.state.read().unwrap_or_else(PoisonError::into_inner);
        f(&self.config, &state)
    }

    fn write<R>(&self, f: impl FnOnce(&Config, &mut State) -> R) -> R {
        let mut state = self.state.write().unwrap_or_else(PoisonError::into_inner);
        f(&self.config, &mut state)
    }

    fn target(&self, id: &str) -> Result<usize, EngineError> {
        self.target_ids
            .get(id)
            .copied()
            .ok_or_else(|| EngineError::UnknownTarget(id.to_string()))
    }

    /// Eligibility of the default candidates at `at`.
    pub fn check(&self, at: Instant) -> Vec<CandidateReport> {
        self.with_state(|c, s| eligibility::check(c, s, at))
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
    /// [`eligibility::check`] followed by `route::plan` with the same
    /// generator. Then `connect` the step that answers: it re-checks, so a
    /// race with another thread can never overbook.
    pub fn route_with<T, R: rand_core::Rng + ?Sized>(
        &self,
        router: &mut Router,
        at: Instant,
        rng: &mut R,
        f: impl for<'a> FnOnce(&'a Config, &'a [CandidateReport], LazyPlan<'a, 'a, R>) -> T,
    ) -> T {
        let state = self.state.read().unwrap_or_else(PoisonError::into_inner);
        let (reports, plan) = router.route(&self.config, &state, at, rng);
        f(&self.config, reports, plan)
    }

    /// Re-check and, if eligible, connect and count — atomically.
    pub fn connect(
        &self,
        call: &str,
        target_id: &str,
        at: Instant,
    ) -> Result<ConnectOutcome, EngineError> {
        let t = self.target(target_id)?;
        Ok(self.write(|c, s| s.connect(c, call, t, at))?)
    }

    /// Record a conversion (see [`State::convert`]).
    pub fn convert(&self, call: &str, revenue: Money, at: Instant) -> Result<(), EngineError> {
        Ok(self.write(|c, s| s.convert(c, call, revenue, at))?)
    }

    /// End a call, releasing its concurrency.
    pub fn end(&self, call: &str, at: Instant) -> Result<(), EngineError> {
        Ok(self.write(|c, s| s.end(c, call, at))?)
    }

    /// Reserve capacity on a target for `ttl` (rounded up to whole seconds).
    pub fn reserve(
        &self,
        call: &str,
        target_id: &str,
        ttl: Duration,
        at: Instant,
    ) -> Result<ConnectOutcome, EngineError> {
        let t = self.target(target_id)?;
        let secs = ttl
            .as_secs()
            .saturating_add(u64::from(ttl.subsec_nanos() > 0));
        Ok(self.write(|c, s| s.reserve(c, call, t, secs, at))?)
    }

    /// Reset a target's total count and revenue.
    pub fn reset_target(&self, target_id: &str) -> Result<(), EngineError> {
        let t = self.target(target_id)?;
        Ok(self.write(|c, s| s.reset_target(c, t))?)
    }

    /// Reset a group's total counters and its members'.
    pub fn reset_group(&self, group_id: &str) -> Result<(), EngineError> {
        let g = self
            .config
            .group_index(group_id)
            .ok_or_else(|| EngineError::UnknownGroup(group_id.to_string()))?;
        Ok(self.write(|c, s| s.reset_group(c, g))?)
    }

    /// A consistent snapshot of the state.
    pub fn snapshot(&self) -> Snapshot {
        self.with_state(|c, s| s.snapshot(c))
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
