//! Cap counters and the call lifecycle (SPEC §4, §7).
//!
//! A [`State`] belongs to one [`Config`]: every method takes that config and
//! the instant of the event, and the state never reads a clock.
//!
//! # Windows
//!
//! Each target and each group keeps, per [`Period`], one counter slot keyed
//! by the start of the window it belongs to (`window::window_start` in the
//! owner's zone). A slot whose key is not the start of the window containing
//! the instant asked about reads as 0 — nothing is swept, no timer runs.
//!
//! *Example* (target in `America/New_York`, daily cap 10): a call connected at
//! 2026-11-22T15:00Z (10:00 local) lands in the 22 Nov window
//! `[05:00Z, 23 Nov 05:00Z)`. At 2026-11-23T04:59Z the daily usage is 1; at
//! 05:00Z it reads 0 again, while the total (hard) counter still says 1.
//!
//! A count lands in the windows that contain the instant of the *counting
//! event*, not of the call's start. Only the latest window of each kind is
//! kept: an event at an instant whose window is older than the slot's (time
//! going backwards) still counts toward the totals but toward no periodic
//! window. The core accepts any instant; replay layers reject time going
//! backwards.
//!
//! # Triggers
//!
//! The target's [`Trigger`] decides which event counts a call toward count
//! caps; revenue sums are always added at conversion, in the windows of the
//! conversion instant.
//!
//! - `connect`: `connect` at 10:59 and `convert` at 11:02 → the hourly count
//!   of 10:00 gets the call, the revenue goes to 11:00.
//! - `convert`: counted at `convert`, whatever the revenue (even 0).
//! - `revenue`: counted at `convert` only when revenue > 0.
//!
//! Group caps count every call counted on any member, at the moment the
//! member's own trigger counts it, in the group's own zone.
//! With `convert`/`revenue` triggers a count cap can be exceeded: calls that
//! connected while the cap had room may convert after it was reached.
//! Eligibility stops new connects once it is reached.
//!
//! # Imported usage
//!
//! [`Usage`] from the config is the usage of the windows containing
//! `Config::as_of`. With no `as_of`, it is anchored to the instant of the
//! first accepted lifecycle event (connect, reserve, convert, end), or of an
//! explicit [`State::anchor`]; until then every check reads it as the usage of the
//! windows containing the instant checked (INTERFACE: "default: the decision
//! instant"). Imported hourly usage at 10:30 reads 0 at 11:05; daily still
//! counts. Imported live calls are never released: their end is never seen.
//!
//! # Reservations
//!
//! `reserve(call, target, ttl)` checks eligibility like `connect` and, when
//! eligible, holds one unit of concurrency and one unit of every count cap
//! (hourly, daily, monthly, total — whatever the trigger) on the target and
//! its groups, until confirmed by `connect` or until `at + ttl` (exclusive).
//! Checks see a reservation as released from its expiry instant on; the
//! record itself is dropped lazily by the next lifecycle event at or after
//! the expiry. Confirming releases the held unit and then connects
//! normally (re-check without its own hold, count at the connect instant's
//! windows); a refused confirmation keeps the reservation.
//!
//! # Errors
//!
//! Every lifecycle error and every refusal leaves the state unchanged (a
//! refusal neither anchors imported usage nor sweeps reservations). Call records are kept
//! after `end` and `convert` so that a repeated event is always an error,
//! never a double count.

use std::collections::{BTreeSet, HashMap};
use std::fmt;

use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::caps::{Period, Trigger, Usage};
use crate::eligibility::{self, Reason};
use crate::model::{CandidateRef, Config};
use crate::money::Money;
use crate::window::{window, window_start};
use crate::zone::{is_supported, Instant, Zone};

/// Slot key meaning "not anchored yet": matches whatever window is asked.
const ANY: i64 = i64::MIN;

fn period_index(p: Period) -> usize {
    match p {
        Period::Hour => 0,
        Period::Day => 1,
        Period::Month => 2,
    }
}

/// Count and revenue of one window.
#[derive(Clone, Copy, Debug)]
struct Slot {
    /// Window start (Unix seconds), or [`ANY`].
    start: i64,
    count: u64,
    revenue: Money,
    /// Window end when known, else `start`: a cache that spares computing
    /// the window again for every event in it (`start` alone identifies
    /// the window, so it is not part of the value).
    end: i64,
}

impl PartialEq for Slot {
    fn eq(&self, o: &Self) -> bool {
        (self.start, self.count, self.revenue) == (o.start, o.count, o.revenue)
    }
}
impl Eq for Slot {}

impl Slot {
    /// Whether Unix second `t` is known to lie in this slot's window.
    fn holds(&self, t: i64) -> bool {
        self.start <= t && t < self.end
    }
}

const EMPTY_SLOT: Slot = Slot {
    start: ANY,
    count: 0,
    revenue: Money::ZERO,
    end: ANY,
};

/// `(start, end)` in Unix seconds of the window of `p` containing `at`.
fn window_secs(zone: &Zone, p: Period, at: Instant) -> (i64, i64) {
    let w = window(zone, p, at);
    (w.start.timestamp(), w.end.timestamp())
}

/// The counters of one owner (target or group).
#[derive(Clone, Debug)]
pub(crate) struct Counters {
    slots: [Slot; 3],
    total: u64,
    total_revenue: Money,
    /// Connected, not ended calls (plus imported live calls).
    live: u64,
    /// Unconfirmed reservations, expired ones included until swept.
    held: u64,
    /// Changes whenever the counters do (see [`fresh_stamp`]); not part of
    /// the value, so it is left out of equality.
    stamp: u64,
}

impl PartialEq for Counters {
    fn eq(&self, o: &Self) -> bool {
        (
            self.slots,
            self.total,
            self.total_revenue,
            self.live,
            self.held,
        ) == (o.slots, o.total, o.total_revenue, o.live, o.held)
    }
}
impl Eq for Counters {}

/// A stamp never handed out before in this process (0 is never handed out).
///
/// Every change of a [`Counters`] gives it a fresh stamp, so "same stamp"
/// means "same counters", even across clones of a [`State`]: an
/// [`eligibility::Checker`] uses it to keep a target's report between
/// decisions. A process-wide counter rather than a per-state one, because
/// two clones of one state must never hand out the same stamp for different
/// changes. It only keys caches, it never changes an answer.
fn fresh_stamp() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

static NO_COUNTERS: Counters = Counters {
    slots: [EMPTY_SLOT; 3],
    total: 0,
    total_revenue: Money::ZERO,
    live: 0,
    held: 0,
    stamp: 0,
};

impl Counters {
    fn from_usage(u: &Usage, zone: &Zone, anchor: Option<Instant>) -> Self {
        let bounds = |p| anchor.map_or((ANY, ANY), |a| window_secs(zone, p, a));
        let slot = |p, count, revenue| {
            let (start, end) = bounds(p);
            Slot {
                start,
                count,
                revenue,
                end,
            }
        };
        Counters {
            slots: [
                slot(Period::Hour, u.hourly, u.hourly_revenue),
                slot(Period::Day, u.daily, u.daily_revenue),
                slot(Period::Month, u.monthly, u.monthly_revenue),
            ],
            total: u.total,
            total_revenue: u.total_revenue,
            live: u.live,
            held: 0,
            stamp: fresh_stamp(),
        }
    }

    /// Record that the counters changed.
    fn touch(&mut self) {
        self.stamp = fresh_stamp();
    }

    /// The stamp of these counters when no reservation (live or expired)
    /// is held on them, `None` otherwise: held units lapse with time, at
    /// expiry instants the stamp does not see.
    pub(crate) fn stable_stamp(&self) -> Option<u64> {
        (self.held == 0 && self.stamp != 0).then_some(self.stamp)
    }

    /// `(start, end)` of the window of `Period::ALL[i]` containing Unix
    /// second `t`, if this owner's slot already knows it.
    pub(crate) fn known_window(&self, i: usize, t: i64) -> Option<(i64, i64)> {
        self.slots
            .get(i)
            .filter(|s| s.start != ANY && s.holds(t))
            .map(|s| (s.start, s.end))
    }

    fn slot_in(&self, p: Period, window_start: i64) -> Option<&Slot> {
        let s = &self.slots[period_index(p)];
        (s.start == window_start || s.start == ANY).then_some(s)
    }

    /// Calls counted in the window of `p` starting at `window_start`.
    pub(crate) fn count_in(&self, p: Period, window_start: i64) -> u64 {
        self.slot_in(p, window_start).map_or(0, |s| s.count)
    }

    /// Revenue in the window of `p` starting at `window_start`.
    pub(crate) fn revenue_in(&self, p: Period, window_start: i64) -> Money {
        self.slot_in(p, window_start)
            .map_or(Money::ZERO, |s| s.revenue)
    }

    pub(crate) fn total(&self) -> u64 {
        self.total
    }

    pub(crate) fn total_revenue(&self) -> Money {
        self.total_revenue
    }

    pub(crate) fn live(&self) -> u64 {
        self.live
    }

    fn anchor(&mut self, zone: &Zone, at: Instant) {
        self.touch();
        for p in Period::ALL {
            let s = &mut self.slots[period_index(p)];
            if s.start == ANY {
                (s.start, s.end) = window_secs(zone, p, at);
            }
        }
    }

    fn add(&mut self, zone: &Zone, at: Instant, count: u64, revenue: Money) {
        self.touch();
        let t = at.timestamp();
        for p in Period::ALL {
            let s = &mut self.slots[period_index(p)];
            let (start, end) = if s.holds(t) {
                (s.start, s.end)
            } else {
                window_secs(zone, p, at)
            };
            if s.start == start {
                s.count = s.count.saturating_add(count);
                s.revenue = s.revenue.saturating_add(revenue);
                s.end = end;
            } else if s.start < start {
                *s = Slot {
                    start,
                    count,
                    revenue,
                    end,
                };
            } // else: an older window, no longer tracked
        }
        self.total = self.total.saturating_add(count);
        self.total_revenue = self.total_revenue.saturating_add(revenue);
    }
}

/// Where a call stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallPhase {
    /// Holding capacity on its target until `expires` (exclusive).
    Reserved {
        /// When the reservation was made.
        at: Instant,
        /// First instant at which the reservation no longer holds.
        expires: Instant,
    },
    /// Connected to its target.
    Connected {
        /// The connect instant.
        at: Instant,
    },
}

/// A conversion: when and for how much.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Conversion {
    /// The conversion instant.
    pub at: Instant,
    /// Revenue (non-negative).
    pub revenue: Money,
}

/// What the state remembers about one call id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallRecord {
    /// Index into `Config::targets`.
    pub target: usize,
    /// Reserved or connected.
    pub phase: CallPhase,
    /// When the call ended, once it has.
    pub ended_at: Option<Instant>,
    /// The conversion, once there is one.
    pub converted: Option<Conversion>,
    /// Whether the call was counted toward count caps (per its trigger).
    pub counted: bool,
}

/// The answer to `connect` / `reserve`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConnectOutcome {
    /// Accepted (and counted if the trigger is `connect`).
    Connected,
    /// Not eligible; nothing changed. Every reason, as in a check.
    Refused(Vec<Reason>),
}

/// Why a lifecycle event was rejected. The state is unchanged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LifecycleError {
    /// A target index outside the config.
    UnknownTarget(usize),
    /// A group index outside the config.
    UnknownGroup(usize),
    /// An instant outside 1970..2100.
    UnsupportedInstant(Instant),
    /// `connect` of a call that already connected.
    AlreadyConnected(String),
    /// `reserve` of a call id already reserved or connected.
    AlreadyExists(String),
    /// `connect` to another target than the call's live reservation.
    ReservedForOtherTarget {
        /// The call.
        call: String,
        /// Id of the target holding the reservation.
        reserved: String,
    },
    /// `convert` / `end` of a call that never connected.
    NotConnected(String),
    /// A second `end`.
    AlreadyEnded(String),
    /// A second `convert`.
    AlreadyConverted(String),
    /// `convert` with revenue below zero.
    NegativeRevenue(Money),
    /// A zero TTL, or one whose expiry is past 2100.
    InvalidTtl(u64),
}

impl fmt::Display for LifecycleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use LifecycleError::*;
        match self {
            UnknownTarget(i) => write!(f, "no target #{i} in the config"),
            UnknownGroup(i) => write!(f, "no group #{i} in the config"),
            UnsupportedInstant(t) => write!(
                f,
                "instant {} is outside the supported range 1970-01-01..2100-01-01",
                fmt_instant(*t)
            ),
            AlreadyConnected(c) => write!(f, "call {c:?} is already connected"),
            AlreadyExists(c) => write!(f, "call {c:?} is already reserved or connected"),
            ReservedForOtherTarget { call, reserved } => write!(
                f,
                "call {call:?} holds a reservation on target {reserved:?}; connect it there"
            ),
            NotConnected(c) => write!(f, "call {c:?} never connected"),
            AlreadyEnded(c) => write!(f, "call {c:?} already ended"),
            AlreadyConverted(c) => write!(f, "call {c:?} already converted"),
            NegativeRevenue(m) => write!(f, "revenue {m} is negative"),
            InvalidTtl(s) => write!(
                f,
                "reservation ttl of {s} s is invalid (must be > 0 and expire before 2100)"
            ),
        }
    }
}

impl std::error::Error for LifecycleError {}

/// Counters and calls of one config. See the module docs for the rules.
#[derive(Clone, Debug)]
pub struct State {
    targets: Vec<Counters>,
    /// `Counters::stable_stamp` of each target (0 = none), kept dense so
    /// that a checker can see which targets changed without reading every
    /// target's counters. Not part of the value.
    stable: Vec<u64>,
    groups: Vec<Counters>,
    /// Containing groups of each target (derived from the config).
    target_groups: Vec<Vec<usize>>,
    calls: HashMap<String, CallRecord>,
    /// Unconfirmed reservations by expiry.
    reservations: BTreeSet<(Instant, String)>,
    /// Some slot is not anchored yet.
    pending: bool,
}

impl PartialEq for State {
    fn eq(&self, o: &Self) -> bool {
        self.targets == o.targets
            && self.groups == o.groups
            && self.target_groups == o.target_groups
            && self.calls == o.calls
            && self.reservations == o.reservations
            && self.pending == o.pending
    }
}
impl Eq for State {}

fn check_instant(at: Instant) -> Result<(), LifecycleError> {
    if is_supported(at) {
        Ok(())
    } else {
        Err(LifecycleError::UnsupportedInstant(at))
    }
}

impl State {
    /// A fresh state with the config's imported usage: anchored at
    /// `config.as_of`, or pending until the first lifecycle event when the
    /// config has none.
    pub fn new(config: &Config) -> State {
        let targets = config
            .targets
            .iter()
            .map(|t| Counters::from_usage(&t.usage, &t.zone, config.as_of))
            .collect();
        let groups = config
            .groups
            .iter()
            .map(|g| Counters::from_usage(&g.usage, &g.zone, config.as_of))
            .collect();
        let mut state = State {
            targets,
            stable: Vec::new(),
            groups,
            target_groups: (0..config.targets.len())
                .map(|t| config.groups_of(t).collect())
                .collect(),
            calls: HashMap::new(),
            reservations: BTreeSet::new(),
            pending: config.as_of.is_none(),
        };
        state.sync_stable_all();
        state
    }

    /// Recompute `stable` for every target.
    fn sync_stable_all(&mut self) {
        self.stable.clear();
        self.stable
            .extend(self.targets.iter().map(|c| c.stable_stamp().unwrap_or(0)));
    }

    /// Change target `t`'s counters with `f`, keeping `stable` in step.
    fn with_target(&mut self, t: usize, f: impl FnOnce(&mut Counters)) {
        if let (Some(c), Some(s)) = (self.targets.get_mut(t), self.stable.get_mut(t)) {
            f(c);
            *s = c.stable_stamp().unwrap_or(0);
        }
    }

    /// [`State::new`], then [`State::anchor`] at `at`: the imported usage
    /// belongs to `config.as_of` if set, else to `at`.
    pub fn new_at(config: &Config, at: Instant) -> State {
        let mut s = State::new(config);
        s.anchor(config, at);
        s
    }

    /// Anchor imported usage not anchored yet to the windows containing
    /// `at`. Lifecycle events do this themselves; a no-op once anchored.
    pub fn anchor(&mut self, config: &Config, at: Instant) {
        if !self.pending {
            return;
        }
        for (c, t) in self.targets.iter_mut().zip(&config.targets) {
            c.anchor(&t.zone, at);
        }
        self.sync_stable_all();
        for (c, g) in self.groups.iter_mut().zip(&config.groups) {
            c.anchor(&g.zone, at);
        }
        self.pending = false;
    }

    /// The record of a call id (a reservation past its expiry may still be
    /// listed until the next lifecycle event).
    pub fn call(&self, id: &str) -> Option<&CallRecord> {
        self.calls.get(id)
    }

    /// Number of call records (reserved, connected, ended).
    pub fn call_count(&self) -> usize {
        self.calls.len()
    }

    /// The counters of an owner and how many live reservations it holds at
    /// `at` (expired but unswept ones excluded). Unknown owners read as empty.
    pub(crate) fn counters(&self, owner: CandidateRef, at: Instant) -> (&Counters, u64) {
        let c = match owner {
            CandidateRef::Target(t) => self.targets.get(t),
            CandidateRef::Group(g) => self.groups.get(g),
        }
        .unwrap_or(&NO_COUNTERS);
        (c, c.held.saturating_sub(self.expired_holds(owner, at)))
    }

    /// Stamp of target `t`'s counters when it holds no reservation (see
    /// `Counters::stable_stamp`): while it is unchanged, so are its counters.
    pub(crate) fn stable_stamp(&self, t: usize) -> Option<u64> {
        self.stable.get(t).copied().filter(|&s| s != 0)
    }

    /// Containing groups of target `t`.
    pub(crate) fn groups_of(&self, t: usize) -> &[usize] {
        self.target_groups.get(t).map_or(&[], |v| v.as_slice())
    }

    /// Usage of an owner as caps see it at `at`: counts include the units
    /// held by live reservations, `live` includes them too. Periodic values
    /// are those of the windows containing `at`.
    pub fn usage(&self, config: &Config, owner: CandidateRef, at: Instant) -> Usage {
        let zone = match owner {
            CandidateRef::Target(t) => config.targets.get(t).map(|t| &t.zone),
            CandidateRef::Group(g) => config.groups.get(g).map(|g| &g.zone),
        };
        let (c, held) = self.counters(owner, at);
        let Some(zone) = zone else {
            return Usage::default();
        };
        let ws = |p| window_start(zone, p, at);
        let (h, d, m) = (ws(Period::Hour), ws(Period::Day), ws(Period::Month));
        Usage {
            hourly: c.count_in(Period::Hour, h) + held,
            daily: c.count_in(Period::Day, d) + held,
            monthly: c.count_in(Period::Month, m) + held,
            total: c.total + held,
            live: c.live + held,
            hourly_revenue: c.revenue_in(Period::Hour, h),
            daily_revenue: c.revenue_in(Period::Day, d),
            monthly_revenue: c.revenue_in(Period::Month, m),
            total_revenue: c.total_revenue,
        }
    }

    /// Reservations of `owner` that have expired at `at` but are not swept yet.
    fn expired_holds(&self, owner: CandidateRef, at: Instant) -> u64 {
        // the common case, checked first: nothing has expired yet
        if self
            .reservations
            .first()
            .is_none_or(|(expires, _)| *expires > at)
        {
            return 0;
        }
        let mut n = 0;
        for (expires, id) in &self.reservations {
            if *expires > at {
                break;
            }
            let Some(rec) = self.calls.get(id) else {
                continue;
            };
            let hit = match owner {
                CandidateRef::Target(t) => rec.target == t,
                CandidateRef::Group(g) => self.groups_of(rec.target).contains(&g),
            };
            n += u64::from(hit);
        }
        n
    }

    /// The record of `call` unless it is a reservation expired at `at`.
    fn live_record(&self, call: &str, at: Instant) -> Option<&CallRecord> {
        self.calls.get(call).filter(|r| match r.phase {
            CallPhase::Reserved { expires, .. } => expires > at,
            CallPhase::Connected { .. } => true,
        })
    }

    fn check_target(&self, config: &Config, t: usize) -> Result<(), LifecycleError> {
        if t < config.targets.len() && t < self.targets.len() {
            Ok(())
        } else {
            Err(LifecycleError::UnknownTarget(t))
        }
    }

    /// Drop reservations expired at `at`, releasing what they held.
    fn expire(&mut self, at: Instant) {
        while let Some((expires, _)) = self.reservations.first() {
            if *expires > at {
                break;
            }
            let Some((_, id)) = self.reservations.pop_first() else {
                break;
            };
            if let Some(rec) = self.calls.get(&id) {
                if matches!(rec.phase, CallPhase::Reserved { .. }) {
                    let t = rec.target;
                    self.calls.remove(&id);
                    self.change_held(t, false);
                }
            }
        }
    }

    /// Take (`true`) or release one held unit on target `t` and its groups.
    fn change_held(&mut self, t: usize, take: bool) {
        let step = |c: &mut Counters| {
            c.touch();
            c.held = if take {
                c.held.saturating_add(1)
            } else {
                c.held.saturating_sub(1)
            }
        };
        self.with_target(t, step);
        for &g in self.target_groups.get(t).map_or(&[][..], |v| v) {
            if let Some(c) = self.groups.get_mut(g) {
                step(c);
            }
        }
    }

    /// One more (`true`) or one fewer live call on target `t` and its groups.
    fn change_live(&mut self, t: usize, up: bool) {
        let step = |c: &mut Counters| {
            c.touch();
            c.live = if up {
                c.live.saturating_add(1)
            } else {
                c.live.saturating_sub(1)
            }
        };
        self.with_target(t, step);
        for &g in self.target_groups.get(t).map_or(&[][..], |v| v) {
            if let Some(c) = self.groups.get_mut(g) {
                step(c);
            }
        }
    }

    /// Add `count` calls and `revenue` at `at` to target `t` and its groups.
    fn add(&mut self, config: &Config, t: usize, at: Instant, count: u64, revenue: Money) {
        if let Some(target) = config.targets.get(t) {
            self.with_target(t, |c| c.add(&target.zone, at, count, revenue));
        }
        for &g in self.target_groups.get(t).map_or(&[][..], |v| v) {
            if let (Some(c), Some(group)) = (self.groups.get_mut(g), config.groups.get(g)) {
                c.add(&group.zone, at, count, revenue);
            }
        }
    }

    /// Eligibility re-check of target `t` and the reasons it is refused.
    fn refusal(&self, config: &Config, t: usize, at: Instant) -> Vec<Reason> {
        let mut reasons = Vec::new();
        eligibility::target_reasons(config, self, t, at, &mut reasons);
        reasons
    }

    /// Connect `call` to target `t` at `at`: re-check eligibility (its
    /// groups included) and, if eligible, make it live and count it when
    /// the trigger is `connect`. Confirms a live reservation of `call` on
    /// `t` (no double count).
    pub fn connect(
        &mut self,
        config: &Config,
        call: &str,
        t: usize,
        at: Instant,
    ) -> Result<ConnectOutcome, LifecycleError> {
        self.check_target(config, t)?;
        check_instant(at)?;
        let confirming = match self.live_record(call, at) {
            None => false,
            Some(rec) => match rec.phase {
                CallPhase::Connected { .. } => {
                    return Err(LifecycleError::AlreadyConnected(call.to_string()))
                }
                CallPhase::Reserved { .. } if rec.target == t => true,
                CallPhase::Reserved { .. } => {
                    return Err(LifecycleError::ReservedForOtherTarget {
                        call: call.to_string(),
                        reserved: config
                            .targets
                            .get(rec.target)
                            .map_or_else(|| rec.target.to_string(), |t| t.id.clone()),
                    })
                }
            },
        };
        // checks read expired holds and pending imports correctly, so a
        // refusal needs no sweep and no anchoring: it changes nothing
        if confirming {
            self.change_held(t, false);
        }
        let reasons = self.refusal(config, t, at);
        if !reasons.is_empty() {
            if confirming {
                self.change_held(t, true);
            }
            return Ok(ConnectOutcome::Refused(reasons));
        }
        self.expire(at);
        self.anchor(config, at);
        if confirming {
            if let Some(CallRecord {
                phase: CallPhase::Reserved { expires, .. },
                ..
            }) = self.calls.get(call)
            {
                self.reservations.remove(&(*expires, call.to_string()));
            }
        }
        self.change_live(t, true);
        let counted = config.targets[t].trigger == Trigger::Connect;
        if counted {
            self.add(config, t, at, 1, Money::ZERO);
        }
        self.calls.insert(
            call.to_string(),
            CallRecord {
                target: t,
                phase: CallPhase::Connected { at },
                ended_at: None,
                converted: None,
                counted,
            },
        );
        Ok(ConnectOutcome::Connected)
    }

    /// Reserve target `t` for `call` for `ttl_secs` seconds from `at`:
    /// eligibility check as `connect`; if eligible, hold one unit of
    /// concurrency and of every count cap on `t` and its groups.
    pub fn reserve(
        &mut self,
        config: &Config,
        call: &str,
        t: usize,
        ttl_secs: u64,
        at: Instant,
    ) -> Result<ConnectOutcome, LifecycleError> {
        self.check_target(config, t)?;
        check_instant(at)?;
        let expires = i64::try_from(ttl_secs)
            .ok()
            .filter(|&s| s > 0)
            .and_then(TimeDelta::try_seconds)
            .and_then(|d| at.checked_add_signed(d))
            .filter(|&e| is_supported(e))
            .ok_or(LifecycleError::InvalidTtl(ttl_secs))?;
        if self.live_record(call, at).is_some() {
            return Err(LifecycleError::AlreadyExists(call.to_string()));
        }
        let reasons = self.refusal(config, t, at);
        if !reasons.is_empty() {
            return Ok(ConnectOutcome::Refused(reasons));
        }
        self.expire(at);
        self.anchor(config, at);
        self.change_held(t, true);
        self.reservations.insert((expires, call.to_string()));
        self.calls.insert(
            call.to_string(),
            CallRecord {
                target: t,
                phase: CallPhase::Reserved { at, expires },
                ended_at: None,
                converted: None,
                counted: false,
            },
        );
        Ok(ConnectOutcome::Connected)
    }

    /// The connected record of `call`, or why there is none.
    fn connected(&self, call: &str, at: Instant) -> Result<&CallRecord, LifecycleError> {
        match self.live_record(call, at) {
            Some(rec) if matches!(rec.phase, CallPhase::Connected { .. }) => Ok(rec),
            _ => Err(LifecycleError::NotConnected(call.to_string())),
        }
    }

    /// Convert `call` with `revenue` at `at` (once, any time after connect,
    /// before or after end): revenue goes to the windows containing `at` of
    /// the target and its groups; counts the call if the trigger is
    /// `convert`, or `revenue` with revenue > 0.
    pub fn convert(
        &mut self,
        config: &Config,
        call: &str,
        revenue: Money,
        at: Instant,
    ) -> Result<(), LifecycleError> {
        check_instant(at)?;
        if revenue < Money::ZERO {
            return Err(LifecycleError::NegativeRevenue(revenue));
        }
        let rec = self.connected(call, at)?;
        if rec.converted.is_some() {
            return Err(LifecycleError::AlreadyConverted(call.to_string()));
        }
        let t = rec.target;
        self.check_target(config, t)?;
        let counts = match config.targets[t].trigger {
            Trigger::Connect => false,
            Trigger::Convert => true,
            Trigger::Revenue => revenue > Money::ZERO,
        };
        self.expire(at);
        self.anchor(config, at);
        self.add(config, t, at, u64::from(counts), revenue);
        if let Some(rec) = self.calls.get_mut(call) {
            rec.converted = Some(Conversion { at, revenue });
            rec.counted |= counts;
        }
        Ok(())
    }

    /// End `call` at `at` (once): releases its concurrency on the target
    /// and its groups.
    pub fn end(&mut self, config: &Config, call: &str, at: Instant) -> Result<(), LifecycleError> {
        check_instant(at)?;
        let rec = self.connected(call, at)?;
        if rec.ended_at.is_some() {
            return Err(LifecycleError::AlreadyEnded(call.to_string()));
        }
        let t = rec.target;
        self.expire(at);
        self.anchor(config, at);
        self.change_live(t, false);
        if let Some(rec) = self.calls.get_mut(call) {
            rec.ended_at = Some(at);
        }
        Ok(())
    }

    /// Reset the total (hard) count and total revenue of target `t`.
    pub fn reset_target(&mut self, config: &Config, t: usize) -> Result<(), LifecycleError> {
        self.check_target(config, t)?;
        self.with_target(t, |c| {
            c.touch();
            c.total = 0;
            c.total_revenue = Money::ZERO;
        });
        Ok(())
    }

    /// Reset the total counters of group `g` and of all its members.
    pub fn reset_group(&mut self, config: &Config, g: usize) -> Result<(), LifecycleError> {
        let (Some(group), true) = (config.groups.get(g), g < self.groups.len()) else {
            return Err(LifecycleError::UnknownGroup(g));
        };
        let reset = |c: &mut Counters| {
            c.touch();
            c.total = 0;
            c.total_revenue = Money::ZERO;
        };
        if let Some(c) = self.groups.get_mut(g) {
            reset(c);
        }
        for &m in &group.members {
            self.with_target(m, reset);
        }
        Ok(())
    }
}

// ---------------------------------------------------------------- snapshots

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
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnapshotError(pub String);

impl fmt::Display for SnapshotError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid snapshot: {}", self.0)
    }
}

impl std::error::Error for SnapshotError {}

fn fmt_instant(t: Instant) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

fn parse_instant(s: &str, what: &str) -> Result<Instant, SnapshotError> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| SnapshotError(format!("{what}: {s:?} is not an RFC 3339 instant ({e})")))
}

fn parse_money(s: &str, what: &str) -> Result<Money, SnapshotError> {
    Money::parse(s).map_err(|e| SnapshotError(format!("{what}: {s:?} {e}")))
}

fn slot_snapshot(s: &Slot) -> SlotSnapshot {
    SlotSnapshot {
        start: (s.start != ANY)
            .then(|| DateTime::from_timestamp(s.start, 0).map(fmt_instant))
            .flatten(),
        count: s.count,
        revenue: s.revenue.to_string(),
    }
}

fn owner_snapshot(id: &str, c: &Counters) -> OwnerSnapshot {
    OwnerSnapshot {
        id: id.to_string(),
        hour: slot_snapshot(&c.slots[0]),
        day: slot_snapshot(&c.slots[1]),
        month: slot_snapshot(&c.slots[2]),
        total: c.total,
        total_revenue: c.total_revenue.to_string(),
        live: c.live,
    }
}

fn restore_slot(s: &SlotSnapshot, what: &str) -> Result<Slot, SnapshotError> {
    Ok(Slot {
        start: match &s.start {
            None => ANY,
            Some(t) => parse_instant(t, what)?.timestamp(),
        },
        count: s.count,
        revenue: parse_money(&s.revenue, what)?,
        end: ANY,
    })
}

fn restore_owner(o: &OwnerSnapshot) -> Result<Counters, SnapshotError> {
    let what = |k: &str| format!("{} {k}", o.id);
    Ok(Counters {
        slots: [
            restore_slot(&o.hour, &what("hour"))?,
            restore_slot(&o.day, &what("day"))?,
            restore_slot(&o.month, &what("month"))?,
        ],
        total: o.total,
        total_revenue: parse_money(&o.total_revenue, &what("total_revenue"))?,
        live: o.live,
        held: 0,
        stamp: fresh_stamp(),
    })
}

impl State {
    /// A serialisable copy (calls sorted by id).
    pub fn snapshot(&self, config: &Config) -> Snapshot {
        let mut calls: Vec<CallSnapshot> = self
            .calls
            .iter()
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
        Snapshot {
            version: 1,
            targets: config
                .targets
                .iter()
                .zip(&self.targets)
                .map(|(t, c)| owner_snapshot(&t.id, c))
                .collect(),
            groups: config
                .groups
                .iter()
                .zip(&self.groups)
                .map(|(g, c)| owner_snapshot(&g.id, c))
                .collect(),
            calls,
        }
    }

    /// Rebuild a state from a snapshot taken with the same config (or one
    /// with the same ids). Owners missing from the snapshot start from the
    /// config's imported usage; unknown ids are an error.
    pub fn restore(config: &Config, snap: &Snapshot) -> Result<State, SnapshotError> {
        if snap.version != 1 {
            return Err(SnapshotError(format!(
                "version {} is not supported (expected 1)",
                snap.version
            )));
        }
        let mut state = State::new(config);
        let mut seen = BTreeSet::new();
        for o in &snap.targets {
            let i = config
                .target_index(&o.id)
                .ok_or_else(|| SnapshotError(format!("unknown target {:?}", o.id)))?;
            if !seen.insert(("t", i)) {
                return Err(SnapshotError(format!("target {:?} listed twice", o.id)));
            }
            state.targets[i] = restore_owner(o)?;
        }
        for o in &snap.groups {
            let i = config
                .group_index(&o.id)
                .ok_or_else(|| SnapshotError(format!("unknown group {:?}", o.id)))?;
            if !seen.insert(("g", i)) {
                return Err(SnapshotError(format!("group {:?} listed twice", o.id)));
            }
            state.groups[i] = restore_owner(o)?;
        }
        for c in &snap.calls {
            let what = |k: &str| format!("call {:?} {k}", c.call);
            let target = config
                .target_index(&c.target)
                .ok_or_else(|| SnapshotError(format!("{}: unknown target", what("target"))))?;
            let at = parse_instant(&c.at, &what("at"))?;
            let opt = |v: &Option<String>, k: &str| {
                v.as_deref().map(|s| parse_instant(s, &what(k))).transpose()
            };
            let phase = match (c.phase.as_str(), opt(&c.expires, "expires")?) {
                ("reserved", Some(expires)) => CallPhase::Reserved { at, expires },
                ("connected", None) => CallPhase::Connected { at },
                _ => {
                    return Err(SnapshotError(format!(
                        "{}: {:?} with expires {:?} is not a valid phase",
                        what("phase"),
                        c.phase,
                        c.expires
                    )))
                }
            };
            let converted = match (opt(&c.converted_at, "converted_at")?, &c.revenue) {
                (None, None) => None,
                (Some(at), Some(r)) => Some(Conversion {
                    at,
                    revenue: parse_money(r, &what("revenue"))?,
                }),
                _ => {
                    return Err(SnapshotError(format!(
                        "{}: converted_at and revenue go together",
                        what("converted_at")
                    )))
                }
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
                    return Err(SnapshotError(format!(
                        "{}: a reservation cannot be ended, converted or counted",
                        what("phase")
                    )));
                }
                state.reservations.insert((expires, c.call.clone()));
                state.change_held(target, true);
            }
            if state.calls.insert(c.call.clone(), rec).is_some() {
                return Err(SnapshotError(format!("call {:?} listed twice", c.call)));
            }
        }
        state.sync_stable_all();
        state.pending = state
            .targets
            .iter()
            .chain(&state.groups)
            .any(|c| c.slots.iter().any(|s| s.start == ANY));
        Ok(state)
    }
}
