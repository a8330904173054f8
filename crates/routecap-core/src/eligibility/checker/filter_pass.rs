//! Filtered calls flip reasons, not keys: a kept report whose own filter
//! verdict differs for this call gets its `filter_mismatch` pushed or
//! popped, and a kept report's call-dependent reasons are judged again.

use super::owners::Caches;
use super::step_keys::StepKeys;
use super::written::Written;
use super::Checker;
use crate::counters::Ledger;
use crate::eligibility::judged_call::JudgedCall;
use crate::eligibility::{bare, CandidateReport, ReasonCode};

impl Checker {
    /// For a call judged by filters alone, after the general path wrote
    /// every report that was not kept (each then holds its target's own
    /// filter verdict, see [`Checker::held`]): every kept report of
    /// targets `0, 1, …` below `n` (see [`Checker::identity`]) gets the
    /// call's. Those whose verdict differs from the one they hold are the
    /// set bits of one `xor` per 64 reports, and only those are written
    /// (the reason pushed, then popped, with no branch on which; step keys
    /// leave it out, so they stay).
    pub(super) fn filter_pass(&mut self, n: usize, call: &JudgedCall<'_>) {
        let Checker {
            reports,
            written,
            held,
            identity,
            ..
        } = self;
        let end = (*identity).min(n).min(reports.len());
        let refused = call.refused_bits();
        for (w, (&r, h)) in refused.iter().zip(held.iter_mut()).enumerate() {
            let mut diff = r ^ *h;
            if w * 64 + 64 > end {
                diff &= u64::MAX
                    .checked_shr((w * 64 + 64 - end) as u32)
                    .unwrap_or(0);
            }
            *h ^= diff;
            for (refused, mut bits) in [(true, diff & r), (false, diff & !r)] {
                while bits != 0 {
                    let i = w * 64 + bits.trailing_zeros() as usize;
                    bits &= bits - 1;
                    if let (Some(rep), Some(written)) = (reports.get_mut(i), written.get_mut(i)) {
                        flip_filter_reason(rep, written, refused);
                    }
                }
            }
        }
    }
}

/// Make `rep`, of an ungrouped target kept for a call judged by filters
/// alone (its only call-dependent reason is its own filter's, last),
/// hold `filter_mismatch` exactly when `refused`, which differs from what
/// it holds.
#[inline]
pub(super) fn flip_filter_reason(rep: &mut CandidateReport, written: &mut Written, refused: bool) {
    if refused {
        // room for exactly this reason the first time, not the four a
        // growing `Vec` takes: kept reports' lists stay small and close
        if rep.reasons.len() == rep.reasons.capacity() {
            rep.reasons.reserve_exact(1);
        }
        rep.reasons.push(bare(ReasonCode::FilterMismatch, None));
    } else {
        // dropped in place: nothing is moved out
        rep.reasons.truncate(rep.reasons.len().saturating_sub(1));
    }
    rep.eligible = rep.reasons.is_empty();
    *written = Written::UNKNOWN;
}

/// Judge the call-dependent reasons of kept report `rep` (ungrouped target
/// `t`: its own filter and the caller's history) again for `call`; `own`:
/// its step key leaves out its own filter's reason (see
/// [`Checker::step_keys`]). Out of line: inlined, it slowed the loop of
/// [`Checker::run`] by a fifth even for calls that never come here.
#[inline(never)]
pub(super) fn rejudge_kept(
    caches: &mut Caches,
    (rep, keys, n, written): (&mut CandidateReport, &mut StepKeys, usize, &mut Written),
    (t, own): (usize, bool),
    ledger: &Ledger,
    call: &JudgedCall<'_>,
    changed: &mut bool,
) {
    if !call.rejudge(t, &rep.reasons) {
        return;
    }
    rep.reasons.retain(|r| !r.code.is_call_dependent());
    call.target(ledger, t, None, &mut rep.reasons);
    rep.eligible = rep.reasons.is_empty();
    keys.set(n, caches.base_key(rep, own), changed);
    *written = Written::UNKNOWN;
}
