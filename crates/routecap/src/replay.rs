//! Replaying JSON Lines of call events through the engine (`routecap replay`).
//!
//! One output line per event, with its 1-based `line`. A refused `connect` is
//! a normal answer (`{"ok": false, "reasons": [...]}`); a malformed or
//! impossible event (bad JSON, unknown type, call, target or group, time
//! going backwards, a second `end`, a `touch` after the lease ran out, a
//! `cancel` of a connected call) answers `{"line": n, "error": "..."}` and
//! the replay goes on. Blank lines are skipped. All `route` events draw from
//! one random stream seeded once, so with seed N the first `route` event
//! equals `routecap route --seed N` at that instant.

use std::io::{BufRead, Write};

use routecap_core::carry_over::Dropped;
use routecap_core::engine::EngineError;
use routecap_core::filter::CallAttrs;
use routecap_core::formats::source::{refuse_empty, OwnerKind};
use routecap_core::instant::{parse_instant, InstantError};
use routecap_core::money::Money;
use routecap_core::render;
use routecap_core::route::Draws;
use routecap_core::zone::Instant;
use routecap_core::Call;
use serde::Deserialize;

use crate::state::{Backend, StateError};
use serde_json::{json, Map, Value};

/// The call attributes of a `route` / `connect` event: `caller`, `tags`
/// (`{"k": "v" | ["v", …]}`) and `campaign`, all optional.
fn attrs(event: &Value) -> Result<CallAttrs, String> {
    CallAttrs::deserialize(event).map_err(|e| e.to_string())
}

/// Totals of a replay.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReplaySummary {
    /// Events answered (blank lines excluded).
    pub events: u64,
    /// Events answered with `{"error": ...}`.
    pub errors: u64,
}

/// Why a replay stopped before its end.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// Reading the events or writing the answers failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// The state server failed (unreachable, misbehaving, or a write that
    /// may or may not have applied): the replay cannot go on.
    #[error(transparent)]
    State(StateError),
}

/// A replay in progress: the state (config and counters), the route stream.
pub struct Replayer<'b> {
    backend: &'b dyn Backend,
    draws: Draws,
    last_at: Option<Instant>,
    /// A state-server failure met by the last event (ends the replay).
    fatal: Option<StateError>,
}

impl<'b> Replayer<'b> {
    /// Start a replay on a state (any backend) with route seed `seed`.
    pub fn new(backend: &'b dyn Backend, seed: u64) -> Self {
        Replayer {
            backend,
            draws: Draws::new(seed),
            last_at: None,
            fatal: None,
        }
    }

    /// The state.
    pub fn backend(&self) -> &dyn Backend {
        self.backend
    }

    /// The state-server failure that stopped the replay, if any.
    pub fn take_fatal(&mut self) -> Option<StateError> {
        self.fatal.take()
    }

    /// An error of the state as an event error; a server failure is kept
    /// to end the replay.
    fn state_error(&mut self, e: StateError) -> String {
        match e {
            StateError::Engine(e) => field_error(e),
            e => {
                let text = e.to_string();
                self.fatal = Some(e);
                text
            }
        }
    }

    /// An event's `type` and `at`, which must not be before the previous
    /// event's.
    fn kind_and_instant<'o>(
        &self,
        obj: &'o Map<String, Value>,
    ) -> Result<(&'o str, Instant), String> {
        let kind = obj.get("type").and_then(Value::as_str).ok_or(concat!(
            "missing \"type\" (",
            event_types!(),
            ")"
        ))?;
        let at_text = obj
            .get("at")
            .and_then(Value::as_str)
            .ok_or("missing \"at\"")?;
        let at = parse_instant(at_text).map_err(|e| match e {
            InstantError::Syntax { reason, .. } => {
                format!("at: {at_text:?} is not an RFC 3339 instant: {reason}")
            }
            InstantError::OutOfRange { .. } => {
                format!("at: {at_text:?} is outside the supported range 1970..2100")
            }
        })?;
        if let Some(last) = self.last_at {
            if at < last {
                return Err(format!(
                    "at: {} is before the previous event ({}); events must be in non-decreasing time order",
                    render::instant(at),
                    render::instant(last)
                ));
            }
        }
        Ok((kind, at))
    }

    /// Answer one event line (without its `line` field).
    pub async fn event(&mut self, text: &str) -> Result<Map<String, Value>, String> {
        let v: Value = serde_json::from_str(text).map_err(|e| format!("not a JSON event: {e}"))?;
        let obj = v
            .as_object()
            .ok_or_else(|| format!("an event is a JSON object, not {}", short(&v)))?;
        let (kind, at) = self.kind_and_instant(obj)?;
        let str_field = |name: &str| -> Result<&str, String> {
            match obj.get(name) {
                Some(Value::String(s)) => Ok(s.as_str()),
                Some(other) => Err(format!("{name}: {} is not a string", short(other))),
                None => Err(format!("missing \"{name}\"")),
            }
        };
        let mut out = Map::new();
        let config = self.backend.config();
        let config = &*config;
        let b = self.backend;
        match kind {
            "route" => {
                let id = obj.get("call").and_then(Value::as_str).unwrap_or("");
                let call = Call::with_attrs(id, attrs(&v)?);
                let view =
                    (b.route(&call, at, &mut self.draws).await).map_err(|e| self.state_error(e))?;
                if let Some(call) = obj.get("call").and_then(Value::as_str) {
                    out.insert("call".into(), json!(call));
                }
                out.insert("plan".into(), json!(view.plan));
                out.insert("rejected".into(), json!(view.rejected));
            }
            "connect" | "reserve" => {
                let call = Call::with_attrs(str_field("call")?, attrs(&v)?);
                let target = str_field("target")?;
                let outcome = if kind == "connect" {
                    b.connect(&call, target, at).await
                } else {
                    let ttl = obj
                        .get("ttl")
                        .and_then(Value::as_u64)
                        .ok_or("reserve needs \"ttl\": whole seconds > 0")?;
                    b.reserve(&call, target, ttl, at).await
                }
                .map_err(|e| self.state_error(e))?;
                out.extend(object(render::outcome(config, &outcome)));
            }
            "convert" => {
                let call = Call::new(str_field("call")?);
                let revenue = revenue(obj.get("revenue"))?;
                (b.convert(&call, revenue, at).await).map_err(|e| self.state_error(e))?;
                out.insert("ok".into(), json!(true));
            }
            "end" | "touch" | "cancel" => {
                let call = Call::new(str_field("call")?);
                match kind {
                    "end" => b.end(&call, at).await,
                    "touch" => b.touch(&call, at).await,
                    _ => b.cancel(&call, at).await,
                }
                .map_err(|e| self.state_error(e))?;
                out.insert("ok".into(), json!(true));
            }
            "reset" => {
                let (kind_of, name) = owner_field(obj, kind)?;
                (b.reset(kind_of, name).await).map_err(|e| self.state_error(e))?;
                out.insert("ok".into(), json!(true));
            }
            "pause" | "resume" => {
                let (kind_of, name) = owner_field(obj, kind)?;
                (b.set_paused(kind_of, name, kind == "pause").await)
                    .map_err(|e| self.state_error(e))?;
                out.insert("ok".into(), json!(true));
            }
            "update" => {
                let (kind_of, name) = owner_field(obj, kind)?;
                let patch = obj
                    .get("patch")
                    .ok_or("update needs \"patch\": a partial target or group object")?;
                let dropped = (b.patch(kind_of, name, patch, "update", at).await)
                    .map_err(|e| self.state_error(e))?;
                out.insert("ok".into(), json!(true));
                dropped_field(&mut out, &dropped);
            }
            "config" => {
                let doc = obj
                    .get("config")
                    .ok_or("config needs \"config\": a whole config in any shape")?;
                match obj.get("allow_empty") {
                    None | Some(Value::Bool(false)) => {
                        refuse_empty(
                            doc,
                            "config",
                            None,
                            "add \"allow_empty\": true to the event",
                        )
                        .map_err(|e| self.state_error(StateError::Engine(e.into())))?;
                    }
                    Some(Value::Bool(true)) => {}
                    Some(other) => {
                        return Err(format!(
                            "allow_empty: {} is not true or false",
                            short(other)
                        ))
                    }
                }
                let dropped = (b.replace_config(doc, "config", None, at).await)
                    .map_err(|e| self.state_error(e))?;
                out.insert("ok".into(), json!(true));
                dropped_field(&mut out, &dropped);
            }
            "usage" => {
                let usage = obj
                    .get("usage")
                    .ok_or("usage needs \"usage\": {\"id\": {\"daily\": 3, \"live\": 0}} or a Retreaver/Ringba usage document")?;
                (b.import_usage(at, usage, "usage").await).map_err(|e| self.state_error(e))?;
                out.insert("ok".into(), json!(true));
            }
            other => {
                return Err(format!(
                    concat!("type: {:?} is not an event type (", event_types!(), ")"),
                    other
                ))
            }
        }
        self.last_at = Some(at);
        Ok(out)
    }
}

/// The event types, for error messages.
macro_rules! event_types {
    () => {
        "route, connect, reserve, convert, end, touch, cancel, reset, pause, resume, update, config, usage"
    };
}
use event_types;

/// The `"target"` or `"group"` an event names (exactly one).
fn owner_field<'a>(
    obj: &'a Map<String, Value>,
    kind: &str,
) -> Result<(OwnerKind, &'a str), String> {
    let (k, key) = match (obj.get("target"), obj.get("group")) {
        (Some(_), None) => (OwnerKind::Target, "target"),
        (None, Some(_)) => (OwnerKind::Group, "group"),
        _ => {
            return Err(format!(
                "{kind} needs exactly one of \"target\" or \"group\""
            ))
        }
    };
    match &obj[key] {
        Value::String(s) => Ok((k, s.as_str())),
        other => Err(format!("{key}: {} is not a string", short(other))),
    }
}

/// Report the ids a config change dropped, when there are any.
fn dropped_field(out: &mut Map<String, Value>, dropped: &Dropped) {
    if !dropped.is_empty() {
        out.insert("dropped".into(), json!(dropped));
    }
}

/// An engine error as an event error; unknown ids name the event field.
fn field_error(e: EngineError) -> String {
    match e {
        EngineError::UnknownTarget(_) => format!("target: {e}"),
        EngineError::UnknownGroup(_) => format!("group: {e}"),
        e => e.to_string(),
    }
}

/// A view's fields, to add to an output line.
fn object(v: impl serde::Serialize) -> Map<String, Value> {
    match serde_json::to_value(v) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    }
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 60 {
        format!("{}…", s.chars().take(60).collect::<String>())
    } else {
        s
    }
}

/// The `revenue` of a `convert` event: a decimal string or number
/// (absent or `null`: zero).
fn revenue(v: Option<&Value>) -> Result<Money, String> {
    match v {
        None | Some(Value::Null) => Ok(Money::ZERO),
        Some(Value::String(s)) => Money::parse(s).map_err(|e| format!("revenue: {s:?} {e}")),
        Some(Value::Number(n)) => {
            Money::parse(&n.to_string()).map_err(|e| format!("revenue: {n} {e}"))
        }
        Some(other) => Err(format!(
            "revenue: {} is not an amount (a decimal string or number)",
            short(other)
        )),
    }
}

/// Replay every line of `events` through a state (any backend: the
/// answers are the same), writing one JSON line per event to `out`. A
/// state-server failure ends the replay after writing its event's line.
pub async fn replay(
    backend: &dyn Backend,
    events: impl BufRead,
    seed: u64,
    mut out: impl Write,
) -> Result<ReplaySummary, ReplayError> {
    let mut r = Replayer::new(backend, seed);
    let mut summary = ReplaySummary::default();
    for (i, line) in events.split(b'\n').enumerate() {
        let line = line?;
        let text = String::from_utf8_lossy(&line);
        if text.trim().is_empty() {
            continue;
        }
        summary.events += 1;
        let mut obj = Map::new();
        obj.insert("line".into(), json!(i + 1));
        match std::str::from_utf8(&line) {
            Err(e) => {
                summary.errors += 1;
                obj.insert("error".into(), json!(format!("line is not UTF-8: {e}")));
            }
            Ok(text) => match r.event(text).await {
                Ok(m) => obj.extend(m),
                Err(e) => {
                    summary.errors += 1;
                    obj.insert("error".into(), json!(e));
                }
            },
        }
        serde_json::to_writer(&mut out, &Value::Object(obj)).map_err(std::io::Error::from)?;
        out.write_all(b"\n")?;
        if let Some(e) = r.take_fatal() {
            out.flush()?;
            return Err(ReplayError::State(e));
        }
    }
    out.flush()?;
    Ok(summary)
}
