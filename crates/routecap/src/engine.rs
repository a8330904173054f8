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
use routecap_core::formats::live::{OwnerKind, Source};
use routecap_core::formats::{ConfigError, Format};
use routecap_core::lifecycle::{ConnectOutcome, State};
use routecap_core::live::{Dropped, UsageImport};
use routecap_core::model::Config;
use routecap_core::money::Money;
use routecap_core::render::RouteView;
use routecap_core::render::UsageView;
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

    /// An engine continuing from a snapshot taken with this config or an
    /// earlier one: what still has an id is restored, the rest reported.
    pub fn restore_report(
        config: impl Into<Arc<Config>>,
        snapshot: &Snapshot,
    ) -> Result<(Engine, Dropped), EngineError> {
        let (core, dropped) = Core::restore_report(config, snapshot)?;
        Ok((Engine::wrap(core), dropped))
    }

    /// A thread-safe face over a core engine.
    pub fn from_core(core: Core) -> Engine {
        Engine::wrap(core)
    }

    fn wrap(core: Core) -> Engine {
        Engine {
            core: RwLock::new(core),
        }
    }

    /// The config in force now (a live change swaps it; this copy stays
    /// the one it was).
    pub fn config(&self) -> Arc<Config> {
        self.read().config().clone()
    }

    /// An engine from a config document in any shape, kept so that
    /// targets and groups can be patched.
    pub fn parse(bytes: &[u8], file: &str, format: Option<Format>) -> Result<Engine, ConfigError> {
        Ok(Engine::wrap(Core::parse(bytes, file, format)?))
    }

    /// Switch to a new config under the write lock: a decision sees the
    /// old config or the new one, never a mix. Counters, live calls and
    /// reservations are carried over by id; what was dropped is returned.
    pub fn update(&self, config: impl Into<Arc<Config>>) -> Dropped {
        self.write().update(config)
    }

    /// [`Engine::update`] from a whole config document (any shape);
    /// nothing changes on a parse error.
    pub fn update_document(
        &self,
        doc: &serde_json::Value,
        file: &str,
        format: Option<Format>,
    ) -> Result<Dropped, EngineError> {
        // parse outside the lock: decisions are not held up by parsing
        let (source, config) = Source::from_value(doc.clone(), file, format)?;
        Ok(self.write().update_source(source, config))
    }

    /// Patch one target or group in the config's own shape (see
    /// [`Core::patch`]), atomically; nothing changes on error.
    pub fn patch(
        &self,
        kind: OwnerKind,
        name: &str,
        patch: &serde_json::Value,
        request: &str,
    ) -> Result<Dropped, EngineError> {
        self.write().patch(kind, name, patch, request)
    }

    /// Pause or resume a target (or every member of a group).
    pub fn set_paused(&self, kind: OwnerKind, name: &str, paused: bool) -> Result<(), EngineError> {
        self.write().set_paused(kind, name, paused)
    }

    /// Merge a platform usage snapshot taken at `at` (all or nothing).
    pub fn import_usage(&self, at: Instant, usage: &UsageImport) -> Result<(), EngineError> {
        self.write().import_usage(at, usage)
    }

    /// Every cap of every target and group at `at`.
    pub fn usage(&self, at: Instant) -> UsageView {
        self.read().usage_view(at)
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

    /// Anchor imported usage not anchored yet to the windows containing
    /// `at` (see [`State::anchor`]).
    pub fn anchor(&self, at: Instant) {
        self.write().anchor(at);
    }

    /// Eligibility of the default candidates at `at`.
    pub fn check(&self, at: Instant) -> Vec<CandidateReport> {
        self.read().check(at)
    }

    /// A decision context for [`Engine::route_with`]. Keep one per worker
    /// thread and reuse it: it caches per-zone clocks and reports between
    /// decisions, so a steady-state decision does not allocate.
    pub fn router(&self) -> Router {
        self.read().router()
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

    /// [`Engine::route_with`] for a call with `attrs`, routed as every face
    /// routes it: its campaign's candidates (none when the campaign's
    /// filter refuses the call; an unknown campaign is an error), filters
    /// and caller rules, a repeat caller's original target first, the
    /// campaign's fallback as the last step (`plan.fallback()` names it).
    /// Allocation-free in steady state like [`Engine::route_with`] for calls
    /// without a campaign when the config has no filters.
    pub fn route_call<T, R: rand_core::Rng + ?Sized>(
        &self,
        router: &mut Router,
        at: Instant,
        attrs: &CallAttrs,
        rng: &mut R,
        f: impl for<'a> FnOnce(&'a Config, &'a [CandidateReport], LazyPlan<'a, 'a, R>) -> T,
    ) -> Result<T, EngineError> {
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

    /// [`Engine::route_view_call`] drawing from `rng` (a replay's one
    /// stream); `seed` is only printed.
    pub fn route_view_with<R: rand_core::Rng + ?Sized>(
        &self,
        at: Instant,
        seed: u64,
        attrs: &CallAttrs,
        rng: &mut R,
    ) -> Result<RouteView, EngineError> {
        self.write().route_view_with(at, seed, attrs, rng)
    }

    /// [`Engine::check_call`] as `routecap check --json` prints it.
    pub fn check_view_call(
        &self,
        at: Instant,
        attrs: &CallAttrs,
    ) -> Result<routecap_core::render::CheckView, EngineError> {
        self.read().check_view_call(at, attrs)
    }

    /// The id the config gives the target (else group) named `name`.
    pub fn resolve(&self, kind: OwnerKind, name: &str) -> Result<String, EngineError> {
        self.read().resolve(kind, name)
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

    /// End a call, releasing its concurrency (nothing more once its lease
    /// ran out; see [`State::end`]).
    pub fn end(&self, call: &str, at: Instant) -> Result<(), EngineError> {
        self.write().end(call, at)
    }

    /// Heartbeat of a connected call: its lease (the concurrency it holds
    /// without an `end`) runs until `at + call_lease_seconds`. See
    /// [`State::touch`] for the errors (unknown, reserved-only or ended
    /// call, lease already run out).
    pub fn touch(&self, call: &str, at: Instant) -> Result<(), EngineError> {
        self.write().touch(call, at)
    }

    /// Cancel a reservation: its capacity is freed at once. Cancelling a
    /// connected or unknown call is an error that changes nothing.
    pub fn cancel(&self, call: &str, at: Instant) -> Result<(), EngineError> {
        self.write().cancel(call, at)
    }

    /// Sweep what has run out by `at` (expired reservations, lapsed
    /// leases, calls past retention) without an event; see
    /// [`State::advance`]. Answers never depend on it.
    pub fn advance(&self, at: Instant) {
        self.write().advance(at);
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

    /// [`Engine::touch`] at the system clock.
    pub fn touch_now(&self, call: &str) -> Result<(), EngineError> {
        self.touch(call, now())
    }

    /// [`Engine::cancel`] at the system clock.
    pub fn cancel_now(&self, call: &str) -> Result<(), EngineError> {
        self.cancel(call, now())
    }

    /// [`Engine::advance`] at the system clock.
    pub fn advance_now(&self) {
        self.advance(now());
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
