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
//! first accepted lifecycle event (connect, reserve, convert, end), or of an
//! explicit [`State::anchor`]; until then every check reads it as the usage
//! of the windows containing the instant checked. Imported hourly usage at
//! 10:30 reads 0 at 11:05; daily still counts. Imported live calls are never
//! released: their end is never seen. The core accepts any instant; replay
//! layers reject time going backwards.
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

use std::collections::HashMap;

use chrono::{SecondsFormat, TimeDelta};

use crate::caps::{Trigger, Usage};
use crate::counters::Ledger;
use crate::eligibility::{self, Reason};
use crate::filter::CallAttrs;
use crate::model::{CandidateRef, Config};
use crate::money::Money;
use crate::zone::{is_supported, Instant};

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
    /// `convert` / `end` of a call that never connected.
    #[error("call {0:?} never connected")]
    NotConnected(String),
    /// A second `end`.
    #[error("call {0:?} already ended")]
    AlreadyEnded(String),
    /// A second `convert`.
    #[error("call {0:?} already converted")]
    AlreadyConverted(String),
    /// `convert` with revenue below zero.
    #[error("revenue {0} is negative")]
    NegativeRevenue(Money),
    /// A zero TTL, or one whose expiry is past 2100.
    #[error("reservation ttl of {0} s is invalid (must be > 0 and expire before 2100)")]
    InvalidTtl(u64),
}

/// RFC 3339 text of an instant, as every face prints it.
pub(crate) fn fmt_instant(t: Instant) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// Counters and calls of one config. See the module docs for the rules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct State {
    pub(crate) ledger: Ledger,
    pub(crate) calls: HashMap<String, CallRecord>,
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
    /// A fresh state with the config's imported usage: anchored at
    /// `config.as_of`, or pending until the first lifecycle event when the
    /// config has none.
    pub fn new(config: &Config) -> State {
        State {
            ledger: Ledger::new(config),
            calls: HashMap::new(),
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

    /// The record of a call id (a reservation past its expiry may still be
    /// listed until the next lifecycle event).
    pub fn call(&self, id: &str) -> Option<&CallRecord> {
        self.calls.get(id)
    }

    /// Number of call records (reserved, connected, ended).
    pub fn call_count(&self) -> usize {
        self.calls.len()
    }

    /// Usage of an owner as caps see it at `at`: counts include the units
    /// held by live reservations, `live` includes them too. Periodic values
    /// are those of the windows containing `at`.
    pub fn usage(&self, config: &Config, owner: CandidateRef, at: Instant) -> Usage {
        self.ledger.usage(config, owner, at)
    }

    /// The record of `call` unless it is a reservation expired at `at`.
    fn live_record(&self, call: &str, at: Instant) -> Option<&CallRecord> {
        self.calls.get(call).filter(|r| match r.phase {
            CallPhase::Reserved { expires, .. } => expires > at,
            CallPhase::Connected { .. } => true,
        })
    }

    fn check_target(&self, config: &Config, t: usize) -> Result<(), LifecycleError> {
        if t < config.targets.len() && t < self.ledger.target_count() {
            Ok(())
        } else {
            Err(LifecycleError::UnknownTarget(t))
        }
    }

    /// Drop reservations expired at `at`, releasing what they held.
    fn expire(&mut self, at: Instant) {
        while let Some((id, _)) = self.ledger.pop_expired(at) {
            if self
                .calls
                .get(&id)
                .is_some_and(|r| matches!(r.phase, CallPhase::Reserved { .. }))
            {
                self.calls.remove(&id);
            }
        }
    }

    /// Eligibility re-check of target `t` for a call with `attrs` and the
    /// reasons it is refused.
    fn refusal(&self, config: &Config, t: usize, at: Instant, attrs: &CallAttrs) -> Vec<Reason> {
        let mut reasons = Vec::new();
        eligibility::target_reasons_call(config, self, t, at, attrs, &mut reasons);
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
    /// `t` (no double count). Filters judge the call's `attrs`.
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
            self.ledger.change_held(t, false);
        }
        let reasons = self.refusal(config, t, at, attrs);
        if !reasons.is_empty() {
            if confirming {
                self.ledger.change_held(t, true);
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
                let expires = *expires;
                self.ledger.drop_hold(call, expires);
            }
        }
        self.ledger.change_live(t, true);
        let counted = config.targets[t].trigger == Trigger::Connect;
        if counted {
            self.ledger.add(config, t, at, 1, Money::ZERO);
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
        let reasons = self.refusal(config, t, at, &CallAttrs::new());
        if !reasons.is_empty() {
            return Ok(ConnectOutcome::Refused(reasons));
        }
        self.expire(at);
        self.anchor(config, at);
        self.ledger.hold(call, t, expires);
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
        self.ledger.add(config, t, at, u64::from(counts), revenue);
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
        self.ledger.change_live(t, false);
        if let Some(rec) = self.calls.get_mut(call) {
            rec.ended_at = Some(at);
        }
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
