//! [`RedisState`] behind the [`Backend`] trait: names resolved, each write
//! keyed by the request's retry key (or a fresh one), the views drawn from
//! the counters the server holds.

use std::sync::Arc;

use async_trait::async_trait;
use routecap_core::carry_over::Dropped;
use routecap_core::formats::source::{parse_usage, OwnerKind};
use routecap_core::formats::Format;
use routecap_core::lifecycle::ConnectOutcome;
use routecap_core::model::Config;
use routecap_core::money::Money;
use routecap_core::render::{CheckView, RouteView, UsageView};
use routecap_core::route::Draws;
use routecap_core::{Call, Instant};

use super::{new_op_id, redact_url, RedisState};
use crate::state::{Backend, ConfigChange, StateError, VersionedConfig};

/// The operation id of a write: the request's retry key, else a fresh id.
fn op_of(call: &Call) -> String {
    call.request_key().map_or_else(new_op_id, str::to_string)
}

#[async_trait]
impl Backend for RedisState {
    fn kind(&self) -> &'static str {
        "redis"
    }

    fn location(&self) -> Vec<(&'static str, String)> {
        vec![
            ("url", redact_url(&self.options().url)),
            ("namespace", self.options().namespace.clone()),
        ]
    }

    fn config(&self) -> Arc<Config> {
        RedisState::config(self)
    }

    /// The server answers and holds the namespace (an emptied one is
    /// seeded again first).
    async fn health(&self) -> Result<(), StateError> {
        self.ping().await?;
        self.versioned().await.map(|_| ())
    }

    async fn check(&self, call: &Call, at: Instant) -> Result<CheckView, StateError> {
        self.check_call(call, at).await
    }

    async fn route(
        &self,
        call: &Call,
        at: Instant,
        draws: &mut Draws,
    ) -> Result<RouteView, StateError> {
        self.route_draws(call, at, draws).await
    }

    async fn usage(&self, at: Instant) -> Result<UsageView, StateError> {
        self.usage_view(at).await
    }

    async fn connect(
        &self,
        call: &Call,
        target: &str,
        at: Instant,
    ) -> Result<ConnectOutcome, StateError> {
        let target = self.resolve(OwnerKind::Target, target)?;
        (self.connect_call_op(&op_of(call), call.id(), &target, at, call.attrs())).await
    }

    async fn reserve(
        &self,
        call: &Call,
        target: &str,
        ttl_secs: u64,
        at: Instant,
    ) -> Result<ConnectOutcome, StateError> {
        let target = self.resolve(OwnerKind::Target, target)?;
        (self.reserve_op(&op_of(call), call.id(), &target, ttl_secs, at)).await
    }

    async fn convert(&self, call: &Call, revenue: Money, at: Instant) -> Result<(), StateError> {
        self.convert_op(&op_of(call), call.id(), revenue, at).await
    }

    async fn end(&self, call: &Call, at: Instant) -> Result<(), StateError> {
        self.end_op(&op_of(call), call.id(), at).await
    }

    async fn touch(&self, call: &Call, at: Instant) -> Result<(), StateError> {
        self.touch_op(&op_of(call), call.id(), at).await
    }

    async fn cancel(&self, call: &Call, at: Instant) -> Result<(), StateError> {
        self.cancel_op(&op_of(call), call.id(), at).await
    }

    async fn reset(&self, kind: OwnerKind, name: &str) -> Result<(), StateError> {
        let id = self.resolve(kind, name)?;
        match kind {
            OwnerKind::Target => self.reset_target(&id).await,
            OwnerKind::Group => self.reset_group(&id).await,
        }
    }

    async fn set_paused(
        &self,
        kind: OwnerKind,
        name: &str,
        paused: bool,
    ) -> Result<(), StateError> {
        RedisState::set_paused(self, kind, name, paused).await
    }

    async fn replace_config(
        &self,
        doc: &serde_json::Value,
        file: &str,
        format: Option<Format>,
        at: Instant,
    ) -> Result<Dropped, StateError> {
        let change = self.update_value(doc, file, format, at, None).await?;
        Ok(change.dropped)
    }

    async fn patch(
        &self,
        kind: OwnerKind,
        name: &str,
        patch: &serde_json::Value,
        request: &str,
        at: Instant,
    ) -> Result<Dropped, StateError> {
        let change = (self.patch_value(kind, name, patch, request, at, None)).await?;
        Ok(change.dropped)
    }

    async fn import_usage(
        &self,
        at: Instant,
        usage: &serde_json::Value,
        request: &str,
    ) -> Result<(), StateError> {
        let usage = parse_usage(usage, request).map_err(|e| StateError::Engine(e.into()))?;
        self.import(at, &usage).await
    }

    async fn versioned_config(&self) -> Result<VersionedConfig, StateError> {
        self.versioned().await
    }

    /// Checked by the config script itself: exact across processes.
    async fn replace_config_if(
        &self,
        doc: &serde_json::Value,
        file: &str,
        format: Option<Format>,
        at: Instant,
        expected: Option<u64>,
    ) -> Result<ConfigChange, StateError> {
        self.update_value(doc, file, format, at, expected).await
    }

    /// Checked by the config script itself: exact across processes.
    async fn patch_if(
        &self,
        kind: OwnerKind,
        name: &str,
        patch: &serde_json::Value,
        request: &str,
        at: Instant,
        expected: Option<u64>,
    ) -> Result<ConfigChange, StateError> {
        self.patch_value(kind, name, patch, request, at, expected)
            .await
    }

    fn reseeds(&self) -> u64 {
        RedisState::reseeds(self)
    }
}
