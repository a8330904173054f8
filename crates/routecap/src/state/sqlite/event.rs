//! One logged change: what the store writes for every change it
//! acknowledges, and applying it to an engine. The live path and the
//! replay at start apply the same [`Event`] through [`Event::apply`], so a
//! store read back continues exactly where the process stopped.

use chrono::SecondsFormat;
use routecap_core::carry_over::Dropped;
use routecap_core::engine::{Engine as Core, EngineError};
use routecap_core::filter::CallAttrs;
use routecap_core::formats::source::OwnerKind;
use routecap_core::formats::Format;
use routecap_core::instant::parse_rfc3339;
use routecap_core::lifecycle::ConnectOutcome;
use routecap_core::money::Money;
use routecap_core::{Call, Instant};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A lifecycle step, as the idempotency log names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum Step {
    Connect,
    Reserve,
    Convert,
    End,
    Touch,
    Cancel,
}

/// A change the store logs, in the order the engine applied it. Instants
/// are RFC 3339 text with every digit the engine had (exact round trip).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub(super) enum Event {
    Connect {
        call: String,
        target: String,
        at: String,
        #[serde(default, skip_serializing_if = "CallAttrs::is_empty")]
        attrs: CallAttrs,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        key: Option<String>,
    },
    Reserve {
        call: String,
        target: String,
        ttl: u64,
        at: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        key: Option<String>,
    },
    Convert {
        call: String,
        /// Minor units.
        revenue: i64,
        at: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        key: Option<String>,
    },
    End {
        call: String,
        at: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        key: Option<String>,
    },
    Touch {
        call: String,
        at: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        key: Option<String>,
    },
    Cancel {
        call: String,
        at: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        key: Option<String>,
    },
    /// Imported usage anchored by a `route` (lifecycle events anchor it
    /// themselves).
    Anchor {
        at: String,
    },
    Reset {
        kind: Owner,
        name: String,
    },
    Pause {
        kind: Owner,
        name: String,
        paused: bool,
    },
    Config {
        doc: Value,
        file: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        format: Option<String>,
        /// The instant of the change (a zone change moves windows at it).
        at: String,
    },
    Patch {
        kind: Owner,
        name: String,
        patch: Value,
        request: String,
        /// The instant of the change.
        at: String,
    },
    Usage {
        at: String,
        usage: Value,
        request: String,
    },
}

/// [`OwnerKind`] as the log spells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum Owner {
    Target,
    Group,
}

impl From<OwnerKind> for Owner {
    fn from(k: OwnerKind) -> Owner {
        match k {
            OwnerKind::Target => Owner::Target,
            OwnerKind::Group => Owner::Group,
        }
    }
}

impl From<Owner> for OwnerKind {
    fn from(k: Owner) -> OwnerKind {
        match k {
            Owner::Target => OwnerKind::Target,
            Owner::Group => OwnerKind::Group,
        }
    }
}

/// What applying an event answered.
#[derive(Debug)]
pub(super) enum Applied {
    /// Done (convert, end, touch, cancel, reset, pause, usage, anchor).
    Done,
    /// A connect or reserve: admitted or refused (a refusal changed
    /// nothing and is not logged).
    Outcome(ConnectOutcome),
    /// A config change, with what it dropped.
    Dropped(Dropped),
}

impl Applied {
    /// Whether the state changed (everything but a refusal; errors never
    /// change anything).
    pub(super) fn changed(&self) -> bool {
        !matches!(self, Applied::Outcome(ConnectOutcome::Refused(_)))
    }
}

/// An instant as the log writes it.
pub(super) fn instant_text(at: Instant) -> String {
    at.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

fn instant(text: &str) -> Result<Instant, String> {
    parse_rfc3339(text).map_err(|e| format!("instant {text:?}: {e}"))
}

/// Why a logged event cannot be applied again.
#[derive(Debug)]
pub(super) enum ReplayError {
    /// The event is not readable (bad instant, unknown format name).
    Malformed(String),
    /// The engine refused it.
    Engine(EngineError),
}

impl From<EngineError> for ReplayError {
    fn from(e: EngineError) -> Self {
        ReplayError::Engine(e)
    }
}

impl Event {
    /// Whether the event changes the config (its version moves).
    pub(super) fn changes_config(&self) -> bool {
        matches!(
            self,
            Event::Config { .. } | Event::Patch { .. } | Event::Pause { .. }
        )
    }

    /// The call, idempotency key and step of a lifecycle event.
    pub(super) fn request(&self) -> Option<(&str, Option<&str>, Step)> {
        let (call, key, step) = match self {
            Event::Connect { call, key, .. } => (call, key, Step::Connect),
            Event::Reserve { call, key, .. } => (call, key, Step::Reserve),
            Event::Convert { call, key, .. } => (call, key, Step::Convert),
            Event::End { call, key, .. } => (call, key, Step::End),
            Event::Touch { call, key, .. } => (call, key, Step::Touch),
            Event::Cancel { call, key, .. } => (call, key, Step::Cancel),
            _ => return None,
        };
        Some((call.as_str(), key.as_deref(), step))
    }

    /// Apply the event to `core`, as the live engine did when it was
    /// acknowledged.
    pub(super) fn apply(&self, core: &mut Core) -> Result<Applied, ReplayError> {
        let call = |id: &str| Call::new(id);
        Ok(match self {
            Event::Connect {
                call: id,
                target,
                at,
                attrs,
                ..
            } => {
                let c = Call::with_attrs(id.as_str(), attrs.clone());
                Applied::Outcome(core.connect(&c, target, instant(at).map_err(bad)?)?)
            }
            Event::Reserve {
                call: id,
                target,
                ttl,
                at,
                ..
            } => Applied::Outcome(core.reserve(
                &call(id),
                target,
                *ttl,
                instant(at).map_err(bad)?,
            )?),
            Event::Convert {
                call: id,
                revenue,
                at,
                ..
            } => {
                core.convert(&call(id), Money(*revenue), instant(at).map_err(bad)?)?;
                Applied::Done
            }
            Event::End { call: id, at, .. } => {
                core.end(&call(id), instant(at).map_err(bad)?)?;
                Applied::Done
            }
            Event::Touch { call: id, at, .. } => {
                core.touch(&call(id), instant(at).map_err(bad)?)?;
                Applied::Done
            }
            Event::Cancel { call: id, at, .. } => {
                core.cancel(&call(id), instant(at).map_err(bad)?)?;
                Applied::Done
            }
            Event::Anchor { at } => {
                core.anchor(instant(at).map_err(bad)?);
                Applied::Done
            }
            Event::Reset { kind, name } => {
                core.reset((*kind).into(), name)?;
                Applied::Done
            }
            Event::Pause { kind, name, paused } => {
                core.set_paused((*kind).into(), name, *paused)?;
                Applied::Done
            }
            Event::Config {
                doc,
                file,
                format,
                at,
            } => {
                let format = match format {
                    None => None,
                    Some(f) => Some(
                        f.parse::<Format>()
                            .map_err(|_| bad(format!("config format {f:?}")))?,
                    ),
                };
                let at = instant(at).map_err(bad)?;
                Applied::Dropped(core.replace_config(doc, file, format, at)?)
            }
            Event::Patch {
                kind,
                name,
                patch,
                request,
                at,
            } => {
                let at = instant(at).map_err(bad)?;
                Applied::Dropped(core.patch((*kind).into(), name, patch, request, at)?)
            }
            Event::Usage { at, usage, request } => {
                core.import_usage(instant(at).map_err(bad)?, usage, request)?;
                Applied::Done
            }
        })
    }
}

fn bad(message: String) -> ReplayError {
    ReplayError::Malformed(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_round_trip_exactly() {
        for text in [
            "2026-11-23T15:00:00Z",
            "2026-11-23T15:00:00.123456789Z",
            "2026-03-08T07:00:00.5Z",
        ] {
            let at = instant(text).unwrap();
            assert_eq!(instant(&instant_text(at)).unwrap(), at);
        }
    }

    #[test]
    fn events_round_trip_through_json() {
        let attrs = CallAttrs::new()
            .with_caller("+19195550100")
            .with_tag("geo", "301,us")
            .with_campaign("m");
        let e = Event::Connect {
            call: "c".into(),
            target: "a".into(),
            at: "2026-11-23T15:00:00Z".into(),
            attrs,
            key: Some("k".into()),
        };
        let text = serde_json::to_string(&e).unwrap();
        assert_eq!(serde_json::from_str::<Event>(&text).unwrap(), e);
    }
}
