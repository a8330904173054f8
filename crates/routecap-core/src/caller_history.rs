//! Repeat and duplicate callers: per known caller and per target, when the
//! caller last connected there and last converted there, remembered for as
//! long as some rule of the config can ask (its longest window).
//!
//! Two kinds of rules read this history:
//!
//! - a target's [`DuplicateRule`] (`duplicates: {"basis", "window"}`): the
//!   target is ineligible for a caller it connected (`basis: connect`) or
//!   converted (`basis: convert`) within the last `window` seconds —
//!   reason `duplicate_caller`, `until` = that event + `window`;
//! - the config's or the call's campaign's [`RepeatRule`]
//!   (`repeat_callers: {"mode", "window"}`): `original` puts the target the
//!   caller last connected to within the window first in the plan (when it
//!   is eligible for this call), `different` makes every target the caller
//!   connected to within the window ineligible — reason `repeat_caller`,
//!   `until` = that connect + `window`; `normal` does neither.
//!
//! "Within the last `window` seconds" of an instant `at` is the half-open
//! range `(at - window, at]`: an event at 10:00 with a 3600 s window
//! matches decisions from 10:00 up to 10:59:59 and no longer at 11:00
//! (the reason's `until`). Unknown callers (no number, `anonymous`,
//! `restricted`) have no history and never match.
//!
//! # Memory
//!
//! Each recorded event is queued by its instant; every lifecycle event
//! first sweeps the queue up to its instant minus the longest window and
//! drops what only those events kept (amortised O(1) per event, like the
//! forgetting of settled calls). Reads never sweep: they judge each stored
//! instant against the decision's own window, so an entry not swept yet
//! changes no answer. A config without rules records nothing.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use chrono::TimeDelta;

pub use crate::caller_rules::{Basis, DuplicateRule, RepeatMode, RepeatRule};
use crate::filter::CallAttrs;
use crate::model::Config;
use crate::zone::Instant;

/// One caller's history with one target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Visit {
    /// Index into `Config::targets`.
    pub target: usize,
    /// The caller's last successful connect to it.
    pub connected: Option<Instant>,
    /// The caller's last conversion on it.
    pub converted: Option<Instant>,
}

impl Visit {
    /// The latest of its events.
    pub fn last(&self) -> Option<Instant> {
        self.connected.max(self.converted)
    }
}

/// `window` seconds as a duration (windows are parsed to at most 10 years).
fn seconds(window: u64) -> TimeDelta {
    TimeDelta::try_seconds(i64::try_from(window).unwrap_or(i64::MAX)).unwrap_or(TimeDelta::MAX)
}

/// `event + window`, saturating.
pub(crate) fn plus(event: Instant, window: u64) -> Instant {
    event
        .checked_add_signed(seconds(window))
        .unwrap_or(Instant::MAX_UTC)
}

/// Whether `event` lies within the `window` seconds up to `at`: `(at -
/// window, at]`.
pub fn within(event: Instant, window: u64, at: Instant) -> bool {
    event <= at && at < plus(event, window)
}

/// Per caller, per target: the last connect and conversion, kept for the
/// config's longest window. See the module docs.
#[derive(Clone, Debug, Default)]
pub struct CallerHistory {
    callers: HashMap<Arc<str>, Vec<Visit>>,
    /// Every recorded event as `(instant, caller)`, in time order.
    events: VecDeque<(Instant, Arc<str>)>,
}

/// Two histories are equal when they remember the same visits (the sweep
/// queue is bookkeeping: a restored history rebuilds it differently).
impl PartialEq for CallerHistory {
    fn eq(&self, other: &Self) -> bool {
        self.callers == other.callers
    }
}

impl Eq for CallerHistory {}

impl CallerHistory {
    /// An empty history.
    pub fn new() -> Self {
        Self::default()
    }

    /// The visits of `caller` (empty for an unknown one), in the order
    /// they were first recorded.
    pub fn visits(&self, caller: &str) -> &[Visit] {
        self.callers.get(caller).map_or(&[], Vec::as_slice)
    }

    /// Number of callers remembered.
    pub fn callers(&self) -> usize {
        self.callers.len()
    }

    /// Number of (caller, target) visits remembered.
    pub fn len(&self) -> usize {
        self.callers.values().map(Vec::len).sum()
    }

    /// Whether nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.callers.is_empty()
    }

    /// Every `(caller, visit)`, callers in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Visit)> + '_ {
        (self.callers.iter()).flat_map(|(c, vs)| vs.iter().map(move |v| (&**c, v)))
    }

    /// Record that `caller` connected to target `t` at `at`.
    pub fn connected(&mut self, caller: &str, t: usize, at: Instant) {
        self.record(caller, t, at, |v| v.connected = v.connected.max(Some(at)));
    }

    /// Record that `caller`'s call on target `t` converted at `at`.
    pub fn converted(&mut self, caller: &str, t: usize, at: Instant) {
        self.record(caller, t, at, |v| v.converted = v.converted.max(Some(at)));
    }

    fn record(&mut self, caller: &str, t: usize, at: Instant, set: impl FnOnce(&mut Visit)) {
        let key = match self.callers.get_key_value(caller) {
            Some((k, _)) => k.clone(),
            None => Arc::from(caller),
        };
        let visits = self.callers.entry(key.clone()).or_default();
        let i = match visits.iter().position(|v| v.target == t) {
            Some(i) => i,
            None => {
                visits.push(Visit {
                    target: t,
                    connected: None,
                    converted: None,
                });
                visits.len() - 1
            }
        };
        if let Some(v) = visits.get_mut(i) {
            set(v);
        }
        let entry = (at, key);
        if self.events.back().is_none_or(|b| b.0 <= at) {
            self.events.push_back(entry);
        } else {
            // time went backwards: keep the queue sorted
            let i = self.events.partition_point(|e| e.0 <= at);
            self.events.insert(i, entry);
        }
    }

    /// Forget what no window of `keep` seconds reaching back from `at` can
    /// see any more: visits whose last event is at or before `at - keep`.
    pub fn sweep(&mut self, at: Instant, keep: u64) {
        while let Some((event, _)) = self.events.front() {
            if plus(*event, keep) > at {
                break;
            }
            let Some((_, caller)) = self.events.pop_front() else {
                break;
            };
            if let Some(visits) = self.callers.get_mut(&caller) {
                visits.retain(|v| v.last().is_some_and(|l| plus(l, keep) > at));
                if visits.is_empty() {
                    self.callers.remove(&caller);
                }
            }
        }
    }

    /// This history with target indices moved by `remap` (a config
    /// change); visits of targets it maps to `None` are dropped.
    pub fn remap(&self, remap: impl Fn(usize) -> Option<usize>) -> CallerHistory {
        let mut out = CallerHistory::new();
        for (caller, visits) in &self.callers {
            let kept: Vec<Visit> = (visits.iter())
                .filter_map(|v| {
                    Some(Visit {
                        target: remap(v.target)?,
                        ..*v
                    })
                })
                .collect();
            if !kept.is_empty() {
                out.callers.insert(caller.clone(), kept);
            }
        }
        out.events = (self.events.iter())
            .filter(|(_, c)| out.callers.contains_key(c))
            .cloned()
            .collect();
        out
    }

    /// Add a restored visit (snapshots): its events are queued for the sweep.
    pub fn restore(&mut self, caller: &str, visit: Visit) {
        if let Some(at) = visit.connected {
            self.connected(caller, visit.target, at);
        }
        if let Some(at) = visit.converted {
            self.converted(caller, visit.target, at);
        }
    }
}

/// The longest window any rule of `config` reads, in seconds; 0 when no
/// rule needs history (no `duplicates`, repeat modes all `normal`).
/// Computed once per config: [`Config::caller_window`].
pub fn longest_window(config: &Config) -> u64 {
    config.caller_window()
}

/// The repeat rule for a call: its campaign's own when the call names a
/// campaign that has one, else the config's.
pub fn repeat_rule(config: &Config, attrs: &CallAttrs) -> Option<RepeatRule> {
    let campaign = attrs
        .campaign()
        .and_then(|c| config.campaign_index(c))
        .and_then(|c| config.campaigns.get(c));
    campaign
        .and_then(|c| c.repeat_callers)
        .or(config.repeat_callers)
}

/// The caller side of one decision: who calls, what they did before, and
/// the repeat rule that applies. Built only when some rule can match.
#[derive(Clone, Copy, Debug)]
pub(crate) struct CallerView<'a> {
    pub(crate) config: &'a Config,
    pub(crate) caller: &'a str,
    pub(crate) visits: &'a [Visit],
    pub(crate) repeat: Option<RepeatRule>,
    pub(crate) at: Instant,
}

impl<'a> CallerView<'a> {
    /// The view of `attrs`' caller at `at`; `None` when no rule can match
    /// (unknown caller, no visits, or a config without caller rules).
    pub(crate) fn new(
        config: &'a Config,
        history: &'a CallerHistory,
        attrs: &'a CallAttrs,
        at: Instant,
    ) -> Option<Self> {
        let caller = attrs.caller()?;
        let visits = history.visits(caller);
        if visits.is_empty() || config.caller_window() == 0 {
            return None;
        }
        Some(CallerView {
            config,
            caller,
            visits,
            repeat: repeat_rule(config, attrs),
            at,
        })
    }

    /// Whether the caller's history names target `t`.
    pub(crate) fn knows(&self, t: usize) -> bool {
        self.visits.iter().any(|v| v.target == t)
    }

    /// For `original`: the target this caller last connected to within
    /// the window (the latest connect; ties go to the first recorded).
    pub(crate) fn original(&self) -> Option<usize> {
        let rule = self.repeat.filter(|r| r.mode == RepeatMode::Original)?;
        let mut best: Option<(Instant, usize)> = None;
        for v in self.visits {
            if let Some(c) = v.connected.filter(|&c| within(c, rule.window, self.at)) {
                if best.is_none_or(|(b, _)| c > b) {
                    best = Some((c, v.target));
                }
            }
        }
        best.map(|(_, t)| t)
    }
}
