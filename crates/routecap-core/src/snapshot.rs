//! The snapshot format: a JSON-friendly copy of a [`State`] (ids instead
//! of indices, RFC 3339 instants, money as decimal text), and restoring a
//! state from one.
//!
//! A snapshot is taken against one config and restored against the same
//! config (or one with the same ids), so a service can persist its counters
//! and calls across restarts.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::counters::{CounterParts, Counters, SlotParts};
use crate::lifecycle::{fmt_instant, CallPhase, CallRecord, Conversion, State};
use crate::live::Dropped;
use crate::model::{CandidateRef, Config};
use crate::money::{Money, MoneyError};
use crate::zone::Instant;

/// A JSON-friendly copy of a [`State`]: ids instead of indices, RFC 3339
/// instants, money as decimal strings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Format version (1).
    pub version: u32,
    /// Counters per target.
    pub targets: Vec<OwnerSnapshot>,
    /// Counters per group.
    pub groups: Vec<OwnerSnapshot>,
    /// Every call record, by call id.
    pub calls: Vec<CallSnapshot>,
}

/// The counters of one target or group.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
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
    /// Live connected calls (imported ones included), reservations excluded.
    pub live: u64,
}

/// One window's counters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
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
}

/// Why a snapshot could not be restored.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SnapshotError {
    /// A format version other than 1.
    #[error("invalid snapshot: version {0} is not supported (expected 1)")]
    Version(u32),
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
    /// A reservation that is ended, converted or counted.
    #[error(
        "invalid snapshot: call {0:?} phase: a reservation cannot be ended, converted or counted"
    )]
    SettledReservation(String),
}

fn parse_instant(s: &str, field: &str) -> Result<Instant, SnapshotError> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|reason| SnapshotError::BadInstant {
            field: field.to_string(),
            value: s.to_string(),
            reason,
        })
}

fn parse_money(s: &str, field: &str) -> Result<Money, SnapshotError> {
    Money::parse(s).map_err(|reason| SnapshotError::BadMoney {
        field: field.to_string(),
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
    }
}

fn restore_slot(s: &SlotSnapshot, field: &str) -> Result<SlotParts, SnapshotError> {
    Ok(SlotParts {
        start: match &s.start {
            None => None,
            Some(t) => Some(parse_instant(t, field)?.timestamp()),
        },
        count: s.count,
        revenue: parse_money(&s.revenue, field)?,
    })
}

fn restore_owner(o: &OwnerSnapshot) -> Result<Counters, SnapshotError> {
    let field = |k: &str| format!("{} {k}", o.id);
    Ok(Counters::from_parts(&CounterParts {
        slots: [
            restore_slot(&o.hour, &field("hour"))?,
            restore_slot(&o.day, &field("day"))?,
            restore_slot(&o.month, &field("month"))?,
        ],
        total: o.total,
        total_revenue: parse_money(&o.total_revenue, &field("total_revenue"))?,
        live: o.live,
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
                    call: id.clone(),
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
                }
            })
            .collect();
        calls.sort_by(|a, b| a.call.cmp(&b.call));
        let ledger = &self.ledger;
        Snapshot {
            version: 1,
            targets: (config.targets.iter().enumerate())
                .filter_map(|(i, t)| Some(owner_snapshot(&t.id, ledger.target(i)?)))
                .collect(),
            groups: (config.groups.iter().enumerate())
                .filter_map(|(i, g)| Some(owner_snapshot(&g.id, ledger.group(i)?)))
                .collect(),
            calls,
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
        if snap.version != 1 {
            return Err(SnapshotError::Version(snap.version));
        }
        let mut dropped = Dropped::default();
        let mut state = State::new(config);
        let mut seen = BTreeSet::new();
        // duplicates of dropped ids are not checked: they are dropped anyway
        for o in &snap.targets {
            let counters = restore_owner(o)?;
            let Some(i) = config.target_index(&o.id) else {
                dropped.targets.push(o.id.clone());
                continue;
            };
            if !seen.insert(CandidateRef::Target(i)) {
                return Err(SnapshotError::DuplicateTarget(o.id.clone()));
            }
            state.ledger.set(CandidateRef::Target(i), counters);
        }
        for o in &snap.groups {
            let counters = restore_owner(o)?;
            let Some(i) = config.group_index(&o.id) else {
                dropped.groups.push(o.id.clone());
                continue;
            };
            if !seen.insert(CandidateRef::Group(i)) {
                return Err(SnapshotError::DuplicateGroup(o.id.clone()));
            }
            state.ledger.set(CandidateRef::Group(i), counters);
        }
        for c in &snap.calls {
            let field = |k: &str| format!("call {:?} {k}", c.call);
            let Some(target) = config.target_index(&c.target) else {
                dropped.calls.push(c.call.clone());
                continue;
            };
            let at = parse_instant(&c.at, &field("at"))?;
            let opt = |v: &Option<String>, k: &str| {
                v.as_deref()
                    .map(|s| parse_instant(s, &field(k)))
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
                    revenue: parse_money(r, &field("revenue"))?,
                }),
                _ => return Err(SnapshotError::HalfConversion(c.call.clone())),
            };
            let rec = CallRecord {
                target,
                phase,
                ended_at: opt(&c.ended_at, "ended_at")?,
                converted,
                counted: c.counted,
            };
            if let CallPhase::Reserved { expires, .. } = phase {
                if rec.ended_at.is_some() || rec.converted.is_some() || rec.counted {
                    return Err(SnapshotError::SettledReservation(c.call.clone()));
                }
                state.ledger.hold(&c.call, target, expires);
            }
            if state.calls.insert(c.call.clone(), rec).is_some() {
                return Err(SnapshotError::DuplicateCall(c.call.clone()));
            }
        }
        state.ledger.restored();
        Ok((state, dropped))
    }
}
