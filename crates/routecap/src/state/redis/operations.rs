//! The lifecycle operations: connect, reserve, convert, end, touch, cancel
//! and reset, each one step function call retried while the config or
//! the anchor moves, and their refusals and errors.

use std::sync::atomic::{AtomicU64, Ordering};

use routecap_core::caps::Trigger;
use routecap_core::effects;
use routecap_core::eligibility::{self, ReasonCode};
use routecap_core::engine::EngineError;
use routecap_core::filter::CallAttrs;
use routecap_core::lifecycle::{ConnectOutcome, LifecycleError};
use routecap_core::model::{CandidateRef, Config};
use routecap_core::money::Money;
use routecap_core::{Call, Instant};

use super::caller_history::history_of;
use super::config_store::Loaded;
use super::scripts::{CallerArgs, Reply, Step, StepCall};
use super::{lifecycle, ts, RedisState, RETRIES};
use crate::state::StateError;

/// A fresh operation id: unique across processes and hosts in practice.
pub fn new_op_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(n);
    h.write_u32(std::process::id());
    format!(
        "{:x}-{:x}-{:x}-{:016x}",
        std::process::id(),
        nanos,
        n,
        h.finish()
    )
}

impl RedisState {
    fn target_in(l: &Loaded, id: &str) -> Result<usize, StateError> {
        l.config
            .target_index(id)
            .ok_or_else(|| StateError::Engine(EngineError::UnknownTarget(id.to_string())))
    }

    pub(super) fn check_instant(at: Instant) -> Result<(), StateError> {
        if routecap_core::zone::is_supported(at) {
            Ok(())
        } else {
            Err(lifecycle(LifecycleError::UnsupportedInstant(at)))
        }
    }

    /// [`RedisState::connect_op`] for a call with attributes: the target's
    /// and its groups' filters judge them first (pure config), then the
    /// script checks every cap and the caller's history, counts and
    /// records the caller.
    pub(crate) async fn connect_call_op(
        &self,
        op: &str,
        call: &str,
        target: &str,
        at: Instant,
        attrs: &CallAttrs,
    ) -> Result<ConnectOutcome, StateError> {
        Self::check_instant(at)?;
        for _ in 0..RETRIES {
            let l = self.loaded();
            let t = Self::target_in(&l, target)?;
            if effects::locally_refused(&l.config, t, at) || Self::filters_refuse(&l, t, at, attrs)
            {
                // memory reports a lifecycle conflict before any refusal
                let mut confirming = false;
                match self.live_phase(call, at).await? {
                    None => {}
                    Some((p, _)) if p == "c" => {
                        return Err(lifecycle(LifecycleError::AlreadyConnected(
                            call.to_string(),
                        )))
                    }
                    Some((_, reserved)) if reserved != target => {
                        return Err(lifecycle(LifecycleError::ReservedForOtherTarget {
                            call: call.to_string(),
                            reserved,
                        }))
                    }
                    Some(_) => confirming = true,
                }
                let skip = confirming.then_some(call);
                match self.refusal(&l, t, at, skip, attrs).await? {
                    Some(refused) => return Ok(refused),
                    None => continue,
                }
            }
            let count = u8::from(l.config.targets[t].trigger == Trigger::Connect).to_string();
            let callers = self.connect_callers(&l.config, t, attrs);
            match self
                .run(
                    &l,
                    Step::Connect,
                    op,
                    call,
                    target,
                    Some(t),
                    at,
                    &count,
                    "",
                    &callers,
                )
                .await?
            {
                Reply::Again | Reply::OtherTarget(_) => continue,
                Reply::Done(r) => {
                    if r == "ok" {
                        self.cache_apply(|e| {
                            matches!(
                                e.connect(&Call::with_attrs(call, attrs.clone()), target, at),
                                Ok(ConnectOutcome::Connected)
                            )
                        });
                    }
                    match self.outcome(&l, &r, call, target, t, at, attrs).await? {
                        Some(outcome) => return Ok(outcome),
                        None => continue,
                    }
                }
            }
        }
        Err(self.unavailable("the namespace's config kept changing".to_string()))
    }

    /// Map a reply to an outcome of connect/reserve (`None`: ask again,
    /// see [`RedisState::refusal`]).
    #[allow(clippy::too_many_arguments)]
    async fn outcome(
        &self,
        l: &Loaded,
        reply: &str,
        call: &str,
        target: &str,
        t: usize,
        at: Instant,
        attrs: &CallAttrs,
    ) -> Result<Option<ConnectOutcome>, StateError> {
        match reply {
            "ok" => {
                self.set_hint(call, Some(target));
                Ok(Some(ConnectOutcome::Connected))
            }
            "refused" => self.refusal(l, t, at, Some(call), attrs).await,
            other => Err(self.error_reply(other, call)),
        }
    }

    /// [`Backend::reserve`](crate::state::Backend::reserve) with a caller-chosen operation id.
    pub(crate) async fn reserve_op(
        &self,
        op: &str,
        call: &str,
        target: &str,
        ttl_secs: u64,
        at: Instant,
    ) -> Result<ConnectOutcome, StateError> {
        Self::check_instant(at)?;
        let expires = i64::try_from(ttl_secs)
            .ok()
            .filter(|&s| s > 0)
            .and_then(chrono::TimeDelta::try_seconds)
            .and_then(|d| at.checked_add_signed(d))
            .filter(|&e| routecap_core::zone::is_supported(e))
            .ok_or_else(|| lifecycle(LifecycleError::InvalidTtl(ttl_secs)))?;
        let none = CallAttrs::new();
        for _ in 0..RETRIES {
            let l = self.loaded();
            let t = Self::target_in(&l, target)?;
            if effects::locally_refused(&l.config, t, at) {
                // memory reports an existing call before any refusal
                if self.live_phase(call, at).await?.is_some() {
                    return Err(lifecycle(LifecycleError::AlreadyExists(call.to_string())));
                }
                match self.refusal(&l, t, at, Some(call), &none).await? {
                    Some(refused) => return Ok(refused),
                    None => continue,
                }
            }
            let exp = expires.timestamp().to_string();
            match self
                .run(
                    &l,
                    Step::Reserve,
                    op,
                    call,
                    target,
                    Some(t),
                    at,
                    &exp,
                    "",
                    &CallerArgs::default(),
                )
                .await?
            {
                Reply::Again | Reply::OtherTarget(_) => continue,
                Reply::Done(r) => {
                    if r == "ok" {
                        self.cache_apply(|e| {
                            matches!(
                                e.reserve(&Call::new(call), target, ttl_secs, at),
                                Ok(ConnectOutcome::Connected)
                            )
                        });
                    }
                    match self.outcome(&l, &r, call, target, t, at, &none).await? {
                        Some(outcome) => return Ok(outcome),
                        None => continue,
                    }
                }
            }
        }
        Err(self.unavailable("the namespace's config kept changing".to_string()))
    }

    async fn call_target(&self, call: &str, at: Instant) -> Result<Option<String>, StateError> {
        let mut conn = self.conn.clone();
        let (target, gone): (Option<String>, Option<i64>) = redis::cmd("HMGET")
            .arg(self.call_key(call))
            .arg("target")
            .arg("gone")
            .query_async(&mut conn)
            .await
            .map_err(|e| self.io(&e))?;
        Ok(target.filter(|_| gone.is_none_or(|g| g > at.timestamp())))
    }

    /// Run a step on an existing call: its target comes from the hint or
    /// the call record, and the script names the right one when it moved.
    async fn on_call(
        &self,
        step: Step,
        op: &str,
        call: &str,
        at: Instant,
        revenue: Money,
        args: impl Fn(&Config, Option<usize>) -> (String, String),
    ) -> Result<(), StateError> {
        Self::check_instant(at)?;
        let mut target = self.hint(call);
        for _ in 0..RETRIES {
            let target_id = match target.take() {
                Some(t) => t,
                None => match self.call_target(call, at).await? {
                    Some(t) => t,
                    None => return Err(lifecycle(LifecycleError::UnknownCall(call.to_string()))),
                },
            };
            let l = self.loaded();
            // a target the config no longer has: the call holds nothing
            let t = l.config.target_index(&target_id);
            let (a8, a9) = args(&l.config, t);
            let callers = match step {
                Step::Convert => CallerArgs {
                    key: None,
                    args: vec![l.config.caller_window().to_string(), self.caller_prefix()],
                },
                _ => CallerArgs::default(),
            };
            match self
                .run(&l, step, op, call, &target_id, t, at, &a8, &a9, &callers)
                .await?
            {
                Reply::Again => target = Some(target_id),
                Reply::OtherTarget(other) => {
                    self.set_hint(call, None);
                    target = Some(other);
                }
                Reply::Done(r) if r == "ok" => {
                    if matches!(step, Step::End | Step::Cancel) {
                        self.set_hint(call, None);
                    }
                    let c = Call::new(call);
                    self.cache_apply(|e| match step {
                        Step::Convert => e.convert(&c, revenue, at).is_ok(),
                        Step::End => e.end(&c, at).is_ok(),
                        Step::Touch => e.touch(&c, at).is_ok(),
                        Step::Cancel => e.cancel(&c, at).is_ok(),
                        _ => false,
                    });
                    return Ok(());
                }
                Reply::Done(r) => return Err(self.error_reply(&r, call)),
            }
        }
        Err(self.unavailable("the namespace's config kept changing".to_string()))
    }

    /// [`Backend::convert`](crate::state::Backend::convert) with a caller-chosen operation id.
    pub(crate) async fn convert_op(
        &self,
        op: &str,
        call: &str,
        revenue: Money,
        at: Instant,
    ) -> Result<(), StateError> {
        if revenue < Money::ZERO {
            return Err(lifecycle(LifecycleError::NegativeRevenue(revenue)));
        }
        self.on_call(Step::Convert, op, call, at, revenue, |c, t| {
            let counts = t.is_some_and(|t| effects::convert_counts(c.targets[t].trigger, revenue));
            (u8::from(counts).to_string(), revenue.minor().to_string())
        })
        .await
    }

    /// [`Backend::end`](crate::state::Backend::end) with a caller-chosen operation id.
    pub(crate) async fn end_op(&self, op: &str, call: &str, at: Instant) -> Result<(), StateError> {
        self.on_call(Step::End, op, call, at, Money::ZERO, |_, _| {
            Default::default()
        })
        .await
    }

    /// [`Backend::touch`](crate::state::Backend::touch) with a caller-chosen operation id.
    pub(crate) async fn touch_op(
        &self,
        op: &str,
        call: &str,
        at: Instant,
    ) -> Result<(), StateError> {
        self.on_call(Step::Touch, op, call, at, Money::ZERO, |_, _| {
            Default::default()
        })
        .await
    }

    /// [`Backend::cancel`](crate::state::Backend::cancel) with a caller-chosen operation id.
    pub(crate) async fn cancel_op(
        &self,
        op: &str,
        call: &str,
        at: Instant,
    ) -> Result<(), StateError> {
        self.on_call(Step::Cancel, op, call, at, Money::ZERO, |_, _| {
            Default::default()
        })
        .await
    }

    /// Reset the totals of some owners (a target; a group and its members).
    async fn reset(
        &self,
        owners: impl Fn(&Config) -> Result<Vec<CandidateRef>, StateError>,
    ) -> Result<(), StateError> {
        let op = new_op_id();
        for _ in 0..RETRIES {
            let l = self.loaded();
            let c = &*l.config;
            let owners = owners(c)?;
            let mut inv = StepCall::default();
            inv.key(self.config_key())
                .key(self.op_key(&op))
                .key(self.call_key(""));
            inv.arg(0)
                .arg(c.call_retention_seconds)
                .arg(0)
                .arg(self.expect(&l))
                .arg(owners.len())
                .arg("")
                .arg("")
                .arg("")
                .arg("");
            for o in owners {
                for k in l.keys_of(o) {
                    inv.key(k);
                }
            }
            let reply = self
                .fcall(Step::Reset, &inv)
                .await
                .map_err(|e| self.classify(&op, &e))?;
            self.invalidate();
            if let Some(seen) = reply.strip_prefix("stale:") {
                self.on_stale(&l, seen).await?;
                continue;
            }
            return match reply.as_str() {
                "ok" => Ok(()),
                r => Err(self.error_reply(r, "")),
            };
        }
        Err(self.unavailable("the namespace's config kept changing".to_string()))
    }

    /// [`Backend::reset_target`](crate::state::Backend::reset_target).
    pub(crate) async fn reset_target(&self, target: &str) -> Result<(), StateError> {
        self.reset(|c| {
            c.target_index(target)
                .map(|t| vec![CandidateRef::Target(t)])
                .ok_or_else(|| StateError::Engine(EngineError::UnknownTarget(target.to_string())))
        })
        .await
    }

    /// [`Backend::reset_group`](crate::state::Backend::reset_group).
    pub(crate) async fn reset_group(&self, group: &str) -> Result<(), StateError> {
        self.reset(|c| {
            let g = c
                .group_index(group)
                .ok_or_else(|| StateError::Engine(EngineError::UnknownGroup(group.to_string())))?;
            let mut owners = vec![CandidateRef::Group(g)];
            owners.extend(c.groups[g].members.iter().map(|&m| CandidateRef::Target(m)));
            Ok(owners)
        })
        .await
    }

    /// Whether the target's or its groups' filters refuse a call with
    /// `attrs` (pure config: judged against a blank state).
    fn filters_refuse(l: &Loaded, t: usize, at: Instant, attrs: &CallAttrs) -> bool {
        if attrs.is_empty() {
            return false;
        }
        let mut reasons = Vec::new();
        eligibility::target_reasons_call(&l.config, &l.blank, t, at, attrs, &mut reasons);
        reasons.iter().any(|r| r.code == ReasonCode::FilterMismatch)
    }

    /// A refusal with every reason, read from the server. A reservation of
    /// `skip` is left out, as memory re-checks a confirmation without it.
    /// `None` when the refusal does not stand: the namespace's config moved
    /// since `l` (another process resumed or changed the target: decide
    /// again under the new one), or the server state lists no reason any
    /// more (a call ended meanwhile: ask again).
    async fn refusal(
        &self,
        l: &Loaded,
        t: usize,
        at: Instant,
        skip: Option<&str>,
        attrs: &CallAttrs,
    ) -> Result<Option<ConnectOutcome>, StateError> {
        let engine = self
            .fetch_skipping(at, skip, history_of(&l.config, attrs))
            .await?;
        if self.loaded().ver != l.ver {
            return Ok(None);
        }
        let mut reasons = Vec::new();
        engine.with_state(|c, s| {
            if c.targets.get(t).is_some() {
                eligibility::target_reasons_seen(c, s, t, at, attrs, s.callers(), &mut reasons)
            }
        });
        Ok((!reasons.is_empty()).then_some(ConnectOutcome::Refused(reasons)))
    }

    /// The phase (`c`/`r`) and target of `call` unless it is absent, an
    /// expired reservation or forgotten.
    async fn live_phase(
        &self,
        call: &str,
        at: Instant,
    ) -> Result<Option<(String, String)>, StateError> {
        let mut conn = self.conn.clone();
        let (phase, target, exp, gone): (Option<String>, Option<String>, Option<i64>, Option<i64>) =
            redis::cmd("HMGET")
                .arg(self.call_key(call))
                .arg("phase")
                .arg("target")
                .arg("exp")
                .arg("gone")
                .query_async(&mut conn)
                .await
                .map_err(|e| self.io(&e))?;
        if gone.is_some_and(|g| g <= at.timestamp()) {
            return Ok(None);
        }
        Ok(match (phase, target) {
            (Some(p), Some(t))
                if p == "c" || (p == "r" && exp.is_some_and(|e| e > at.timestamp())) =>
            {
                Some((p, t))
            }
            _ => None,
        })
    }

    fn error_reply(&self, reply: &str, call: &str) -> StateError {
        let call = call.to_string();
        match reply {
            "err:already_connected" => lifecycle(LifecycleError::AlreadyConnected(call)),
            "err:already_exists" => lifecycle(LifecycleError::AlreadyExists(call)),
            "err:not_connected" => lifecycle(LifecycleError::NotConnected(call)),
            "err:already_ended" => lifecycle(LifecycleError::AlreadyEnded(call)),
            "err:already_converted" => lifecycle(LifecycleError::AlreadyConverted(call)),
            "err:not_reserved" => lifecycle(LifecycleError::NotReserved(call)),
            "err:unknown_call" => lifecycle(LifecycleError::UnknownCall(call)),
            "err:target_removed" => lifecycle(LifecycleError::TargetRemoved(call)),
            r => {
                if let Some(reserved) = r.strip_prefix("err:reserved_other:") {
                    return lifecycle(LifecycleError::ReservedForOtherTarget {
                        call,
                        reserved: reserved.to_string(),
                    });
                }
                let until = r
                    .strip_prefix("err:lease_expired:")
                    .and_then(|s| s.parse::<i64>().ok())
                    .and_then(ts);
                match until {
                    Some(until) => lifecycle(LifecycleError::LeaseExpired { call, until }),
                    None => self.unavailable(format!("unexpected script reply {r:?}")),
                }
            }
        }
    }
}
