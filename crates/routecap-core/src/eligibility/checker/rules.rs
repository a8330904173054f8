//! The eligibility rules over owners' own reasons, written once: a target
//! is judged with `paused`, its groups' reasons and the call's; a group as
//! a candidate with its members judged on their *other* groups.

use crate::counters::Ledger;
use crate::eligibility::judged_call::JudgedCall;
use crate::eligibility::{bare, CandidateReport, Reason, ReasonCode};
use crate::model::{CandidateRef, Config};

/// Where the rules read each owner's own reasons: the checker's caches
/// ([`super::owners::Fast`]) for a decision over many candidates, or a
/// clock made for one owner ([`super::one_target::OneTarget`]) for the
/// re-check of one target, which reads each owner once.
pub(super) trait Judge {
    /// Whether target `t` is paused.
    fn paused(&self, t: usize) -> bool;
    /// Append the reasons of `owner` itself (hours and caps; not
    /// `paused`, not its groups'), tagged with the group for a group.
    /// Returns until when (Unix seconds, exclusive) they stay the same
    /// while the owner's counters do; `i64::MIN` when unknown or for an
    /// owner outside the config.
    fn own(&mut self, owner: CandidateRef, out: &mut Vec<Reason>) -> i64;
}

/// Reasons of target `t`: `paused`, its own, then those of its containing
/// groups other than `skip`, then the call-dependent ones (filters).
/// Returns the [`Judge::own`] bound of its own.
pub(super) fn target_into(
    judge: &mut impl Judge,
    config: &Config,
    ledger: &Ledger,
    call: &JudgedCall<'_>,
    t: usize,
    skip: Option<usize>,
    out: &mut Vec<Reason>,
) -> i64 {
    if t >= config.targets.len() {
        return i64::MIN;
    }
    if judge.paused(t) {
        out.push(bare(ReasonCode::Paused, None));
    }
    let until = judge.own(CandidateRef::Target(t), out);
    for &g in ledger.groups_of(t) {
        if Some(g) != skip {
            judge.own(CandidateRef::Group(g), out);
        }
    }
    call.target(ledger, t, skip, out);
    until
}

/// Fill `rep` with the verdict on `candidate` (an index in the config).
/// A group as the candidate: its own reasons carry no group tag, and its
/// members are judged on their own reasons and their *other* groups.
/// Returns, for a target, the [`Judge::own`] bound of its own reasons.
pub(super) fn fill_report(
    judge: &mut impl Judge,
    config: &Config,
    ledger: &Ledger,
    call: &JudgedCall<'_>,
    candidate: CandidateRef,
    rep: &mut CandidateReport,
    scratch: &mut Vec<Reason>,
) -> i64 {
    rep.candidate = candidate;
    rep.reasons.clear();
    rep.eligible_members.clear();
    let mut until = i64::MIN;
    match candidate {
        CandidateRef::Target(t) => {
            until = target_into(judge, config, ledger, call, t, None, &mut rep.reasons);
        }
        CandidateRef::Group(g) => {
            judge.own(candidate, &mut rep.reasons);
            for r in &mut rep.reasons {
                r.group = None;
            }
            call.filter(candidate, None, &mut rep.reasons);
            let members = config.groups.get(g).map_or(&[][..], |g| &g.members[..]);
            for &m in members {
                scratch.clear();
                target_into(judge, config, ledger, call, m, Some(g), scratch);
                if scratch.is_empty() && m < config.targets.len() {
                    rep.eligible_members.push(m);
                }
            }
            if rep.eligible_members.is_empty() {
                rep.reasons.push(bare(ReasonCode::NoEligibleMember, None));
            }
        }
    }
    rep.eligible = rep.reasons.is_empty();
    until
}
