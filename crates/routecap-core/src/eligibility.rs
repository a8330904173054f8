//! Eligibility: who may receive a call at an instant, every reason
//! why not, and when each reason lifts.
//!
//! A target is eligible iff it is not paused, open by its hours, below every
//! cap of its own, and every group containing it is open and below its caps.
//! Usage includes the units held by live reservations (see [`crate::counters`]).
//! Reasons come owner by owner (the target, then its groups in config order),
//! each in [`ReasonCode`] order.
//!
//! A simultaneous group candidate is eligible iff the group itself is open
//! and below its caps and at least one member is eligible, members being
//! judged on their own reasons and their *other* containing groups.
//! `eligible_members` is filled whatever the group's own verdict.
//!
//! # One judge
//!
//! Every verdict comes from the [`Checker`]: a service keeps one per config
//! and decides call after call; the one-shot functions here ([`check`],
//! [`check_seen`], …) run a fresh one, and the re-check of one target (a
//! connect) a fresh one over that target and its groups alone. The rules
//! above are written once, in the checker's reason builder; its faster
//! paths are checked against a plain judge kept with the tests.

mod caller_reasons;
mod checker;
mod judged_call;
mod report;

use crate::caller_history::CallerHistory;
use crate::counters::Ledger;
use crate::filter::{CallAttrs, CallBuffers};
use crate::model::{CandidateRef, Config};
use crate::zone::Instant;

pub use caller_reasons::original_report;
pub use checker::Checker;
pub(crate) use checker::Refusals;
pub(crate) use judged_call::JudgedCall;
pub(crate) use report::bare;
pub use report::{Amount, CandidateReport, Reason, ReasonCode};

/// Eligibility of the config's default candidates at `at`: one decision of
/// a fresh [`Checker`]. `state` is the counters: a [`Ledger`], or the
/// lifecycle's `State`, which reads as one.
pub fn check(config: &Config, state: &Ledger, at: Instant) -> Vec<CandidateReport> {
    once(config, state, at, None, &JudgedCall::none(config))
}

/// [`check`] for a call with attributes: filters judge `attrs`.
pub fn check_call(
    config: &Config,
    state: &Ledger,
    at: Instant,
    attrs: &CallAttrs,
) -> Vec<CandidateReport> {
    once(config, state, at, None, &JudgedCall::new(config, attrs))
}

/// [`check_call`] (`cands` `None`: the default candidates) or
/// [`check_candidates_call`] that also judges the caller's `history`:
/// targets' `duplicates` and the call's `repeat_callers: different` rule
/// (see [`crate::caller_history`]).
pub fn check_seen(
    config: &Config,
    state: &Ledger,
    at: Instant,
    cands: Option<&[CandidateRef]>,
    attrs: &CallAttrs,
    history: &CallerHistory,
) -> Vec<CandidateReport> {
    once(
        config,
        state,
        at,
        cands,
        &JudgedCall::seen(config, attrs, history, at, &mut CallBuffers::default()),
    )
}

/// Eligibility of the given candidates at `at`, in their order. Indices
/// outside the config are skipped.
pub fn check_candidates(
    config: &Config,
    state: &Ledger,
    at: Instant,
    cands: &[CandidateRef],
) -> Vec<CandidateReport> {
    once(config, state, at, Some(cands), &JudgedCall::none(config))
}

/// [`check_candidates`] for a call with attributes.
pub fn check_candidates_call(
    config: &Config,
    state: &Ledger,
    at: Instant,
    cands: &[CandidateRef],
    attrs: &CallAttrs,
) -> Vec<CandidateReport> {
    once(
        config,
        state,
        at,
        Some(cands),
        &JudgedCall::new(config, attrs),
    )
}

/// One decision with a fresh [`Checker`], handed over as owned reports
/// (`cands` `None`: the default candidates).
fn once(
    config: &Config,
    ledger: &Ledger,
    at: Instant,
    cands: Option<&[CandidateRef]>,
    call: &JudgedCall<'_>,
) -> Vec<CandidateReport> {
    Checker::once(config, ledger, at, cands, call)
}

/// The report of one candidate; `None` for an index outside the config.
pub fn candidate_report(
    config: &Config,
    state: &Ledger,
    at: Instant,
    candidate: CandidateRef,
) -> Option<CandidateReport> {
    once(
        config,
        state,
        at,
        Some(&[candidate]),
        &JudgedCall::none(config),
    )
    .pop()
}

/// Append to `out` every reason target `t` is not eligible at `at`: its own,
/// then those of each containing group (with `group: Some(g)`). Nothing is
/// appended when it is eligible (or when `t` is not in the config).
pub fn target_reasons(
    config: &Config,
    state: &Ledger,
    t: usize,
    at: Instant,
    out: &mut Vec<Reason>,
) {
    target_reasons_call(config, state, t, at, &CallAttrs::new(), out);
}

/// [`target_reasons`] for a call with attributes (the re-check of a connect).
pub fn target_reasons_call(
    config: &Config,
    state: &Ledger,
    t: usize,
    at: Instant,
    attrs: &CallAttrs,
    out: &mut Vec<Reason>,
) {
    let call = JudgedCall::new(config, attrs).explained();
    Checker::target_reasons(config, state, at, &call, t, out);
}

/// [`target_reasons_call`] that also judges the caller's `history` (the
/// re-check of a connect).
pub fn target_reasons_seen(
    config: &Config,
    state: &Ledger,
    t: usize,
    at: Instant,
    attrs: &CallAttrs,
    history: &CallerHistory,
    out: &mut Vec<Reason>,
) {
    let call =
        JudgedCall::seen(config, attrs, history, at, &mut CallBuffers::default()).explained();
    Checker::target_reasons(config, state, at, &call, t, out);
}

/// Reasons target `t` is not eligible by its own state and its groups'
/// (pause, hours, caps), whatever the call: how a campaign's fallback is
/// judged, since filters and caller rules do not apply to it.
pub fn target_state_reasons(
    config: &Config,
    state: &Ledger,
    t: usize,
    at: Instant,
    out: &mut Vec<Reason>,
) {
    Checker::target_reasons(config, state, at, &JudgedCall::state_only(config), t, out);
}

/// `filter_mismatch` (with its detail) when campaign `c`'s filter rejects
/// the call; `None` when it takes it (or `c` is not in the config).
pub fn campaign_reason(config: &Config, c: usize, attrs: &CallAttrs) -> Option<Reason> {
    let filters = config.filters();
    let compiled = filters.campaigns.get(c)?.as_ref()?;
    let call = filters.table.prepare(attrs);
    let detail = compiled.matches(&call).err()?.detail();
    Some(Reason {
        detail: Some(detail),
        ..bare(ReasonCode::FilterMismatch, None)
    })
}

/// Writes the `detail` of filter reasons for one call. Decisions over many
/// candidates leave `detail` empty (formatting hundreds of them would cost
/// more than the decision); views that show reasons ask this instead.
pub struct Explainer<'a> {
    call: JudgedCall<'a>,
}

impl<'a> Explainer<'a> {
    /// Details for `attrs` judged by `config`'s filters.
    pub fn new(config: &'a Config, attrs: &CallAttrs) -> Self {
        Explainer {
            call: JudgedCall::new(config, attrs),
        }
    }

    /// The detail of `reason`, given in a report on `candidate`: its own
    /// when set, else for `filter_mismatch` the failed condition of the
    /// owner's filter (the containing group's when the reason names one).
    pub fn detail(&self, candidate: CandidateRef, reason: &Reason) -> Option<String> {
        if reason.detail.is_some() || reason.code != ReasonCode::FilterMismatch {
            return reason.detail.clone();
        }
        let owner = reason.group.map_or(candidate, CandidateRef::Group);
        self.call.mismatch(owner)
    }
}
