//! [`SqliteState`] behind the [`Backend`] trait: reads from the live
//! engine, every change through [`SqliteState::change`].

use std::sync::Arc;

use async_trait::async_trait;
use routecap_core::carry_over::Dropped;
use routecap_core::formats::source::OwnerKind;
use routecap_core::formats::Format;
use routecap_core::lifecycle::ConnectOutcome;
use routecap_core::model::Config;
use routecap_core::money::Money;
use routecap_core::render::{CheckView, RouteView, UsageView};
use routecap_core::route::Draws;
use routecap_core::{Call, Instant};

use super::event::{instant_text, Applied, Event, Step};
use super::SqliteState;
use crate::state::{Backend, StateError, VersionedConfig};

/// What a lifecycle step answered when it applied (a retry's answer).
pub(super) fn first_answer(step: Step) -> Applied {
    match step {
        Step::Connect | Step::Reserve => Applied::Outcome(ConnectOutcome::Connected),
        Step::Convert | Step::End | Step::Touch | Step::Cancel => Applied::Done,
    }
}

fn key(call: &Call) -> Option<String> {
    call.request_key().map(str::to_string)
}

fn outcome(a: Applied) -> ConnectOutcome {
    match a {
        Applied::Outcome(o) => o,
        Applied::Done | Applied::Dropped(_) => ConnectOutcome::Connected,
    }
}

fn dropped(a: Applied) -> Dropped {
    match a {
        Applied::Dropped(d) => d,
        Applied::Done | Applied::Outcome(_) => Dropped::default(),
    }
}

#[async_trait]
impl Backend for SqliteState {
    fn kind(&self) -> &'static str {
        "sqlite"
    }

    fn location(&self) -> Vec<(&'static str, String)> {
        vec![("path", self.shown.clone())]
    }

    fn config(&self) -> Arc<Config> {
        self.read().core.config().clone()
    }

    async fn versioned_config(&self) -> Result<VersionedConfig, StateError> {
        let live = self.read();
        Ok(VersionedConfig {
            version: live.config_version,
            config: live.core.config().clone(),
        })
    }

    async fn health(&self) -> Result<(), StateError> {
        self.usable()
    }

    async fn check(&self, call: &Call, at: Instant) -> Result<CheckView, StateError> {
        self.usable()?;
        Ok(self.read().core.check(call, at)?)
    }

    async fn route(
        &self,
        call: &Call,
        at: Instant,
        draws: &mut Draws,
    ) -> Result<RouteView, StateError> {
        self.usable()?;
        let (view, seen) = {
            let mut live = self.write();
            let pending = live.core.state().is_pending();
            let view = live.core.route(call, at, draws)?;
            // the route anchored imported usage: a change like any other
            let seen = if pending && !live.core.state().is_pending() {
                let event = Event::Anchor {
                    at: instant_text(at),
                };
                self.log(&mut live, &event)?
            } else {
                0
            };
            (view, seen)
        };
        self.committed_through(seen).await?;
        Ok(view)
    }

    async fn usage(&self, at: Instant) -> Result<UsageView, StateError> {
        self.usable()?;
        Ok(self.read().core.usage(at))
    }

    async fn connect(
        &self,
        call: &Call,
        target: &str,
        at: Instant,
    ) -> Result<ConnectOutcome, StateError> {
        let event = Event::Connect {
            call: call.id().to_string(),
            target: target.to_string(),
            at: instant_text(at),
            attrs: call.attrs().clone(),
            key: key(call),
        };
        self.change(event).await.map(outcome)
    }

    async fn reserve(
        &self,
        call: &Call,
        target: &str,
        ttl_secs: u64,
        at: Instant,
    ) -> Result<ConnectOutcome, StateError> {
        let event = Event::Reserve {
            call: call.id().to_string(),
            target: target.to_string(),
            ttl: ttl_secs,
            at: instant_text(at),
            key: key(call),
        };
        self.change(event).await.map(outcome)
    }

    async fn convert(&self, call: &Call, revenue: Money, at: Instant) -> Result<(), StateError> {
        let event = Event::Convert {
            call: call.id().to_string(),
            revenue: revenue.minor(),
            at: instant_text(at),
            key: key(call),
        };
        self.change(event).await.map(drop)
    }

    async fn end(&self, call: &Call, at: Instant) -> Result<(), StateError> {
        let event = Event::End {
            call: call.id().to_string(),
            at: instant_text(at),
            key: key(call),
        };
        self.change(event).await.map(drop)
    }

    async fn touch(&self, call: &Call, at: Instant) -> Result<(), StateError> {
        let event = Event::Touch {
            call: call.id().to_string(),
            at: instant_text(at),
            key: key(call),
        };
        self.change(event).await.map(drop)
    }

    async fn cancel(&self, call: &Call, at: Instant) -> Result<(), StateError> {
        let event = Event::Cancel {
            call: call.id().to_string(),
            at: instant_text(at),
            key: key(call),
        };
        self.change(event).await.map(drop)
    }

    async fn reset(&self, kind: OwnerKind, name: &str) -> Result<(), StateError> {
        let event = Event::Reset {
            kind: kind.into(),
            name: name.to_string(),
        };
        self.change(event).await.map(drop)
    }

    async fn set_paused(
        &self,
        kind: OwnerKind,
        name: &str,
        paused: bool,
    ) -> Result<(), StateError> {
        let event = Event::Pause {
            kind: kind.into(),
            name: name.to_string(),
            paused,
        };
        self.change(event).await.map(drop)
    }

    async fn replace_config(
        &self,
        doc: &serde_json::Value,
        file: &str,
        format: Option<Format>,
        at: Instant,
    ) -> Result<Dropped, StateError> {
        let event = Event::Config {
            doc: doc.clone(),
            file: file.to_string(),
            format: format.map(|f| f.as_str().to_string()),
            at: instant_text(at),
        };
        self.change(event).await.map(dropped)
    }

    async fn patch(
        &self,
        kind: OwnerKind,
        name: &str,
        patch: &serde_json::Value,
        request: &str,
        at: Instant,
    ) -> Result<Dropped, StateError> {
        let event = Event::Patch {
            kind: kind.into(),
            name: name.to_string(),
            patch: patch.clone(),
            request: request.to_string(),
            at: instant_text(at),
        };
        self.change(event).await.map(dropped)
    }

    async fn import_usage(
        &self,
        at: Instant,
        usage: &serde_json::Value,
        request: &str,
    ) -> Result<(), StateError> {
        let event = Event::Usage {
            at: instant_text(at),
            usage: usage.clone(),
            request: request.to_string(),
        };
        self.change(event).await.map(drop)
    }
}
