//! [`RedisBackend`]: the async [`RedisState`] for synchronous callers
//! (the CLI, threads), behind the same [`Backend`] trait as memory.

use std::sync::Arc;

use routecap_core::eligibility::CandidateReport;
use routecap_core::filter::CallAttrs;
use routecap_core::formats::live::OwnerKind;
use routecap_core::formats::Format;
use routecap_core::lifecycle::ConnectOutcome;
use routecap_core::live::{Dropped, UsageImport};
use routecap_core::model::Config;
use routecap_core::money::Money;
use routecap_core::render::{CheckView, RouteView, UsageView};
use routecap_core::route::RouteRng;
use routecap_core::Instant;

use super::{new_op_id, redact_url, RedisOptions, RedisState};
use crate::state::{usage_of, Backend, StateError};
use crate::Engine;

/// [`RedisState`] for synchronous callers: owns a current-thread tokio
/// runtime, driven by whichever calling thread waits on it.
pub struct RedisBackend {
    rt: tokio::runtime::Runtime,
    state: RedisState,
}

impl std::fmt::Debug for RedisBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.state.fmt(f)
    }
}

fn runtime(url: &str) -> Result<tokio::runtime::Runtime, StateError> {
    // current-thread: each calling thread drives the connection while it
    // waits, with no hop to a worker thread and back (half the latency)
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| StateError::Unavailable {
            url: redact_url(url),
            message: format!("cannot start the I/O runtime: {e}"),
        })
}

impl RedisBackend {
    /// Connect (see [`RedisState::open`]).
    pub fn open(
        config: impl Into<Arc<Config>>,
        opts: RedisOptions,
    ) -> Result<RedisBackend, StateError> {
        let rt = runtime(&opts.url)?;
        let state = rt.block_on(RedisState::open(config, opts))?;
        Ok(RedisBackend { rt, state })
    }

    /// Connect with the config's document (see
    /// [`RedisState::open_document`]).
    pub fn open_document(
        bytes: &[u8],
        file: &str,
        format: Option<Format>,
        opts: RedisOptions,
    ) -> Result<RedisBackend, StateError> {
        let rt = runtime(&opts.url)?;
        let state = rt.block_on(RedisState::open_document(bytes, file, format, opts))?;
        Ok(RedisBackend { rt, state })
    }

    /// The async state underneath.
    pub fn state(&self) -> &RedisState {
        &self.state
    }

    /// [`RedisState::connect_op`].
    pub fn connect_op(
        &self,
        op: &str,
        call: &str,
        target: &str,
        at: Instant,
    ) -> Result<ConnectOutcome, StateError> {
        self.rt
            .block_on(self.state.connect_op(op, call, target, at))
    }

    /// [`RedisState::convert_op`].
    pub fn convert_op(
        &self,
        op: &str,
        call: &str,
        revenue: Money,
        at: Instant,
    ) -> Result<(), StateError> {
        self.rt
            .block_on(self.state.convert_op(op, call, revenue, at))
    }

    /// [`RedisState::end_op`].
    pub fn end_op(&self, op: &str, call: &str, at: Instant) -> Result<(), StateError> {
        self.rt.block_on(self.state.end_op(op, call, at))
    }

    /// [`RedisState::fetch`]: authoritative counters at `at`.
    pub fn fetch(&self, at: Instant) -> Result<Arc<Engine>, StateError> {
        self.rt.block_on(self.state.fetch(at))
    }
}

impl Backend for RedisBackend {
    fn config(&self) -> Arc<Config> {
        self.state.config()
    }

    fn resolve(&self, kind: OwnerKind, name: &str) -> Result<String, StateError> {
        self.state.resolve(kind, name)
    }

    fn anchor(&self, at: Instant) -> Result<(), StateError> {
        self.rt.block_on(self.state.anchor(at))
    }

    fn connect_call(
        &self,
        call: &str,
        target: &str,
        at: Instant,
        attrs: &CallAttrs,
    ) -> Result<ConnectOutcome, StateError> {
        self.rt.block_on(
            self.state
                .connect_call_op(&new_op_id(), call, target, at, attrs),
        )
    }

    fn reserve(
        &self,
        call: &str,
        target: &str,
        ttl_secs: u64,
        at: Instant,
    ) -> Result<ConnectOutcome, StateError> {
        self.rt.block_on(
            self.state
                .reserve_op(&new_op_id(), call, target, ttl_secs, at),
        )
    }

    fn convert(&self, call: &str, revenue: Money, at: Instant) -> Result<(), StateError> {
        self.convert_op(&new_op_id(), call, revenue, at)
    }

    fn end(&self, call: &str, at: Instant) -> Result<(), StateError> {
        self.end_op(&new_op_id(), call, at)
    }

    fn touch(&self, call: &str, at: Instant) -> Result<(), StateError> {
        self.rt
            .block_on(self.state.touch_op(&new_op_id(), call, at))
    }

    fn cancel(&self, call: &str, at: Instant) -> Result<(), StateError> {
        self.rt
            .block_on(self.state.cancel_op(&new_op_id(), call, at))
    }

    fn reset_target(&self, target: &str) -> Result<(), StateError> {
        self.rt.block_on(self.state.reset_target(target))
    }

    fn reset_group(&self, group: &str) -> Result<(), StateError> {
        self.rt.block_on(self.state.reset_group(group))
    }

    fn check(&self, at: Instant) -> Result<Vec<CandidateReport>, StateError> {
        self.rt.block_on(self.state.check(at))
    }

    fn view(&self, at: Instant) -> Result<Arc<Engine>, StateError> {
        self.rt.block_on(self.state.view(at))
    }

    fn check_view(&self, at: Instant, attrs: &CallAttrs) -> Result<CheckView, StateError> {
        self.rt.block_on(self.state.check_view(at, attrs))
    }

    fn route_view_rng(
        &self,
        at: Instant,
        seed: u64,
        attrs: &CallAttrs,
        rng: &mut RouteRng,
    ) -> Result<RouteView, StateError> {
        self.rt
            .block_on(self.state.route_view_rng(at, seed, attrs, rng))
    }

    fn usage(&self, at: Instant) -> Result<Vec<routecap_core::render::UsageRow>, StateError> {
        // a fresh authoritative read, not cached
        let engine = self
            .rt
            .block_on(self.state.fetch_skipping(at, Some(""), None))?;
        Ok(usage_of(&engine, at))
    }

    fn usage_view(&self, at: Instant) -> Result<UsageView, StateError> {
        self.rt.block_on(self.state.usage_view(at))
    }

    fn update_value(&self, doc: &serde_json::Value, file: &str) -> Result<Dropped, StateError> {
        self.rt.block_on(self.state.update_value(doc, file))
    }

    fn patch_value(
        &self,
        kind: OwnerKind,
        name: &str,
        patch: &serde_json::Value,
        request: &str,
    ) -> Result<Dropped, StateError> {
        self.rt
            .block_on(self.state.patch_value(kind, name, patch, request))
    }

    fn set_paused(&self, kind: OwnerKind, name: &str, paused: bool) -> Result<(), StateError> {
        self.rt.block_on(self.state.set_paused(kind, name, paused))
    }

    fn import_usage(&self, at: Instant, usage: &UsageImport) -> Result<(), StateError> {
        self.rt.block_on(self.state.import_usage(at, usage))
    }
}
