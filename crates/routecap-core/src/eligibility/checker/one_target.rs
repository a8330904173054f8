//! Decisions that read each owner once: the re-check of one target (a
//! connect) and a one-shot check of a small config. The same rules of
//! [`super::rules`], each owner's own reasons built by [`Owner::reasons`]
//! on a zone clock made for it at the instant. Interning zones and
//! schedules into caches (as the checker does for a config it judges many
//! times, or a large one whose owners share zones) would cost more than it
//! saves here.

use super::hours_memo::NO_REOPEN;
use super::own_reasons::{Caps, Owner};
use super::rules::{fill_report, target_into, Judge};
use super::zone_clock::{Cached, Now, ZoneClock};
use super::Checker;
use crate::counters::Ledger;
use crate::eligibility::judged_call::JudgedCall;
use crate::eligibility::{CandidateReport, Reason};
use crate::model::{CandidateRef, Config};
use crate::zone::Instant;

/// The reason builder's source of each owner's own reasons when one
/// target is judged: read from the config at the instant, nothing kept.
struct OneTarget<'a> {
    config: &'a Config,
    ledger: &'a Ledger,
    now: Now,
}

impl Judge for OneTarget<'_> {
    fn paused(&self, t: usize) -> bool {
        self.config.targets.get(t).is_some_and(|t| t.paused)
    }

    fn own(&mut self, owner: CandidateRef, out: &mut Vec<Reason>) -> i64 {
        let (zone, hours, caps, matrix, group) = match owner {
            CandidateRef::Target(t) => {
                let Some(t) = self.config.targets.get(t) else {
                    return i64::MIN;
                };
                let caps = Caps::of(&t.limits());
                (&t.zone, &t.hours, caps, t.concurrency_matrix(), None)
            }
            CandidateRef::Group(g) => {
                let Some(group) = self.config.groups.get(g) else {
                    return i64::MIN;
                };
                let caps = Caps::of(&group.limits);
                let matrix = group.concurrency_matrix.as_ref();
                (&group.zone, &group.hours, caps, matrix, Some(g))
            }
        };
        let (counters, held, live) = self.ledger.counters(owner, self.now.at);
        let mut clock = ZoneClock::new(zone.clone());
        clock.refresh(self.now.at, self.now.s);
        let owner = Owner {
            hours: hours.as_deref(),
            caps: &caps,
            matrix,
            counters,
            held,
            live,
            group,
        };
        let mut reopen = NO_REOPEN;
        let mut cached = Cached {
            clock: &mut clock,
            at: self.now.at,
            reopen: &mut reopen,
            counters,
        };
        owner.reasons(&mut cached, out);
        // nothing is kept from a re-check: no bound computed
        i64::MIN
    }
}

/// Below this many owners (targets and groups) a one-shot check reads
/// each owner on its own clock ([`Checker::once_uncached`]); from it on,
/// the checker's caches pay for themselves (owners share zones and
/// schedules). Measured with `check/oneshot/targets/{10,1000}`.
pub(super) const ONE_SHOT_CACHES_FROM: usize = 32;

impl Checker {
    /// The reports of one decision at `at` on `cands` (`None`: the
    /// config's default candidates), each owner read once on its own clock.
    pub(super) fn once_uncached(
        config: &Config,
        ledger: &Ledger,
        at: Instant,
        cands: Option<&[CandidateRef]>,
        call: &JudgedCall<'_>,
    ) -> Vec<CandidateReport> {
        let defaults;
        let cands = match cands {
            Some(cands) => cands,
            None => {
                defaults = config.default_candidates();
                &defaults
            }
        };
        let mut judge = OneTarget {
            config,
            ledger,
            now: Now {
                at,
                s: at.timestamp(),
            },
        };
        let mut scratch = Vec::new();
        let mut reports = Vec::with_capacity(cands.len());
        for &candidate in cands {
            let known = match candidate {
                CandidateRef::Target(t) => t < config.targets.len(),
                CandidateRef::Group(g) => g < config.groups.len(),
            };
            if !known {
                // as the checker: no report for an owner outside the config
                continue;
            }
            let mut rep = CandidateReport {
                candidate,
                eligible: false,
                reasons: Vec::new(),
                eligible_members: Vec::new(),
            };
            fill_report(
                &mut judge,
                config,
                ledger,
                call,
                candidate,
                &mut rep,
                &mut scratch,
            );
            reports.push(rep);
        }
        reports
    }

    /// Append to `out` every reason target `t` is not eligible at `at` for
    /// `call`: `paused`, its own, its groups', then the call's. Reads that
    /// target and its groups alone (a re-check of one target, a connect).
    pub(crate) fn target_reasons(
        config: &Config,
        ledger: &Ledger,
        at: Instant,
        call: &JudgedCall<'_>,
        t: usize,
        out: &mut Vec<Reason>,
    ) {
        let now = Now {
            at,
            s: at.timestamp(),
        };
        let mut judge = OneTarget {
            config,
            ledger,
            now,
        };
        target_into(&mut judge, config, ledger, call, t, None, out);
    }
}
