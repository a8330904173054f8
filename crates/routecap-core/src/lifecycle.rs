//! The call lifecycle: connect, reserve, convert, end and resets, each
//! checked against eligibility before it counts.
//!
//! A [`State`] belongs to one [`Config`]: every method takes that config and
//! the instant of the event, and the state never reads a clock. It is the
//! only module that needs both the counters ([`crate::counters`], how usage
//! is kept per window) and [`crate::eligibility`] (whether a call may go):
//! each change re-checks first and commits only when the check passes, so
//! nothing is ever overbooked.
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
//! With no `Config::as_of`, imported usage is anchored to the instant of the
//! first accepted lifecycle event (connect, reserve, convert, end, touch,
//! cancel), or of an explicit [`State::anchor`]; until then every check
//! reads it as the usage of the windows containing the instant checked.
//! Imported hourly usage at 10:30 reads 0 at 11:05; daily still counts.
//! Imported live calls hold concurrency for `call_lease_seconds` after
//! `as_of` (or after the anchor instant), then are released: their end is
//! never seen ([`State::import_live`] replaces them). The core accepts any
//! instant; replay layers reject time going backwards.
//!
//! # Leases
//!
//! A connected call holds concurrency until its `end`, or until its lease
//! runs out: `call_lease_seconds` after the connect, renewed to
//! `touch instant + call_lease_seconds` by each [`State::touch`] (a touch
//! never shortens a lease). The lease holds on `[connect, until)`: checks
//! at `until` and later see the slot free, even before the next lifecycle
//! event sweeps it. An `end` at or after `until` is accepted and releases
//! nothing more (it is recorded, so a second `end` is still an error); a
//! `touch` at or after `until` is [`LifecycleError::LeaseExpired`]. A call
//! whose lease ran out may still convert.
//!
//! *Example* (lease 14400 s): connect at 10:00 → the slot is taken until
//! 14:00 exclusive; a touch at 13:00 moves that to 17:00; with no end, a
//! check at 16:59:59 still counts the call and one at 17:00 does not.
//!
//! # Forgetting settled calls
//!
//! A call *settles* when it ends, or when its lease runs out if that comes
//! first. It is forgotten `call_retention_seconds` after that instant
//! (exclusive: an event at exactly settle + retention finds nothing); until
//! then it may still convert, and a repeated `end` or `convert` is an
//! error. After that, any event for its id is [`LifecycleError::UnknownCall`]
//! and changes nothing, and a `connect` with the same id is a new call.
//!
//! Nothing runs in the background: each accepted lifecycle event first
//! sweeps what has run out by its instant — expired reservations, lapsed
//! leases, calls past retention — from time-ordered queues, so each call is
//! swept once (amortised O(1) per event for forgetting, O(log live calls)
//! for the lease index). Checks never sweep: they read lapsed leases and
//! expired reservations as released at their instant, and every event
//! treats a call past retention as forgotten even before it is swept. So
//! the state holds the reserved and live calls plus the calls settled
//! within the last `call_retention_seconds` (up to the last event).
//!
//! # Callers
//!
//! A `connect` with a known caller is recorded in the caller history
//! ([`crate::caller_history`]) when some rule of the config reads it, and its
//! call keeps the caller so that a later `convert` is recorded as that
//! caller's conversion. The re-check of a `connect` applies the target's
//! `duplicates` and the call's `repeat_callers: different`. The history is
//! swept with the other queues.
//!
//! # Reservations
//!
//! `reserve(call, target, ttl)` checks eligibility like `connect` and, when
//! eligible, holds one unit of concurrency and one unit of every count cap
//! (hourly, daily, monthly, total — whatever the trigger) on the target and
//! its groups, until confirmed by `connect`, cancelled by [`State::cancel`]
//! (capacity freed at once) or until `at + ttl` (exclusive). Checks see a
//! reservation as released from its expiry instant on; the record itself
//! is dropped lazily by the next lifecycle event at or after the expiry.
//! An expired reservation is as if it never existed: a `connect` is a
//! fresh connect, `cancel` is [`LifecycleError::UnknownCall`]. Confirming
//! releases the held unit and then connects normally (re-check without its
//! own hold, count at the connect instant's windows); a refused
//! confirmation keeps the reservation.
//!
//! # Errors
//!
//! Every lifecycle error and every refusal leaves the state unchanged (a
//! refusal neither anchors imported usage nor sweeps). Call records are
//! kept after `end` and `convert` (until forgotten) so that a repeated
//! event is always an error, never a double count. By event:
//!
//! | event | no record (never seen, forgotten, expired reservation) | reserved | connected, live | lease ran out | ended |
//! |---|---|---|---|---|---|
//! | `connect` | connects | confirms (same target) | `AlreadyConnected` | `AlreadyConnected` | `AlreadyConnected` |
//! | `convert` | `UnknownCall` | `NotConnected` | ok | ok | ok |
//! | `end` | `UnknownCall` | `NotConnected` | ok, releases | ok, releases nothing | `AlreadyEnded` |
//! | `touch` | `UnknownCall` | `NotConnected` | ok, renews | `LeaseExpired` | `AlreadyEnded` |
//! | `cancel` | `UnknownCall` | ok, frees at once | `NotReserved` | `NotReserved` | `NotReserved` |
//!
//! (`convert` of an already converted call is `AlreadyConverted`.)

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use chrono::TimeDelta;

use crate::caller_history::CallerHistory;
use crate::caps::{Trigger, Usage};
use crate::counters::{after, Ledger};
use crate::eligibility::{self, Reason};
use crate::filter::CallAttrs;
use crate::model::{CandidateRef, Config};
use crate::money::Money;
use crate::zone::{fmt_instant, is_supported, Instant};

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
    /// Connected calls: the first instant at which the lease no longer
    /// holds (connect + lease, renewed by touches); frozen at `end`.
    /// `None` for reservations.
    pub lease_until: Option<Instant>,
    /// The lease ran out before any `end` and the state has released the
    /// call's concurrency (set when the lapse is swept).
    pub lapsed: bool,
    /// The caller's number when known (connected calls), so that its
    /// conversion lands in the caller history.
    pub caller: Option<Arc<str>>,
}

impl CallRecord {
    /// When the call settled, as far as the state has swept: its end if
    /// that came before the lease ran out, else the lease expiry once
    /// lapsed. `None` for reservations and live calls.
    pub fn settled_at(&self) -> Option<Instant> {
        let lease = self.lease_until?;
        // a lapsed lease settled the call when it was swept, whatever `end`
        // came later (even one stamped earlier, time going backwards)
        if self.lapsed {
            return Some(lease);
        }
        self.ended_at.map(|e| e.min(lease))
    }

    /// When the call settled as seen at `at`: as [`CallRecord::settled_at`],
    /// counting a lease run out at `at` (swept or not).
    pub fn settled_by(&self, at: Instant) -> Option<Instant> {
        self.settled_at()
            .or_else(|| self.lease_until.filter(|&u| u <= at))
    }

    /// Whether the call holds concurrency at `at` as a connected call:
    /// connected, not ended, lease not run out.
    pub fn is_live_at(&self, at: Instant) -> bool {
        matches!(self.phase, CallPhase::Connected { .. })
            && self.ended_at.is_none()
            && self.lease_until.is_some_and(|u| at < u)
    }
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
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LifecycleError {
    /// A target index outside the config.
    #[error("no target #{0} in the config")]
    UnknownTarget(usize),
    /// A group index outside the config.
    #[error("no group #{0} in the config")]
    UnknownGroup(usize),
    /// An instant outside 1970..2100.
    #[error(
        "instant {} is outside the supported range 1970-01-01..2100-01-01",
        fmt_instant(*.0)
    )]
    UnsupportedInstant(Instant),
    /// `connect` of a call that already connected.
    #[error("call {0:?} is already connected")]
    AlreadyConnected(String),
    /// `reserve` of a call id already reserved or connected.
    #[error("call {0:?} is already reserved or connected")]
    AlreadyExists(String),
    /// `connect` to another target than the call's live reservation.
    #[error("call {call:?} holds a reservation on target {reserved:?}; connect it there")]
    ReservedForOtherTarget {
        /// The call.
        call: String,
        /// Id of the target holding the reservation.
        reserved: String,
    },
    /// `convert`, `end` or `touch` of a call id the state does not know:
    /// never seen, forgotten after its retention, or a reservation that
    /// expired.
    #[error("unknown call {0:?}")]
    UnknownCall(String),
    /// `convert`, `end` or `touch` of a call that is only reserved.
    #[error("call {0:?} never connected")]
    NotConnected(String),
    /// `touch` of a call whose lease has run out (it no longer holds
    /// concurrency; `end` is still accepted).
    #[error("call {call:?}: lease expired at {}", fmt_instant(*.until))]
    LeaseExpired {
        /// The call.
        call: String,
        /// When the lease ran out.
        until: Instant,
    },
    /// `cancel` of a call that connected (end it instead).
    #[error("call {0:?} is connected, not reserved: end it instead of cancelling")]
    NotReserved(String),
    /// A second `end`.
    #[error("call {0:?} already ended")]
    AlreadyEnded(String),
    /// A second `convert`.
    #[error("call {0:?} already converted")]
    AlreadyConverted(String),
    /// `convert` with revenue below zero.
    #[error("revenue {0} is negative")]
    NegativeRevenue(Money),
    /// `convert` of a call whose target a config change removed.
    #[error("call {0:?} was on a target removed from the config; it can only end")]
    TargetRemoved(String),
    /// A zero TTL, or one whose expiry is past 2100.
    #[error("reservation ttl of {0} s is invalid (must be > 0 and expire before 2100)")]
    InvalidTtl(u64),
}

/// Target index of a call whose target was removed by a config change
/// (see [`crate::carry_over`]).
pub(crate) const REMOVED: usize = usize::MAX;

/// Counters and calls of one config. See the module docs for the rules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct State {
    pub(crate) ledger: Ledger,
    /// Every call not forgotten: reserved, live and settled ones. The key
    /// is shared with the ledger's lease index and `settled`.
    pub(crate) calls: HashMap<Arc<str>, CallRecord>,
    /// Settled calls by settle instant (then id), each once: forgotten at
    /// settle + retention. Kept sorted (pushes come in time order, so an
    /// insert is an append unless time went backwards).
    pub(crate) settled: VecDeque<(Instant, Arc<str>)>,
    /// Who called whom: read by `duplicates` and `repeat_callers`.
    pub(crate) callers: CallerHistory,
}

/// A state reads as its counters, so eligibility and the router take a
/// `&State` where they ask for a `&Ledger`.
impl std::ops::Deref for State {
    type Target = Ledger;

    fn deref(&self) -> &Ledger {
        &self.ledger
    }
}

fn check_instant(at: Instant) -> Result<(), LifecycleError> {
    if is_supported(at) {
        Ok(())
    } else {
        Err(LifecycleError::UnsupportedInstant(at))
    }
}

impl State {
    /// Give the targets whose counters equal `old`'s the stamps they have
    /// there (see [`crate::counters`]): for a state read again from a
    /// shared store, so that a router used with `old` keeps the reports of
    /// the targets that did not change. Answers never depend on it.
    pub fn keep_stamps_of(&mut self, old: &State) {
        self.ledger.keep_stamps(&old.ledger);
    }

    /// A fresh state with the config's imported usage: anchored at
    /// `config.as_of`, or pending until the first lifecycle event when the
    /// config has none.
    pub fn new(config: &Config) -> State {
        State {
            ledger: Ledger::new(config),
            calls: HashMap::new(),
            settled: VecDeque::new(),
            callers: CallerHistory::new(),
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
        self.ledger.anchor(config, at);
    }

    /// The counters eligibility reads.
    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    /// The caller history (see [`crate::caller_history`]).
    pub fn callers(&self) -> &CallerHistory {
        &self.callers
    }

    /// The record of a call id (a reservation past its expiry, or a call
    /// past its retention, may still be listed until the next lifecycle
    /// event).
    pub fn call(&self, id: &str) -> Option<&CallRecord> {
        self.calls.get(id)
    }

    /// Number of call records (reserved, connected, settled and not
    /// forgotten yet).
    pub fn call_count(&self) -> usize {
        self.calls.len()
    }

    /// Live calls of an owner at `at` (own calls whose lease holds, and
    /// imported ones while they hold; reservations excluded).
    pub fn live(&self, owner: CandidateRef, at: Instant) -> u64 {
        self.ledger.live(owner, at)
    }

    /// Replace the imported live calls of an owner with `count` calls
    /// imported at `as_of` (a usage import): they hold concurrency until
    /// `as_of + call_lease_seconds` (exclusive). The owner's own calls are
    /// untouched. See [`Ledger::set_imported_live`] to set the expiry
    /// directly.
    pub fn import_live(
        &mut self,
        config: &Config,
        owner: CandidateRef,
        count: u64,
        as_of: Instant,
    ) {
        let until = after(as_of, config.call_lease());
        self.ledger.set_imported_live(owner, count, Some(until));
    }

    /// Sweep what has run out by `at`: expired reservations, lapsed
    /// leases, calls past retention. Every accepted lifecycle event does
    /// this first; call it to free memory while no event comes. Changes no
    /// answer: reads and events already treat all of these as gone.
    pub fn advance(&mut self, config: &Config, at: Instant) {
        self.expire(config, at);
    }

    /// Usage of an owner as caps see it at `at`: counts include the units
    /// held by live reservations, `live` includes them too. Periodic values
    /// are those of the windows containing `at`.
    pub fn usage(&self, config: &Config, owner: CandidateRef, at: Instant) -> Usage {
        self.ledger.usage(config, owner, at)
    }

    /// The record of `call` as an event at `at` sees it: none for a
    /// reservation expired at `at` or a call forgotten by `at`, swept or not.
    fn record(&self, config: &Config, call: &str, at: Instant) -> Option<&CallRecord> {
        self.calls.get(call).filter(|r| match r.phase {
            CallPhase::Reserved { expires, .. } => expires > at,
            CallPhase::Connected { .. } => r
                .settled_by(at)
                .is_none_or(|s| after(s, config.call_retention()) > at),
        })
    }

    /// The shared key of a call record.
    fn key(&self, call: &str) -> Option<Arc<str>> {
        self.calls.get_key_value(call).map(|(k, _)| k.clone())
    }

    /// Queue `call`, settled at `at`, for forgetting.
    pub(crate) fn push_settled(&mut self, at: Instant, call: Arc<str>) {
        let entry = (at, call);
        if self.settled.back().is_none_or(|b| *b <= entry) {
            self.settled.push_back(entry);
        } else {
            let i = self.settled.partition_point(|e| *e <= entry);
            self.settled.insert(i, entry);
        }
    }

    fn check_target(&self, config: &Config, t: usize) -> Result<(), LifecycleError> {
        if t < config.targets.len() && t < self.ledger.target_count() {
            Ok(())
        } else {
            Err(LifecycleError::UnknownTarget(t))
        }
    }

    /// Sweep what has run out by `at`: drop reservations expired at `at`
    /// (releasing what they held), release lapsed leases (the calls
    /// settle), then forget calls settled at least the retention ago.
    fn expire(&mut self, config: &Config, at: Instant) {
        self.callers.sweep(at, config.caller_window());
        while let Some((id, _)) = self.ledger.pop_expired(at) {
            if self
                .calls
                .get(id.as_str())
                .is_some_and(|r| matches!(r.phase, CallPhase::Reserved { .. }))
            {
                self.calls.remove(id.as_str());
            }
        }
        while let Some((id, until)) = self.ledger.pop_lapsed(at) {
            if let Some((key, rec)) = self.calls.get_key_value(id.as_str()) {
                let key = key.clone();
                if rec.lease_until == Some(until) {
                    if let Some(rec) = self.calls.get_mut(&key) {
                        rec.lapsed = true;
                    }
                    self.push_settled(until, key);
                }
            }
        }
        let keep = config.call_retention();
        while let Some((settled, _)) = self.settled.front() {
            if after(*settled, keep) > at {
                break;
            }
            let Some((settled, id)) = self.settled.pop_front() else {
                break;
            };
            if self
                .calls
                .get(&id)
                .is_some_and(|r| r.settled_at() == Some(settled))
            {
                self.calls.remove(&id);
            }
        }
    }

    /// Eligibility re-check of target `t` for a call with `attrs` and the
    /// reasons it is refused.
    fn refusal(&self, config: &Config, t: usize, at: Instant, attrs: &CallAttrs) -> Vec<Reason> {
        let mut reasons = Vec::new();
        eligibility::target_reasons_seen(config, self, t, at, attrs, &self.callers, &mut reasons);
        reasons
    }

    /// [`State::connect_call`] for a call without attributes.
    pub fn connect(
        &mut self,
        config: &Config,
        call: &str,
        t: usize,
        at: Instant,
    ) -> Result<ConnectOutcome, LifecycleError> {
        self.connect_call(config, call, t, at, &CallAttrs::new())
    }

    /// Connect `call` to target `t` at `at`: re-check eligibility (its
    /// groups included) and, if eligible, make it live and count it when
    /// the trigger is `connect`. Confirms a live reservation of `call` on
    /// `t` (no double count). Filters judge the call's `attrs`, caller
    /// rules its caller's history; a connect of a known caller is recorded
    /// in that history when some rule of the config reads it.
    pub fn connect_call(
        &mut self,
        config: &Config,
        call: &str,
        t: usize,
        at: Instant,
        attrs: &CallAttrs,
    ) -> Result<ConnectOutcome, LifecycleError> {
        self.check_target(config, t)?;
        check_instant(at)?;
        let confirming = match self.record(config, call, at) {
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
            self.ledger.change_held(t, false);
        }
        let reasons = self.refusal(config, t, at, attrs);
        if !reasons.is_empty() {
            if confirming {
                self.ledger.change_held(t, true);
            }
            return Ok(ConnectOutcome::Refused(reasons));
        }
        self.expire(config, at);
        self.anchor(config, at);
        if confirming {
            if let Some(CallRecord {
                phase: CallPhase::Reserved { expires, .. },
                ..
            }) = self.calls.get(call)
            {
                let expires = *expires;
                self.ledger.drop_hold(call, expires);
            }
        }
        let id = self.key(call).unwrap_or_else(|| Arc::from(call));
        let until = after(at, config.call_lease());
        self.ledger.lease(call, t, until);
        let counted = config.targets[t].trigger == Trigger::Connect;
        if counted {
            self.ledger.add(config, t, at, 1, Money::ZERO);
        }
        let caller = attrs.caller().map(Arc::<str>::from);
        if let (Some(c), true) = (&caller, config.caller_window() > 0) {
            self.callers.connected(c, t, at);
        }
        self.calls.insert(
            id,
            CallRecord {
                target: t,
                phase: CallPhase::Connected { at },
                ended_at: None,
                converted: None,
                counted,
                lease_until: Some(until),
                lapsed: false,
                caller,
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
        if self.record(config, call, at).is_some() {
            return Err(LifecycleError::AlreadyExists(call.to_string()));
        }
        let reasons = self.refusal(config, t, at, &CallAttrs::new());
        if !reasons.is_empty() {
            return Ok(ConnectOutcome::Refused(reasons));
        }
        self.expire(config, at);
        self.anchor(config, at);
        self.ledger.hold(call, t, expires);
        self.calls.insert(
            Arc::from(call),
            CallRecord {
                target: t,
                phase: CallPhase::Reserved { at, expires },
                ended_at: None,
                converted: None,
                counted: false,
                lease_until: None,
                lapsed: false,
                caller: None,
            },
        );
        Ok(ConnectOutcome::Connected)
    }

    /// The connected record of `call`, or why there is none.
    fn connected(
        &self,
        config: &Config,
        call: &str,
        at: Instant,
    ) -> Result<&CallRecord, LifecycleError> {
        match self.record(config, call, at) {
            Some(rec) if matches!(rec.phase, CallPhase::Connected { .. }) => Ok(rec),
            Some(_) => Err(LifecycleError::NotConnected(call.to_string())),
            None => Err(LifecycleError::UnknownCall(call.to_string())),
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
        let rec = self.connected(config, call, at)?;
        if rec.converted.is_some() {
            return Err(LifecycleError::AlreadyConverted(call.to_string()));
        }
        let t = rec.target;
        if t == REMOVED {
            return Err(LifecycleError::TargetRemoved(call.to_string()));
        }
        self.check_target(config, t)?;
        let counts = match config.targets[t].trigger {
            Trigger::Connect => false,
            Trigger::Convert => true,
            Trigger::Revenue => revenue > Money::ZERO,
        };
        self.expire(config, at);
        self.anchor(config, at);
        self.ledger.add(config, t, at, u64::from(counts), revenue);
        if let Some(rec) = self.calls.get_mut(call) {
            rec.converted = Some(Conversion { at, revenue });
            rec.counted |= counts;
            if let (Some(c), true) = (&rec.caller, config.caller_window() > 0) {
                self.callers.converted(c, t, at);
            }
        }
        Ok(())
    }

    /// End `call` at `at` (once): releases its concurrency on the target
    /// and its groups. After its lease ran out (at or after its
    /// `lease_until`) the end is accepted and recorded but releases
    /// nothing more, and the call stays settled at its lease expiry.
    pub fn end(&mut self, config: &Config, call: &str, at: Instant) -> Result<(), LifecycleError> {
        check_instant(at)?;
        let rec = self.connected(config, call, at)?;
        if rec.ended_at.is_some() {
            return Err(LifecycleError::AlreadyEnded(call.to_string()));
        }
        self.expire(config, at);
        self.anchor(config, at);
        let Some(id) = self.key(call) else {
            return Ok(());
        };
        let Some(rec) = self.calls.get_mut(&id) else {
            return Ok(());
        };
        rec.ended_at = Some(at);
        // a lapsed lease was released (and queued for forgetting) by the sweep
        if !rec.lapsed {
            let until = rec.lease_until.unwrap_or(at);
            if self.ledger.release(&id, until) {
                self.push_settled(at, id);
            }
        }
        Ok(())
    }

    /// Renew the lease of connected `call`: it holds concurrency until
    /// `at + call_lease_seconds` (or its current expiry, if later).
    /// Errors: [`LifecycleError::UnknownCall`], `NotConnected` (only
    /// reserved), `AlreadyEnded`, and `LeaseExpired` once the lease ran out
    /// (at or after its expiry).
    pub fn touch(
        &mut self,
        config: &Config,
        call: &str,
        at: Instant,
    ) -> Result<(), LifecycleError> {
        check_instant(at)?;
        let rec = self.connected(config, call, at)?;
        if rec.ended_at.is_some() {
            return Err(LifecycleError::AlreadyEnded(call.to_string()));
        }
        let until = rec.lease_until.unwrap_or(at);
        // a lease already swept as lapsed stays lapsed even when this touch
        // is stamped before its expiry (events out of order): its
        // concurrency was released and it is queued for forgetting
        if until <= at || rec.lapsed {
            return Err(LifecycleError::LeaseExpired {
                call: call.to_string(),
                until,
            });
        }
        self.expire(config, at);
        self.anchor(config, at);
        let renewed = after(at, config.call_lease());
        if renewed > until {
            if let Some(id) = self.key(call) {
                self.ledger.renew(&id, until, renewed);
                if let Some(rec) = self.calls.get_mut(&id) {
                    rec.lease_until = Some(renewed);
                }
            }
        }
        Ok(())
    }

    /// Cancel the live reservation of `call`: its held capacity is freed at
    /// once and the id forgotten. Errors, changing nothing:
    /// [`LifecycleError::UnknownCall`] (no record, or the reservation
    /// already expired), [`LifecycleError::NotReserved`] (it connected).
    pub fn cancel(
        &mut self,
        config: &Config,
        call: &str,
        at: Instant,
    ) -> Result<(), LifecycleError> {
        check_instant(at)?;
        let rec = self
            .record(config, call, at)
            .ok_or_else(|| LifecycleError::UnknownCall(call.to_string()))?;
        let CallPhase::Reserved { expires, .. } = rec.phase else {
            return Err(LifecycleError::NotReserved(call.to_string()));
        };
        let t = rec.target;
        self.expire(config, at);
        self.anchor(config, at);
        self.ledger.drop_hold(call, expires);
        self.ledger.change_held(t, false);
        self.calls.remove(call);
        Ok(())
    }

    /// Reset the total (hard) count and total revenue of target `t`.
    pub fn reset_target(&mut self, config: &Config, t: usize) -> Result<(), LifecycleError> {
        self.check_target(config, t)?;
        self.ledger.reset_target(t);
        Ok(())
    }

    /// Reset the total counters of group `g` and of all its members.
    pub fn reset_group(&mut self, config: &Config, g: usize) -> Result<(), LifecycleError> {
        let (Some(group), true) = (config.groups.get(g), g < self.ledger.group_count()) else {
            return Err(LifecycleError::UnknownGroup(g));
        };
        self.ledger.reset_group(g);
        for &m in &group.members {
            self.ledger.reset_target(m);
        }
        Ok(())
    }
}
