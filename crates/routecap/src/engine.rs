//! A thread-safe [`Engine`]: the core's [`routecap_core::engine::Engine`]
//! behind a lock, with the same methods.
//!
//! Every lifecycle call takes the write lock once, so the eligibility
//! re-check and the counting of a `connect` or `reserve` happen in one
//! critical section: two concurrent calls can never both take the last unit
//! of a cap. Checks take the read lock and run concurrently.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use chrono::{DateTime, Utc};
use routecap_core::carry_over::Dropped;
use routecap_core::eligibility::CandidateReport;
use routecap_core::engine::Engine as Core;
use routecap_core::formats::source::OwnerKind;
use routecap_core::formats::{ConfigError, Format};
use routecap_core::lifecycle::{ConnectOutcome, State};
use routecap_core::model::Config;
use routecap_core::money::Money;
use routecap_core::render::{CheckView, RouteView, UsageView};
use routecap_core::route::{Draws, LazyPlan, Router};
use routecap_core::snapshot::Snapshot;
use routecap_core::{Call, Instant};

pub use routecap_core::engine::EngineError;

/// The system clock as an instant, for callers deciding live traffic
/// (chrono's `clock` feature is off; the engine itself never reads a clock).
pub fn now() -> Instant {
    DateTime::<Utc>::from(std::time::SystemTime::now())
}

/// A config and its live counters, shareable between threads (`Send + Sync`).
#[derive(Debug)]
pub struct Engine {
    core: RwLock<Core>,
    /// The config's version: 1 at start, +1 per accepted change, moved
    /// only under the write lock (so read with the config, it matches it).
    version: AtomicU64,
}

impl Engine {
    /// An engine with the config's imported usage (see [`State::new`]).
    pub fn new(config: impl Into<Arc<Config>>) -> Engine {
        Engine::from_core(Core::new(config))
    }

    /// An engine from a config document in any shape, kept so that
    /// targets and groups can be patched.
    pub fn parse(bytes: &[u8], file: &str, format: Option<Format>) -> Result<Engine, ConfigError> {
        Ok(Engine::from_core(Core::parse(bytes, file, format)?))
    }

    /// An engine continuing from a snapshot taken with the same config.
    pub fn restore(
        config: impl Into<Arc<Config>>,
        snapshot: &Snapshot,
    ) -> Result<Engine, EngineError> {
        Ok(Engine::from_core(Core::restore(config, snapshot)?))
    }

    /// An engine continuing from a snapshot taken with this config or an
    /// earlier one: what still has an id is restored, the rest reported.
    pub fn restore_report(
        config: impl Into<Arc<Config>>,
        snapshot: &Snapshot,
    ) -> Result<(Engine, Dropped), EngineError> {
        let (core, dropped) = Core::restore_report(config, snapshot)?;
        Ok((Engine::from_core(core), dropped))
    }

    /// A thread-safe face over a core engine.
    pub fn from_core(core: Core) -> Engine {
        Engine {
            core: RwLock::new(core),
            version: AtomicU64::new(1),
        }
    }

    fn read(&self) -> RwLockReadGuard<'_, Core> {
        self.core.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, Core> {
        self.core.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// The config in force now (a live change swaps it; this copy stays
    /// the one it was).
    pub fn config(&self) -> Arc<Config> {
        self.read().config().clone()
    }

    /// The config in force and its version (1 at start, +1 per accepted
    /// config change, pause or resume), read together.
    pub fn versioned_config(&self) -> (u64, Arc<Config>) {
        let core = self.read();
        (self.version.load(Ordering::SeqCst), core.config().clone())
    }

    /// Count one accepted config change (the caller holds the write lock).
    fn changed<T>(&self, r: T) -> T {
        self.version.fetch_add(1, Ordering::SeqCst);
        r
    }

    /// Read access to config and state together, under the read lock.
    pub fn with_state<R>(&self, f: impl FnOnce(&Config, &State) -> R) -> R {
        let core = self.read();
        f(core.config(), core.state())
    }

    /// Who may take `call` at `at`, and why each other candidate may not
    /// and until when (see [`Core::check`]).
    pub fn check(&self, call: &Call, at: Instant) -> Result<CheckView, EngineError> {
        self.read().check(call, at)
    }

    /// The failover plan for `call` at `at`, drawn from `draws` (see
    /// [`Core::route`]).
    pub fn route(
        &self,
        call: &Call,
        at: Instant,
        draws: &mut Draws,
    ) -> Result<RouteView, EngineError> {
        self.write().route(call, at, draws)
    }

    /// The hot path under [`Engine::route`], under the read lock: route
    /// `call` with a caller's router (keep one per worker thread: it caches
    /// per-zone clocks and reports between decisions, so a steady-state
    /// decision does not allocate); `f` gets the config, the reports and the
    /// plan, whose steps are drawn from `rng` only as `f` takes them. Then
    /// `connect` the step that answers: it re-checks, so a race with another
    /// thread can never overbook. See [`Core::route_with`].
    pub fn route_with<T, R: rand_core::Rng + ?Sized>(
        &self,
        router: &mut Router,
        call: &Call,
        at: Instant,
        rng: &mut R,
        f: impl for<'a> FnOnce(&'a Config, &'a [CandidateReport], LazyPlan<'a, 'a, R>) -> T,
    ) -> Result<T, EngineError> {
        self.read().route_with(router, call, at, rng, f)
    }

    /// A router for [`Engine::route_with`], one per worker thread.
    pub fn router(&self) -> Router {
        self.read().router()
    }

    /// Every cap of every target and group at `at`, eligible or not. A
    /// read: imported usage not anchored yet reads as anchored at `at`,
    /// and stays for the first decision to anchor.
    pub fn usage(&self, at: Instant) -> UsageView {
        self.read().usage(at)
    }

    /// Re-check and, if eligible, connect and count — atomically.
    pub fn connect(
        &self,
        call: &Call,
        target: &str,
        at: Instant,
    ) -> Result<ConnectOutcome, EngineError> {
        self.write().connect(call, target, at)
    }

    /// Hold capacity on a target for `ttl_secs` seconds (see [`Core::reserve`]).
    pub fn reserve(
        &self,
        call: &Call,
        target: &str,
        ttl_secs: u64,
        at: Instant,
    ) -> Result<ConnectOutcome, EngineError> {
        self.write().reserve(call, target, ttl_secs, at)
    }

    /// Record a conversion (see [`State::convert`]).
    pub fn convert(&self, call: &Call, revenue: Money, at: Instant) -> Result<(), EngineError> {
        self.write().convert(call, revenue, at)
    }

    /// End a call, releasing its concurrency (nothing more once its lease
    /// ran out; see [`State::end`]).
    pub fn end(&self, call: &Call, at: Instant) -> Result<(), EngineError> {
        self.write().end(call, at)
    }

    /// Heartbeat of a connected call: its lease (the concurrency it holds
    /// without an `end`) runs until `at + call_lease_seconds`. See
    /// [`State::touch`] for the errors.
    pub fn touch(&self, call: &Call, at: Instant) -> Result<(), EngineError> {
        self.write().touch(call, at)
    }

    /// Cancel a reservation: its capacity is freed at once. Cancelling a
    /// connected or unknown call is an error that changes nothing.
    pub fn cancel(&self, call: &Call, at: Instant) -> Result<(), EngineError> {
        self.write().cancel(call, at)
    }

    /// Sweep what has run out by `at` (expired reservations, lapsed
    /// leases, calls past retention) without an event; see
    /// [`State::advance`]. Answers never depend on it.
    pub fn advance(&self, at: Instant) {
        self.write().advance(at);
    }

    /// Reset the total counters of a target, or of a group and its members.
    pub fn reset(&self, kind: OwnerKind, name: &str) -> Result<(), EngineError> {
        self.write().reset(kind, name)
    }

    /// Switch to a new config under the write lock: a decision sees the
    /// old config or the new one, never a mix. Counters, live calls and
    /// reservations are carried over by id; what was dropped is returned.
    pub fn update(&self, config: impl Into<Arc<Config>>, at: Instant) -> Dropped {
        let mut core = self.write();
        self.changed(core.update(config, at))
    }

    /// [`Engine::update`] from a whole config document (in shape `format`,
    /// `None`: detected);
    /// nothing changes on a parse error.
    pub fn replace_config(
        &self,
        doc: &serde_json::Value,
        file: &str,
        format: Option<Format>,
        at: Instant,
    ) -> Result<Dropped, EngineError> {
        let mut core = self.write();
        core.replace_config(doc, file, format, at)
            .map(|d| self.changed(d))
    }

    /// Patch one target or group in the config's own shape (see
    /// [`Core::patch`]), atomically; nothing changes on error.
    pub fn patch(
        &self,
        kind: OwnerKind,
        name: &str,
        patch: &serde_json::Value,
        request: &str,
        at: Instant,
    ) -> Result<Dropped, EngineError> {
        let mut core = self.write();
        core.patch(kind, name, patch, request, at)
            .map(|d| self.changed(d))
    }

    /// Pause or resume a target (or every member of a group).
    pub fn set_paused(&self, kind: OwnerKind, name: &str, paused: bool) -> Result<(), EngineError> {
        let mut core = self.write();
        core.set_paused(kind, name, paused).map(|d| self.changed(d))
    }

    /// Merge a platform usage snapshot taken at `at`, in any of the three
    /// shapes (all or nothing; `request` names it in errors).
    pub fn import_usage(
        &self,
        at: Instant,
        usage: &serde_json::Value,
        request: &str,
    ) -> Result<(), EngineError> {
        self.write().import_usage(at, usage, request)
    }

    /// A consistent snapshot of the state.
    pub fn snapshot(&self) -> Snapshot {
        self.read().snapshot()
    }

    /// [`Core::adopt_router`]: this engine, a newer read of `old`'s
    /// counters under the same config, takes over `old`'s router. Skipped
    /// while `old` is deciding (its lock is busy): the router is a cache.
    pub fn adopt_router(&self, old: &Engine) {
        if std::ptr::eq(self, old) {
            return;
        }
        let mut new = self.write();
        let mut old = match old.core.try_write() {
            Ok(guard) => guard,
            Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner(),
            Err(std::sync::TryLockError::WouldBlock) => return,
        };
        new.adopt_router(&mut old);
    }

    /// The id the config gives the target (else group) named `name`.
    pub fn resolve(&self, kind: OwnerKind, name: &str) -> Result<String, EngineError> {
        self.read().resolve(kind, name)
    }
}
