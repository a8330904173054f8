//! Where counters, live calls and reservations live: a [`Backend`].
//!
//! Every backend answers the same calls with the same decisions:
//!
//! - [`crate::Engine`]: this process's memory (the default);
//! - [`sqlite::SqliteState`]: one process's state in an SQLite file, so
//!   caps hold across restarts and crashes of a single machine;
//! - [`redis::RedisState`]: a Redis-compatible server shared by every
//!   process of a service, so caps hold across processes and restarts.
//!
//! The service holds an `Arc<dyn Backend>`; the CLI and other synchronous
//! callers drive the same trait through [`Blocking`].
//!
//! The core stays pure: [`routecap_core::effects`] says which owners and
//! windows an event touches and which limits must hold; a backend applies
//! that atomically.

pub mod redis;
pub mod sqlite;

use std::sync::Arc;

use async_trait::async_trait;
use routecap_core::carry_over::Dropped;
use routecap_core::engine::EngineError;
use routecap_core::formats::source::OwnerKind;
use routecap_core::formats::Format;
use routecap_core::lifecycle::ConnectOutcome;
use routecap_core::model::Config;
use routecap_core::money::Money;
use routecap_core::render::{CheckView, RouteView, UsageView};
use routecap_core::route::Draws;
use routecap_core::{Call, Instant};

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
    /// A config change made against a version that is no longer the one in
    /// force (`If-Match`): nothing changed.
    #[error("the config in force is version {current}, not {expected}: read it again (GET /v1/config) and redo the change against it")]
    StaleConfig {
        /// The version the change was made against.
        expected: u64,
        /// The version in force.
        current: u64,
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

/// A config and its version: 1 for the config a state starts with, +1 per
/// change (whole, patch, pause), the same number in every process sharing
/// the state.
#[derive(Clone, Debug)]
pub struct VersionedConfig {
    /// The version.
    pub version: u64,
    /// The config of that version.
    pub config: Arc<Config>,
}

/// What an accepted config change did.
#[derive(Clone, Debug)]
pub struct ConfigChange {
    /// The config it was made against.
    pub before: VersionedConfig,
    /// The config it made.
    pub after: VersionedConfig,
    /// The owners and reservations it dropped.
    pub dropped: Dropped,
}

/// One set of counters and calls that lifecycle events change and checks
/// read, and the config they run under: one method per operation, each
/// taking the event's instant (none reads a clock). Object safe, so a
/// service holds any backend as `Arc<dyn Backend>`.
#[async_trait]
pub trait Backend: Send + Sync + std::fmt::Debug {
    /// `memory`, `redis` or `sqlite`, for logs and metrics.
    fn kind(&self) -> &'static str;
    /// Where the state lives, as named fields (`url` without any password
    /// and `namespace` for Redis); empty for memory.
    fn location(&self) -> Vec<(&'static str, String)>;
    /// The config in force (a config change swaps it).
    fn config(&self) -> Arc<Config>;
    /// Whether the state can be used now (a state server answers).
    async fn health(&self) -> Result<(), StateError>;
    /// Who may take `call` at `at`, and why not the others (`routecap check`).
    async fn check(&self, call: &Call, at: Instant) -> Result<CheckView, StateError>;
    /// The failover plan for `call` at `at`, drawn from `draws` (`routecap
    /// route`); anchors imported usage not anchored yet.
    async fn route(
        &self,
        call: &Call,
        at: Instant,
        draws: &mut Draws,
    ) -> Result<RouteView, StateError>;
    /// Every cap of every owner at `at` (`routecap usage`). A read: it
    /// anchors nothing (imported usage not anchored yet reads as anchored
    /// at `at`).
    async fn usage(&self, at: Instant) -> Result<UsageView, StateError>;
    /// Re-check and, if eligible, connect and count — atomically.
    async fn connect(
        &self,
        call: &Call,
        target: &str,
        at: Instant,
    ) -> Result<ConnectOutcome, StateError>;
    /// Hold capacity on `target` for `ttl_secs` seconds.
    async fn reserve(
        &self,
        call: &Call,
        target: &str,
        ttl_secs: u64,
        at: Instant,
    ) -> Result<ConnectOutcome, StateError>;
    /// Record a conversion.
    async fn convert(&self, call: &Call, revenue: Money, at: Instant) -> Result<(), StateError>;
    /// End a call, releasing its concurrency.
    async fn end(&self, call: &Call, at: Instant) -> Result<(), StateError>;
    /// Renew the lease of a connected call (a heartbeat).
    async fn touch(&self, call: &Call, at: Instant) -> Result<(), StateError>;
    /// Drop a live reservation, freeing its capacity at once.
    async fn cancel(&self, call: &Call, at: Instant) -> Result<(), StateError>;
    /// Reset the total counters of a target, or of a group and its members.
    async fn reset(&self, kind: OwnerKind, name: &str) -> Result<(), StateError>;
    /// Pause (`true`) or resume a target, or every member of a group.
    async fn set_paused(&self, kind: OwnerKind, name: &str, paused: bool)
        -> Result<(), StateError>;
    /// Replace the whole config (a document in shape `format`, `None`:
    /// detected) at instant `at`, keeping counters, live calls and
    /// reservations by id (an owner whose zone changed keeps the count of
    /// the window holding `at`, see `routecap_core::carry_over`); `file`
    /// names it in errors.
    async fn replace_config(
        &self,
        doc: &serde_json::Value,
        file: &str,
        format: Option<Format>,
        at: Instant,
    ) -> Result<Dropped, StateError>;
    /// Merge a patch into one target or group (in the config's own shape)
    /// at instant `at`, as [`Backend::replace_config`]; `request` names
    /// the patch in errors.
    async fn patch(
        &self,
        kind: OwnerKind,
        name: &str,
        patch: &serde_json::Value,
        request: &str,
        at: Instant,
    ) -> Result<Dropped, StateError>;
    /// Merge a platform usage snapshot taken at `at`, in any of the three
    /// shapes (all or nothing; `request` names it in errors).
    async fn import_usage(
        &self,
        at: Instant,
        usage: &serde_json::Value,
        request: &str,
    ) -> Result<(), StateError>;
    /// The config in force with its version, read now (a shared state is
    /// asked, so another process's change is seen at once).
    async fn versioned_config(&self) -> Result<VersionedConfig, StateError>;
    /// [`Backend::replace_config`] at `at` only when the version in force is
    /// `expected` (`None`: whatever it is); else [`StateError::StaleConfig`]
    /// and nothing changes.
    ///
    /// The default checks, then changes: exact while one caller at a time
    /// changes the state's config (one process per state; `serve`
    /// serialises its changes). A state shared by processes checks and
    /// changes in one atomic step instead.
    async fn replace_config_if(
        &self,
        doc: &serde_json::Value,
        file: &str,
        format: Option<Format>,
        at: Instant,
        expected: Option<u64>,
    ) -> Result<ConfigChange, StateError> {
        let before = self.versioned_config().await?;
        precondition(&before, expected)?;
        let dropped = self.replace_config(doc, file, format, at).await?;
        let after = self.versioned_config().await?;
        Ok(ConfigChange {
            before,
            after,
            dropped,
        })
    }
    /// [`Backend::patch`] only when the version in force is `expected`;
    /// see [`Backend::replace_config_if`].
    async fn patch_if(
        &self,
        kind: OwnerKind,
        name: &str,
        patch: &serde_json::Value,
        request: &str,
        at: Instant,
        expected: Option<u64>,
    ) -> Result<ConfigChange, StateError> {
        let before = self.versioned_config().await?;
        precondition(&before, expected)?;
        let dropped = self.patch(kind, name, patch, request, at).await?;
        let after = self.versioned_config().await?;
        Ok(ConfigChange {
            before,
            after,
            dropped,
        })
    }
    /// How many times this process found its shared state emptied (a state
    /// server restarted without its data) and seeded it again from the
    /// config in force; 0 for a state of its own.
    fn reseeds(&self) -> u64 {
        0
    }
}

/// `Ok` when `expected` is absent or the version in force.
pub fn precondition(current: &VersionedConfig, expected: Option<u64>) -> Result<(), StateError> {
    match expected {
        Some(e) if e != current.version => Err(StateError::StaleConfig {
            expected: e,
            current: current.version,
        }),
        _ => Ok(()),
    }
}

/// The in-process backend: this process's [`Engine`], lost on exit.
#[async_trait]
impl Backend for Engine {
    fn kind(&self) -> &'static str {
        "memory"
    }

    fn location(&self) -> Vec<(&'static str, String)> {
        Vec::new()
    }

    fn config(&self) -> Arc<Config> {
        Engine::config(self)
    }

    async fn health(&self) -> Result<(), StateError> {
        Ok(())
    }

    async fn check(&self, call: &Call, at: Instant) -> Result<CheckView, StateError> {
        Ok(Engine::check(self, call, at)?)
    }

    async fn route(
        &self,
        call: &Call,
        at: Instant,
        draws: &mut Draws,
    ) -> Result<RouteView, StateError> {
        Ok(Engine::route(self, call, at, draws)?)
    }

    async fn usage(&self, at: Instant) -> Result<UsageView, StateError> {
        Ok(Engine::usage(self, at))
    }

    async fn connect(
        &self,
        call: &Call,
        target: &str,
        at: Instant,
    ) -> Result<ConnectOutcome, StateError> {
        Ok(Engine::connect(self, call, target, at)?)
    }

    async fn reserve(
        &self,
        call: &Call,
        target: &str,
        ttl_secs: u64,
        at: Instant,
    ) -> Result<ConnectOutcome, StateError> {
        Ok(Engine::reserve(self, call, target, ttl_secs, at)?)
    }

    async fn convert(&self, call: &Call, revenue: Money, at: Instant) -> Result<(), StateError> {
        Ok(Engine::convert(self, call, revenue, at)?)
    }

    async fn end(&self, call: &Call, at: Instant) -> Result<(), StateError> {
        Ok(Engine::end(self, call, at)?)
    }

    async fn touch(&self, call: &Call, at: Instant) -> Result<(), StateError> {
        Ok(Engine::touch(self, call, at)?)
    }

    async fn cancel(&self, call: &Call, at: Instant) -> Result<(), StateError> {
        Ok(Engine::cancel(self, call, at)?)
    }

    async fn reset(&self, kind: OwnerKind, name: &str) -> Result<(), StateError> {
        Ok(Engine::reset(self, kind, name)?)
    }

    async fn set_paused(
        &self,
        kind: OwnerKind,
        name: &str,
        paused: bool,
    ) -> Result<(), StateError> {
        Ok(Engine::set_paused(self, kind, name, paused)?)
    }

    async fn replace_config(
        &self,
        doc: &serde_json::Value,
        file: &str,
        format: Option<Format>,
        at: Instant,
    ) -> Result<Dropped, StateError> {
        Ok(Engine::replace_config(self, doc, file, format, at)?)
    }

    async fn patch(
        &self,
        kind: OwnerKind,
        name: &str,
        patch: &serde_json::Value,
        request: &str,
        at: Instant,
    ) -> Result<Dropped, StateError> {
        Ok(Engine::patch(self, kind, name, patch, request, at)?)
    }

    async fn import_usage(
        &self,
        at: Instant,
        usage: &serde_json::Value,
        request: &str,
    ) -> Result<(), StateError> {
        Ok(Engine::import_usage(self, at, usage, request)?)
    }

    async fn versioned_config(&self) -> Result<VersionedConfig, StateError> {
        let (version, config) = Engine::versioned_config(self);
        Ok(VersionedConfig { version, config })
    }
}

/// Any [`Backend`] for synchronous callers (the CLI, threads, tests): the
/// same methods, each driven to its answer on a current-thread runtime by
/// the calling thread (no hop to a worker thread and back).
pub struct Blocking {
    rt: tokio::runtime::Runtime,
    backend: Arc<dyn Backend>,
}

impl std::fmt::Debug for Blocking {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Blocking")
            .field("kind", &self.backend.kind())
            .field("location", &self.backend.location())
            .finish()
    }
}

/// A current-thread runtime with I/O and timers, to open a backend on and
/// then drive it with [`Blocking::on`].
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}

impl Blocking {
    /// Drive `backend` from synchronous code.
    pub fn new(backend: Arc<dyn Backend>) -> std::io::Result<Blocking> {
        Ok(Blocking {
            rt: runtime()?,
            backend,
        })
    }

    /// Drive `backend` on `rt` (a runtime the backend was opened on).
    pub fn on(rt: tokio::runtime::Runtime, backend: Arc<dyn Backend>) -> Blocking {
        Blocking { rt, backend }
    }

    /// The backend underneath.
    pub fn backend(&self) -> &Arc<dyn Backend> {
        &self.backend
    }

    /// Run a future of this backend's to its end on the calling thread.
    pub fn block_on<T>(&self, f: impl std::future::Future<Output = T>) -> T {
        self.rt.block_on(f)
    }

    /// [`Backend::config`].
    pub fn config(&self) -> Arc<Config> {
        self.backend.config()
    }

    /// [`Backend::check`].
    pub fn check(&self, call: &Call, at: Instant) -> Result<CheckView, StateError> {
        self.rt.block_on(self.backend.check(call, at))
    }

    /// [`Backend::route`].
    pub fn route(
        &self,
        call: &Call,
        at: Instant,
        draws: &mut Draws,
    ) -> Result<RouteView, StateError> {
        self.rt.block_on(self.backend.route(call, at, draws))
    }

    /// [`Backend::usage`].
    pub fn usage(&self, at: Instant) -> Result<UsageView, StateError> {
        self.rt.block_on(self.backend.usage(at))
    }

    /// [`Backend::connect`].
    pub fn connect(
        &self,
        call: &Call,
        target: &str,
        at: Instant,
    ) -> Result<ConnectOutcome, StateError> {
        self.rt.block_on(self.backend.connect(call, target, at))
    }

    /// [`Backend::reserve`].
    pub fn reserve(
        &self,
        call: &Call,
        target: &str,
        ttl_secs: u64,
        at: Instant,
    ) -> Result<ConnectOutcome, StateError> {
        (self.rt).block_on(self.backend.reserve(call, target, ttl_secs, at))
    }

    /// [`Backend::convert`].
    pub fn convert(&self, call: &Call, revenue: Money, at: Instant) -> Result<(), StateError> {
        self.rt.block_on(self.backend.convert(call, revenue, at))
    }

    /// [`Backend::end`].
    pub fn end(&self, call: &Call, at: Instant) -> Result<(), StateError> {
        self.rt.block_on(self.backend.end(call, at))
    }

    /// [`Backend::touch`].
    pub fn touch(&self, call: &Call, at: Instant) -> Result<(), StateError> {
        self.rt.block_on(self.backend.touch(call, at))
    }

    /// [`Backend::cancel`].
    pub fn cancel(&self, call: &Call, at: Instant) -> Result<(), StateError> {
        self.rt.block_on(self.backend.cancel(call, at))
    }

    /// [`Backend::reset`].
    pub fn reset(&self, kind: OwnerKind, name: &str) -> Result<(), StateError> {
        self.rt.block_on(self.backend.reset(kind, name))
    }

    /// [`Backend::set_paused`].
    pub fn set_paused(&self, kind: OwnerKind, name: &str, paused: bool) -> Result<(), StateError> {
        self.rt
            .block_on(self.backend.set_paused(kind, name, paused))
    }

    /// [`Backend::replace_config`].
    pub fn replace_config(
        &self,
        doc: &serde_json::Value,
        file: &str,
        format: Option<Format>,
        at: Instant,
    ) -> Result<Dropped, StateError> {
        (self.rt).block_on(self.backend.replace_config(doc, file, format, at))
    }

    /// [`Backend::patch`].
    pub fn patch(
        &self,
        kind: OwnerKind,
        name: &str,
        patch: &serde_json::Value,
        request: &str,
        at: Instant,
    ) -> Result<Dropped, StateError> {
        (self.rt).block_on(self.backend.patch(kind, name, patch, request, at))
    }

    /// [`Backend::import_usage`].
    pub fn import_usage(
        &self,
        at: Instant,
        usage: &serde_json::Value,
        request: &str,
    ) -> Result<(), StateError> {
        (self.rt).block_on(self.backend.import_usage(at, usage, request))
    }
}
