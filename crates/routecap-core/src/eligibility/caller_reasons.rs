//! The reasons a caller's history gives (`duplicate_caller`,
//! `repeat_caller`) and the report an `original` repeat caller rings first:
//! where the caller rules ([`crate::caller_history`]) meet eligibility, kept here
//! so the history depends on nothing that judges it.

use crate::caller_history::{plus, within, Basis, CallerHistory, CallerView, RepeatMode};
use crate::eligibility::{CandidateReport, Reason, ReasonCode};
use crate::filter::CallAttrs;
use crate::model::{CandidateRef, Config};
use crate::zone::{fmt_instant, Instant};

impl CallerView<'_> {
    /// Append `duplicate_caller` and `repeat_caller` for target `t`.
    /// Kept out of line: the hot loops of the checker inline their callers.
    #[inline(never)]
    pub(crate) fn reasons(&self, t: usize, out: &mut Vec<Reason>) {
        let Some(visit) = self.visits.iter().find(|v| v.target == t) else {
            return;
        };
        if let Some(rule) = self.config.targets.get(t).and_then(|t| t.duplicates()) {
            let event = match rule.basis {
                Basis::Connect => visit.connected,
                Basis::Convert => visit.converted,
            };
            if let Some(e) = event.filter(|&e| within(e, rule.window, self.at)) {
                let verb = match rule.basis {
                    Basis::Connect => "connected",
                    Basis::Convert => "converted",
                };
                out.push(self.reason(ReasonCode::DuplicateCaller, verb, e, rule.window));
            }
        }
        if let Some(rule) = self.repeat.filter(|r| r.mode == RepeatMode::Different) {
            if let Some(e) = visit.connected.filter(|&e| within(e, rule.window, self.at)) {
                out.push(self.reason(ReasonCode::RepeatCaller, "connected", e, rule.window));
            }
        }
    }

    fn reason(&self, code: ReasonCode, verb: &str, event: Instant, window: u64) -> Reason {
        Reason {
            code,
            group: None,
            used: None,
            limit: None,
            until: Some(plus(event, window)),
            detail: Some(format!(
                "caller {} {verb} at {} (window {window} s)",
                self.caller,
                fmt_instant(event)
            )),
        }
    }
}

/// For a call whose repeat rule is `original`: the index of the report to
/// ring first — the routable report of the target the caller last
/// connected to within the window, or of the simultaneous group that
/// rings it. `None` when the rule does not apply or that target is not
/// eligible for this call.
pub fn original_report(
    config: &Config,
    history: &CallerHistory,
    attrs: &CallAttrs,
    at: Instant,
    reports: &[CandidateReport],
) -> Option<usize> {
    let t = CallerView::new(config, history, attrs, at)?.original()?;
    reports.iter().position(|r| {
        r.is_routable()
            && match r.candidate {
                CandidateRef::Target(x) => x == t,
                CandidateRef::Group(_) => r.eligible_members.contains(&t),
            }
    })
}
