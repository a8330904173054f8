//! A running state under change: carrying counters and calls over to a new
//! config by id, and merging a fresh usage import from the platform.
//!
//! # Carrying over
//!
//! Every target and group is matched by id. An id in both configs keeps its
//! counters (windows, totals, live calls) and its reservations; a new id
//! starts from the new config's imported usage; a removed id's counters
//! and reservations are dropped. Calls connected to a removed target stay
//! known, attached to no target: an `end` is accepted and releases nothing
//! (their concurrency was dropped with the target), a `convert` is an
//! error. A group's live count is its own imported live calls plus the live
//! calls of its current members, so a membership change moves live calls
//! with the members; its periodic and total counts are history and stay.
//! Changed limits apply from the next decision, against these counters.
//!
//! # Zone changes
//!
//! Every change has an instant (the event's, or the server clock's). When
//! an owner's zone changes, its windows move: the count of the window that
//! holds the change instant carries over to the new zone's window that
//! holds that instant, and counts there until that window ends (SPEC §14).
//! No cap opens up and no call counts twice because of a zone change.
//! Every call is counted in every window kind whether a cap reads it or
//! not, so a cap added to an owner counts what it already took in its
//! current window.
//!
//! # Usage imports
//!
//! An import is the platform's truth for the windows containing its
//! instant: each kind it names replaces routecap's own count of that
//! window (and the totals), whatever routecap counted there itself; kinds
//! it does not name keep routecap's counts. Its `live` replaces the
//! owner's imported live calls (routecap's own connected calls stay on
//! top), and live reservations stay on top of every count. An import
//! naming an id the config does not have is refused as a whole.

use std::collections::HashMap;

use crate::caps::ImportedUsage;
use crate::counters::{Counters, Ledger};
use crate::lifecycle::{CallPhase, State, REMOVED};
use crate::model::{CandidateRef, Config};
use crate::zone::{Instant, Zone};

/// What a config change or a restore left behind: ids the new config no
/// longer has and the calls dropped with them.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
pub struct Dropped {
    /// Target ids whose counters were dropped.
    pub targets: Vec<String>,
    /// Group ids whose counters were dropped.
    pub groups: Vec<String>,
    /// Call ids dropped (reservations on removed targets; on restore, every
    /// call of an unknown target).
    pub calls: Vec<String>,
}

impl Dropped {
    /// True when nothing was dropped.
    pub fn is_empty(&self) -> bool {
        self.targets.is_empty() && self.groups.is_empty() && self.calls.is_empty()
    }
}

/// A usage import: per owner id, the kinds the platform reports.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UsageImport {
    /// `(id, usage)` in document order.
    pub owners: Vec<(String, ImportedUsage)>,
    /// Ids match ignoring ASCII case (Ringba lower-cases the first letter
    /// of ids in `stats`).
    pub ignore_case: bool,
}

/// Why a usage import was refused. Nothing was applied.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UsageImportError {
    /// An id that is neither a target nor a group of the config.
    #[error("usage import: unknown target or group {0:?}; nothing was applied")]
    UnknownOwner(String),
}

impl State {
    /// This state (of `old`) carried over to `new` by id at the change
    /// instant `at`; see the module docs. `self` is unchanged, so a caller
    /// can drop the result.
    pub fn carry_over(&self, old: &Config, new: &Config, at: Instant) -> (State, Dropped) {
        let mut dropped = Dropped::default();
        let new_targets: HashMap<&str, usize> = first_index(new.targets.iter().map(|t| &*t.id));
        let new_groups: HashMap<&str, usize> = first_index(new.groups.iter().map(|g| &*g.id));
        let remap = |t: usize| {
            old.targets
                .get(t)
                .and_then(|x| new_targets.get(&*x.id).copied())
        };
        let mut kept = Vec::new();
        for (i, t) in old.targets.iter().enumerate() {
            let Some(c) = self.ledger.target(i) else {
                continue;
            };
            match new_targets.get(&*t.id) {
                Some(&nt) => kept.push((
                    CandidateRef::Target(nt),
                    rezoned(c, &t.zone, &new.targets[nt].zone, at),
                )),
                None => dropped.targets.push(t.id.clone()),
            }
        }
        for (i, g) in old.groups.iter().enumerate() {
            let Some(c) = self.ledger.group(i) else {
                continue;
            };
            match new_groups.get(&*g.id) {
                Some(&ng) => kept.push((
                    CandidateRef::Group(ng),
                    rezoned(c, &g.zone, &new.groups[ng].zone, at),
                )),
                None => dropped.groups.push(g.id.clone()),
            }
        }
        // own live calls and holds are taken again by call id, so each
        // lands on its target's new groups (a membership change moves them)
        let mut ledger = Ledger::carried_over(new, kept);
        for (until, call, t) in self.ledger.leases() {
            // a call on a removed target keeps its lease entry (so it still
            // lapses and is forgotten) but holds nothing
            ledger.lease(call, remap(t).unwrap_or(REMOVED), until);
        }
        let mut calls = HashMap::with_capacity(self.calls.len());
        for (id, rec) in &self.calls {
            let target = remap(rec.target);
            match (rec.phase, target) {
                (CallPhase::Reserved { expires, .. }, Some(nt)) => {
                    ledger.hold(id, nt, expires);
                }
                (CallPhase::Reserved { .. }, None) => {
                    dropped.calls.push(id.to_string());
                    continue;
                }
                (CallPhase::Connected { .. }, _) => {}
            }
            let mut rec = rec.clone();
            rec.target = target.unwrap_or(REMOVED);
            calls.insert(id.clone(), rec);
        }
        ledger.restored();
        dropped.calls.sort();
        let settled = self
            .settled
            .iter()
            .filter(|(_, id)| calls.contains_key(id))
            .cloned()
            .collect();
        (
            State {
                ledger,
                calls,
                settled,
                callers: self.callers.remap(remap),
            },
            dropped,
        )
    }

    /// Merge a usage import at `at` (see the module docs): all or nothing.
    /// Its `live` replaces the owner's imported live calls, which then hold
    /// until `at + call_lease_seconds`; routecap's own calls stay on top.
    pub fn import_usage(
        &mut self,
        config: &Config,
        at: Instant,
        usage: &UsageImport,
    ) -> Result<(), UsageImportError> {
        let mut resolved = Vec::with_capacity(usage.owners.len());
        for (id, u) in &usage.owners {
            let owner = resolve(config, id, usage.ignore_case)
                .ok_or_else(|| UsageImportError::UnknownOwner(id.clone()))?;
            resolved.push((owner, u));
        }
        self.anchor(config, at);
        for (owner, u) in resolved {
            self.ledger.import(config, owner, at, u);
        }
        Ok(())
    }
}

/// An owner's counters under the new config: its windows moved from zone
/// `old` to `new` at the change instant `at` (see the module docs).
fn rezoned(c: &Counters, old: &Zone, new: &Zone, at: Instant) -> Counters {
    let mut c = c.carried();
    c.rezone(old, new, at);
    c
}

/// Index of each id (the first of duplicates, like `Config::target_index`).
pub(crate) fn first_index<'a>(ids: impl Iterator<Item = &'a str>) -> HashMap<&'a str, usize> {
    let mut out = HashMap::new();
    for (i, id) in ids.enumerate() {
        out.entry(id).or_insert(i);
    }
    out
}

/// The target (else group) with this id.
fn resolve(config: &Config, id: &str, ignore_case: bool) -> Option<CandidateRef> {
    let eq = |x: &str| {
        if ignore_case {
            x.eq_ignore_ascii_case(id)
        } else {
            x == id
        }
    };
    config
        .targets
        .iter()
        .position(|t| eq(&t.id))
        .map(CandidateRef::Target)
        .or_else(|| {
            config
                .groups
                .iter()
                .position(|g| eq(&g.id))
                .map(CandidateRef::Group)
        })
}
