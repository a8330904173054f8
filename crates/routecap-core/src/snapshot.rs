//! The snapshot format: a JSON-friendly copy of a [`State`] (ids instead
//! of indices, RFC 3339 instants, money as decimal text), and restoring a
//! state from one.
//!
//! A snapshot is taken against one config and restored against the same
//! config (or one with the same ids), so a service can persist its counters
//! and calls across restarts.
//!
//! # Versions
//!
//! Version 2 (written since leases) adds each owner's imported live calls
//! (`imported_live`, `imported_live_until`) and each connected call's
//! `lease_until` and `lapsed`; an owner's `live` counts its own live calls
//! only and must match the call records. Version 1 snapshots still
//! restore, with defaults: a connected call's lease runs until its connect
//! plus the config's `call_lease_seconds`, and an owner's `live` beyond its
//! live call records is imported live calls, held until the first
//! lifecycle event after the restore plus the lease.
//!
//! Version 3 (written since caller rules) adds the caller history
//! (`callers`: per caller and target, the last connect and conversion)
//! and each connected call's `caller`. Versions 1 and 2 restore with an
//! empty history and calls without callers (their later conversions are
//! not recorded as a caller's).

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use chrono::DateTime;
use serde::{Deserialize, Serialize};

use crate::caller_history::Visit;
use crate::carry_over::{first_index, Dropped};
use crate::counters::{after, CounterParts, Counters, SlotParts};
use crate::instant::parse_rfc3339;
use crate::lifecycle::{CallPhase, CallRecord, Conversion, State};
use crate::model::{CandidateRef, Config};
use crate::money::{Money, MoneyError};
use crate::zone::fmt_instant;
use crate::zone::Instant;

/// A JSON-friendly copy of a [`State`]: ids instead of indices, RFC 3339
/// instants, money as decimal strings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
pub struct Snapshot {
    /// Format version: 3 (1 and 2 are still read, see the module docs).
    pub version: u32,
    /// Counters per target.
    pub targets: Vec<OwnerSnapshot>,
    /// Counters per group.
    pub groups: Vec<OwnerSnapshot>,
    /// Every call record, by call id.
    pub calls: Vec<CallSnapshot>,
    /// The caller history, by caller then target id (version 3).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub callers: Vec<CallerSnapshot>,
}

/// One caller's history with one target.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
pub struct CallerSnapshot {
    /// The caller's number.
    pub caller: String,
    /// Target id.
    pub target: String,
    /// The caller's last connect there.
    pub connected_at: Option<String>,
    /// The caller's last conversion there.
    pub converted_at: Option<String>,
}

/// The counters of one target or group.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
pub struct OwnerSnapshot {
    /// Target or group id.
    pub id: String,
    /// Latest hourly window.
    pub hour: SlotSnapshot,
    /// Latest daily window.
    pub day: SlotSnapshot,
    /// Latest monthly window.
    pub month: SlotSnapshot,
    /// Calls counted since the last reset.
    pub total: u64,
    /// Revenue since the last reset.
    pub total_revenue: String,
    /// Own connected calls not ended and not released by their lease
    /// (version 1: imported live calls included); reservations excluded.
    pub live: u64,
    /// Imported live calls (version 2).
    #[serde(default)]
    pub imported_live: u64,
    /// When the imported live calls stop holding (exclusive); `null` =
    /// not anchored yet (the anchor instant + the lease).
    #[serde(default)]
    pub imported_live_until: Option<String>,
}

/// One window's counters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
pub struct SlotSnapshot {
    /// Window start; `null` = imported usage not anchored yet (matches any window).
    pub start: Option<String>,
    /// Calls counted.
    pub count: u64,
    /// Revenue.
    pub revenue: String,
}

/// One call record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
pub struct CallSnapshot {
    /// Call id.
    pub call: String,
    /// Target id.
    pub target: String,
    /// `reserved` or `connected`.
    pub phase: String,
    /// Reserve or connect instant.
    pub at: String,
    /// Reservation expiry (reserved only).
    pub expires: Option<String>,
    /// End instant.
    pub ended_at: Option<String>,
    /// Conversion instant.
    pub converted_at: Option<String>,
    /// Conversion revenue.
    pub revenue: Option<String>,
    /// Counted toward count caps.
    pub counted: bool,
    /// Connected calls: when the lease runs out (exclusive). Version 2.
    #[serde(default)]
    pub lease_until: Option<String>,
    /// The lease ran out before any end and was released. Version 2.
    #[serde(default)]
    pub lapsed: bool,
    /// The caller's number, when known. Version 3.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caller: Option<String>,
}

/// Why a snapshot could not be restored.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SnapshotError {
    /// A format version other than 1, 2 or 3.
    #[error("invalid snapshot: version {0} is not supported (expected 1, 2 or 3)")]
    Version(u32),
    /// A connected call without `lease_until` (version 2), or a
    /// reservation with one.
    #[error("invalid snapshot: call {0:?} lease_until: a connected call has one (version 2), a reservation none")]
    BadLease(String),
    /// An owner's `live` that does not match its live call records.
    #[error("invalid snapshot: {id} live: {live} does not match its {calls} live call records")]
    LiveMismatch {
        /// Target or group id.
        id: String,
        /// The `live` found.
        live: u64,
        /// Connected calls not ended and not lapsed on it.
        calls: u64,
    },
    /// A target id the config does not have.
    #[error("invalid snapshot: unknown target {0:?}")]
    UnknownTarget(String),
    /// A group id the config does not have.
    #[error("invalid snapshot: unknown group {0:?}")]
    UnknownGroup(String),
    /// A target listed twice.
    #[error("invalid snapshot: target {0:?} listed twice")]
    DuplicateTarget(String),
    /// A group listed twice.
    #[error("invalid snapshot: group {0:?} listed twice")]
    DuplicateGroup(String),
    /// A call id listed twice.
    #[error("invalid snapshot: call {0:?} listed twice")]
    DuplicateCall(String),
    /// A call on a target id the config does not have.
    #[error("invalid snapshot: call {call:?} target: unknown target")]
    UnknownCallTarget {
        /// The call id.
        call: String,
        /// The target id it names.
        target: String,
    },
    /// An instant that is not RFC 3339.
    #[error("invalid snapshot: {field}: {value:?} is not an RFC 3339 instant ({reason})")]
    BadInstant {
        /// Where: `<owner id> hour`, `call "<id>" at`, …
        field: String,
        /// The text found.
        value: String,
        /// Why it does not parse.
        reason: chrono::ParseError,
    },
    /// An amount of money that is not exact decimal text.
    #[error("invalid snapshot: {field}: {value:?} {reason}")]
    BadMoney {
        /// Where: `<owner id> total_revenue`, `call "<id>" revenue`, …
        field: String,
        /// The text found.
        value: String,
        /// Why it is refused.
        reason: MoneyError,
    },
    /// A phase other than `reserved` with `expires` or `connected` without.
    #[error("invalid snapshot: call {call:?} phase: {phase:?} with expires {expires:?} is not a valid phase")]
    BadPhase {
        /// The call id.
        call: String,
        /// The phase found.
        phase: String,
        /// The expiry found.
        expires: Option<String>,
    },
    /// `converted_at` without `revenue`, or the reverse.
    #[error("invalid snapshot: call {0:?} converted_at: converted_at and revenue go together")]
    HalfConversion(String),
    /// A reservation that is ended, converted, counted or lapsed.
    #[error(
        "invalid snapshot: call {0:?} phase: a reservation cannot be ended, converted, counted or lapsed"
    )]
    SettledReservation(String),
}

/// `field` names the value for an error, built only then: a restore of
/// thousands of owners formats no name on the way.
fn parse_instant(s: &str, field: impl FnOnce() -> String) -> Result<Instant, SnapshotError> {
    parse_rfc3339(s).map_err(|reason| SnapshotError::BadInstant {
        field: field(),
        value: s.to_string(),
        reason,
    })
}

/// `field` as for [`parse_instant`].
fn parse_money(s: &str, field: impl FnOnce() -> String) -> Result<Money, SnapshotError> {
    Money::parse(s).map_err(|reason| SnapshotError::BadMoney {
        field: field(),
        value: s.to_string(),
        reason,
    })
}

fn slot_snapshot(s: &SlotParts) -> SlotSnapshot {
    SlotSnapshot {
        start: s
            .start
            .and_then(|start| DateTime::from_timestamp(start, 0))
            .map(fmt_instant),
        count: s.count,
        revenue: s.revenue.to_string(),
    }
}

fn owner_snapshot(id: &str, c: &Counters) -> OwnerSnapshot {
    let p = c.parts();
    OwnerSnapshot {
        id: id.to_string(),
        hour: slot_snapshot(&p.slots[0]),
        day: slot_snapshot(&p.slots[1]),
        month: slot_snapshot(&p.slots[2]),
        total: p.total,
        total_revenue: p.total_revenue.to_string(),
        live: p.live,
        imported_live: p.imported_live,
        imported_live_until: p.imported_until.map(fmt_instant),
    }
}

fn restore_slot(s: &SlotSnapshot, field: impl Fn() -> String) -> Result<SlotParts, SnapshotError> {
    Ok(SlotParts {
        start: match &s.start {
            None => None,
            Some(t) => Some(parse_instant(t, &field)?.timestamp()),
        },
        count: s.count,
        revenue: parse_money(&s.revenue, &field)?,
    })
}

/// An owner's counters without its own live calls (the call records
/// bring them back); a version 1 owner without imported live calls yet.
fn restore_owner(o: &OwnerSnapshot, v1: bool) -> Result<Counters, SnapshotError> {
    let field = |k: &str| format!("{} {k}", o.id);
    let imported_until = match (&o.imported_live_until, v1) {
        (Some(t), false) => Some(parse_instant(t, || field("imported_live_until"))?),
        _ => None,
    };
    Ok(Counters::from_parts(&CounterParts {
        slots: [
            restore_slot(&o.hour, || field("hour"))?,
            restore_slot(&o.day, || field("day"))?,
            restore_slot(&o.month, || field("month"))?,
        ],
        total: o.total,
        total_revenue: parse_money(&o.total_revenue, || field("total_revenue"))?,
        live: 0,
        imported_live: if v1 { 0 } else { o.imported_live },
        imported_until,
    }))
}

impl State {
    /// A serialisable copy (calls sorted by id).
    pub fn snapshot(&self, config: &Config) -> Snapshot {
        let mut calls: Vec<CallSnapshot> = self
            .calls
            .iter()
            // calls of a target removed by a config change: no id to name
            .filter(|(_, r)| r.target < config.targets.len())
            .map(|(id, r)| {
                let (phase, at, expires) = match r.phase {
                    CallPhase::Reserved { at, expires } => ("reserved", at, Some(expires)),
                    CallPhase::Connected { at } => ("connected", at, None),
                };
                CallSnapshot {
                    call: id.to_string(),
                    target: config
                        .targets
                        .get(r.target)
                        .map_or_else(|| r.target.to_string(), |t| t.id.clone()),
                    phase: phase.to_string(),
                    at: fmt_instant(at),
                    expires: expires.map(fmt_instant),
                    ended_at: r.ended_at.map(fmt_instant),
                    converted_at: r.converted.map(|c| fmt_instant(c.at)),
                    revenue: r.converted.map(|c| c.revenue.to_string()),
                    counted: r.counted,
                    lease_until: r.lease_until.map(fmt_instant),
                    lapsed: r.lapsed,
                    caller: r.caller.as_deref().map(str::to_string),
                }
            })
            .collect();
        calls.sort_by(|a, b| a.call.cmp(&b.call));
        let mut callers: Vec<CallerSnapshot> = (self.callers.iter())
            .filter_map(|(caller, v)| {
                Some(CallerSnapshot {
                    caller: caller.to_string(),
                    target: config.targets.get(v.target)?.id.clone(),
                    connected_at: v.connected.map(fmt_instant),
                    converted_at: v.converted.map(fmt_instant),
                })
            })
            .collect();
        callers.sort_by(|a, b| (&a.caller, &a.target).cmp(&(&b.caller, &b.target)));
        let ledger = &self.ledger;
        Snapshot {
            version: 3,
            targets: (config.targets.iter().enumerate())
                .filter_map(|(i, t)| Some(owner_snapshot(&t.id, ledger.target(i)?)))
                .collect(),
            groups: (config.groups.iter().enumerate())
                .filter_map(|(i, g)| Some(owner_snapshot(&g.id, ledger.group(i)?)))
                .collect(),
            calls,
            callers,
        }
    }

    /// Rebuild a state from a snapshot, keeping what still has an id in
    /// `config` (see [`State::restore_report`]; what was dropped is not
    /// reported here).
    pub fn restore(config: &Config, snap: &Snapshot) -> Result<State, SnapshotError> {
        State::restore_report(config, snap).map(|(s, _)| s)
    }

    /// Rebuild a state from a snapshot, taken with this config or an
    /// earlier one: owners and calls whose id the config still has are
    /// restored, the others are dropped and reported (a config changed
    /// while the service was down is no reason to lose every counter).
    /// Owners missing from the snapshot start from the config's imported
    /// usage. A malformed snapshot (bad version, duplicate ids, bad
    /// instants or money) is an error and restores nothing.
    pub fn restore_report(
        config: &Config,
        snap: &Snapshot,
    ) -> Result<(State, Dropped), SnapshotError> {
        let v1 = match snap.version {
            1 => true,
            2 | 3 => false,
            v => return Err(SnapshotError::Version(v)),
        };
        let mut dropped = Dropped::default();
        let mut state = State::new(config);
        // ids looked up once each, not by a scan per owner and call (a
        // state backend restores the whole state on every cache refresh)
        let targets = first_index(config.targets.iter().map(|t| t.id.as_str()));
        let groups = first_index(config.groups.iter().map(|g| g.id.as_str()));
        let mut seen = BTreeSet::new();
        // each listed owner's `live`, checked (or split, version 1) below
        let mut stated = Vec::new();
        // duplicates of dropped ids are not checked: they are dropped anyway
        for o in &snap.targets {
            let counters = restore_owner(o, v1)?;
            let Some(i) = targets.get(o.id.as_str()).copied() else {
                dropped.targets.push(o.id.clone());
                continue;
            };
            if !seen.insert(CandidateRef::Target(i)) {
                return Err(SnapshotError::DuplicateTarget(o.id.clone()));
            }
            state.ledger.set(CandidateRef::Target(i), counters);
            stated.push((CandidateRef::Target(i), &o.id, o.live));
        }
        for o in &snap.groups {
            let counters = restore_owner(o, v1)?;
            let Some(i) = groups.get(o.id.as_str()).copied() else {
                dropped.groups.push(o.id.clone());
                continue;
            };
            if !seen.insert(CandidateRef::Group(i)) {
                return Err(SnapshotError::DuplicateGroup(o.id.clone()));
            }
            state.ledger.set(CandidateRef::Group(i), counters);
            stated.push((CandidateRef::Group(i), &o.id, o.live));
        }
        for c in &snap.calls {
            let Some(target) = targets.get(c.target.as_str()).copied() else {
                dropped.calls.push(c.call.clone());
                continue;
            };
            let rec = call_record(c, target, config, v1)?;
            let phase = rec.phase;
            let lease_until = rec.lease_until;
            let id: Arc<str> = Arc::from(c.call.as_str());
            if state.calls.contains_key(&id) {
                return Err(SnapshotError::DuplicateCall(c.call.clone()));
            }
            match (phase, lease_until) {
                (CallPhase::Reserved { expires, .. }, _) => {
                    if rec.ended_at.is_some()
                        || rec.converted.is_some()
                        || rec.counted
                        || rec.lapsed
                    {
                        return Err(SnapshotError::SettledReservation(c.call.clone()));
                    }
                    state.ledger.hold(&c.call, target, expires);
                }
                (CallPhase::Connected { .. }, Some(until)) => {
                    if rec.ended_at.is_none() && !rec.lapsed {
                        state.ledger.lease(&c.call, target, until);
                    }
                }
                (CallPhase::Connected { .. }, None) => {}
            }
            if let Some(settled) = rec.settled_at() {
                state.push_settled(settled, id.clone());
            }
            state.calls.insert(id, rec);
        }
        restore_callers(&mut state, &snap.callers, &targets)?;
        for (owner, id, live) in stated {
            let calls = state.ledger.own_live(owner);
            if v1 {
                let imported = live.saturating_sub(calls);
                state.ledger.set_imported_live(owner, imported, None);
            } else if live != calls {
                return Err(SnapshotError::LiveMismatch {
                    id: id.clone(),
                    live,
                    calls,
                });
            }
        }
        state.ledger.restored();
        Ok((state, dropped))
    }
}

/// The record of snapshot call `c` at `target` (an index in `config`),
/// its instants and money parsed and its phase, conversion and lease
/// checked against each other (`v1`: a version 1 snapshot, whose
/// connected calls carry no lease end).
fn call_record(
    c: &CallSnapshot,
    target: usize,
    config: &Config,
    v1: bool,
) -> Result<CallRecord, SnapshotError> {
    let field = |k: &str| format!("call {:?} {k}", c.call);
    let at = parse_instant(&c.at, || field("at"))?;
    let opt = |v: &Option<String>, k: &str| {
        v.as_deref()
            .map(|s| parse_instant(s, || field(k)))
            .transpose()
    };
    let phase = match (c.phase.as_str(), opt(&c.expires, "expires")?) {
        ("reserved", Some(expires)) => CallPhase::Reserved { at, expires },
        ("connected", None) => CallPhase::Connected { at },
        _ => {
            return Err(SnapshotError::BadPhase {
                call: c.call.clone(),
                phase: c.phase.clone(),
                expires: c.expires.clone(),
            })
        }
    };
    let converted = match (opt(&c.converted_at, "converted_at")?, &c.revenue) {
        (None, None) => None,
        (Some(at), Some(r)) => Some(Conversion {
            at,
            revenue: parse_money(r, || field("revenue"))?,
        }),
        _ => return Err(SnapshotError::HalfConversion(c.call.clone())),
    };
    let lease_until = match (phase, opt(&c.lease_until, "lease_until")?) {
        (CallPhase::Reserved { .. }, None) => None,
        (CallPhase::Connected { .. }, Some(u)) => Some(u),
        (CallPhase::Connected { at }, None) if v1 => Some(after(at, config.call_lease())),
        _ => return Err(SnapshotError::BadLease(c.call.clone())),
    };
    Ok(CallRecord {
        target,
        phase,
        ended_at: opt(&c.ended_at, "ended_at")?,
        converted,
        counted: c.counted,
        lease_until,
        lapsed: c.lapsed,
        caller: c.caller.as_deref().map(Arc::from),
    })
}

/// Each caller's history with the targets of the config (others are
/// forgotten, as their calls are).
fn restore_callers(
    state: &mut State,
    callers: &[CallerSnapshot],
    targets: &HashMap<&str, usize>,
) -> Result<(), SnapshotError> {
    for c in callers {
        let Some(target) = targets.get(c.target.as_str()).copied() else {
            continue;
        };
        let field = |k: &str| format!("caller {:?} target {:?} {k}", c.caller, c.target);
        let opt = |v: &Option<String>, k: &str| {
            v.as_deref()
                .map(|s| parse_instant(s, || field(k)))
                .transpose()
        };
        let visit = Visit {
            target,
            connected: opt(&c.connected_at, "connected_at")?,
            converted: opt(&c.converted_at, "converted_at")?,
        };
        state.callers.restore(&c.caller, visit);
    }
    Ok(())
}
