//! Where the service keeps its state: this process's memory, or a Redis
//! server shared by every `serve` process of a namespace.
//!
//! Both answer with the same views the CLI prints. Every Redis call runs
//! under the service's backend timeout: a slow or unreachable server is a
//! 503, never a hang and never a silent admit.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use routecap_core::filter::CallAttrs;
use routecap_core::formats::live::OwnerKind;
use routecap_core::formats::Format;
use routecap_core::live::Dropped;
use routecap_core::model::Config;
use routecap_core::money::Money;
use routecap_core::render::{self, CheckView, OutcomeView, RouteView, UsageView};
use routecap_core::Instant;

use crate::state::redis::{redact_url, RedisState};
use crate::state::StateError;
use crate::Engine;

/// The state behind the service.
// one value per process, behind an `Arc`: the size of a variant costs nothing
#[allow(clippy::large_enum_variant)]
pub enum ServiceState {
    /// In this process only: counters are lost on exit and not shared.
    Memory(Engine),
    /// In a Redis-compatible server: every process on the namespace is one
    /// engine, and the counters survive restarts.
    Redis {
        /// The state.
        state: RedisState,
        /// Longest wait for one backend call.
        timeout: Duration,
    },
}

impl std::fmt::Debug for ServiceState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ServiceState::Memory(_) => f.write_str("ServiceState::Memory"),
            ServiceState::Redis { state, .. } => write!(f, "ServiceState::Redis({state:?})"),
        }
    }
}

impl ServiceState {
    /// `memory` or `redis`.
    pub fn kind(&self) -> &'static str {
        match self {
            ServiceState::Memory(_) => "memory",
            ServiceState::Redis { .. } => "redis",
        }
    }

    /// The server URL without its password, and the namespace (Redis only).
    pub fn location(&self) -> Option<(String, String)> {
        match self {
            ServiceState::Memory(_) => None,
            ServiceState::Redis { state, .. } => Some((
                redact_url(&state.options().url),
                state.options().namespace.clone(),
            )),
        }
    }

    /// The config in force.
    pub fn config(&self) -> Arc<Config> {
        match self {
            ServiceState::Memory(e) => e.config(),
            ServiceState::Redis { state, .. } => state.config(),
        }
    }

    /// Run a Redis call under the timeout.
    async fn timed<T>(
        &self,
        fut: impl Future<Output = Result<T, StateError>>,
    ) -> Result<T, StateError> {
        let ServiceState::Redis { state, timeout } = self else {
            return fut.await;
        };
        match tokio::time::timeout(*timeout, fut).await {
            Ok(r) => r,
            Err(_) => Err(StateError::Unavailable {
                url: redact_url(&state.options().url),
                message: format!("no answer within {} ms", timeout.as_millis()),
            }),
        }
    }

    /// Whether the backend answers.
    pub async fn ping(&self) -> Result<(), StateError> {
        match self {
            ServiceState::Memory(_) => Ok(()),
            ServiceState::Redis { state, .. } => self.timed(state.ping()).await,
        }
    }

    /// Eligibility of every candidate for a call, as `routecap check --json`.
    pub async fn check_view(
        &self,
        at: Instant,
        attrs: &CallAttrs,
    ) -> Result<CheckView, StateError> {
        match self {
            // reads never anchor imported usage (not anchored yet, it
            // reads as anchored at `at`): only decisions and events do
            ServiceState::Memory(e) => Ok(e.check_view_call(at, attrs)?),
            ServiceState::Redis { state, .. } => self.timed(state.check_view(at, attrs)).await,
        }
    }

    /// The whole plan for a call, as `routecap route --json`.
    pub async fn route_view(
        &self,
        at: Instant,
        seed: u64,
        attrs: &CallAttrs,
    ) -> Result<RouteView, StateError> {
        match self {
            ServiceState::Memory(e) => {
                // imported usage belongs to `as_of`, else to the first decision
                e.anchor(at);
                Ok(e.route_view_call(at, seed, attrs)?)
            }
            ServiceState::Redis { state, .. } => {
                self.timed(state.route_view(at, seed, attrs)).await
            }
        }
    }

    /// Every cap of every owner, as `routecap usage --json`.
    pub async fn usage_view(&self, at: Instant) -> Result<UsageView, StateError> {
        match self {
            ServiceState::Memory(e) => Ok(e.usage(at)),
            ServiceState::Redis { state, .. } => self.timed(state.usage_view(at)).await,
        }
    }

    /// Re-check and, if eligible, connect and count — atomically.
    pub async fn connect(
        &self,
        op: &str,
        call: &str,
        target: &str,
        at: Instant,
        attrs: &CallAttrs,
    ) -> Result<OutcomeView, StateError> {
        match self {
            ServiceState::Memory(e) => {
                let target = e.resolve(OwnerKind::Target, target)?;
                let out = e.connect_call(call, &target, at, attrs)?;
                Ok(render::outcome(&e.config(), &out))
            }
            ServiceState::Redis { state, .. } => {
                let target = state.resolve(OwnerKind::Target, target)?;
                let out = self
                    .timed(state.connect_call_op(op, call, &target, at, attrs))
                    .await?;
                Ok(render::outcome(&state.config(), &out))
            }
        }
    }

    /// Hold capacity on `target` for `ttl` seconds.
    pub async fn reserve(
        &self,
        op: &str,
        call: &str,
        target: &str,
        ttl: u64,
        at: Instant,
    ) -> Result<OutcomeView, StateError> {
        match self {
            ServiceState::Memory(e) => {
                let target = e.resolve(OwnerKind::Target, target)?;
                let out = e.reserve(call, &target, Duration::from_secs(ttl), at)?;
                Ok(render::outcome(&e.config(), &out))
            }
            ServiceState::Redis { state, .. } => {
                let target = state.resolve(OwnerKind::Target, target)?;
                let out = self
                    .timed(state.reserve_op(op, call, &target, ttl, at))
                    .await?;
                Ok(render::outcome(&state.config(), &out))
            }
        }
    }

    /// Record a conversion.
    pub async fn convert(
        &self,
        op: &str,
        call: &str,
        revenue: Money,
        at: Instant,
    ) -> Result<(), StateError> {
        match self {
            ServiceState::Memory(e) => Ok(e.convert(call, revenue, at)?),
            ServiceState::Redis { state, .. } => {
                self.timed(state.convert_op(op, call, revenue, at)).await
            }
        }
    }

    /// Apply a step that names only a call (end, touch, cancel).
    pub async fn call_step(
        &self,
        step: CallStep,
        op: &str,
        call: &str,
        at: Instant,
    ) -> Result<(), StateError> {
        match self {
            ServiceState::Memory(e) => Ok(match step {
                CallStep::End => e.end(call, at),
                CallStep::Touch => e.touch(call, at),
                CallStep::Cancel => e.cancel(call, at),
            }?),
            ServiceState::Redis { state, .. } => match step {
                CallStep::End => self.timed(state.end_op(op, call, at)).await,
                CallStep::Touch => self.timed(state.touch_op(op, call, at)).await,
                CallStep::Cancel => self.timed(state.cancel_op(op, call, at)).await,
            },
        }
    }

    /// Switch to a whole new config document (any shape), counters kept by id.
    pub async fn update_document(
        &self,
        doc: &serde_json::Value,
        file: &str,
        format: Option<Format>,
    ) -> Result<Dropped, StateError> {
        match self {
            ServiceState::Memory(e) => Ok(e.update_document(doc, file, format)?),
            // a Redis namespace holds one document for every process:
            // `--format` is for reading the file at start only
            ServiceState::Redis { state, .. } => self.timed(state.update_value(doc, file)).await,
        }
    }

    /// Patch one target or group in the config's own shape.
    pub async fn patch(
        &self,
        kind: OwnerKind,
        id: &str,
        patch: &serde_json::Value,
        request: &str,
    ) -> Result<Dropped, StateError> {
        match self {
            ServiceState::Memory(e) => Ok(e.patch(kind, id, patch, request)?),
            ServiceState::Redis { state, .. } => {
                self.timed(state.patch_value(kind, id, patch, request))
                    .await
            }
        }
    }
}

/// The reason codes of a refused connect or reserve (none when admitted).
pub fn refused_codes(out: &OutcomeView) -> impl Iterator<Item = &str> {
    out.reasons.iter().flatten().map(|r| r.code.as_str())
}

/// A lifecycle step that names only a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallStep {
    /// End a call, releasing its concurrency.
    End,
    /// Renew a connected call's lease (a heartbeat).
    Touch,
    /// Drop a reservation.
    Cancel,
}

impl CallStep {
    /// The step's name in logs: `end`, `touch`, `cancel`.
    pub fn name(self) -> &'static str {
        match self {
            CallStep::End => "end",
            CallStep::Touch => "touch",
            CallStep::Cancel => "cancel",
        }
    }
}
