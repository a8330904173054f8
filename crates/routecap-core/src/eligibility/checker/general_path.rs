//! The general path of a decision: each candidate in turn, its report kept
//! when nothing it reads changed, else judged from its target's verdict
//! record or, for the rest (groups, grouped targets, a hold expired), built
//! by the reason builder of [`super::rules`].

use super::filter_pass::{flip_filter_reason, rejudge_kept};
use super::hours_memo::HoursMemo;
use super::owners::{Caches, Fast};
use super::quick::{same_caps, Shared, Simple, Verdict};
use super::rules::fill_report;
use super::step_keys::{bit, count_below, put_bit, StepKeys};
use super::verdict_pass::first_stale;
use super::written::{Holds, Memo, Written};
use super::zone_clock::Now;
use super::Checker;
use crate::counters::{fresh_stamp, Ledger};
use crate::eligibility::judged_call::JudgedCall;
use crate::eligibility::CandidateReport;
use crate::model::{CandidateRef, Config};
use crate::zone::Instant;

/// The candidates of one call: targets `0..identity` in order, then
/// `rest` — a config's default candidates without a list entry per
/// target (16 bytes each at a million targets).
#[derive(Clone, Copy, Debug)]
pub(super) struct Cands<'a> {
    identity: usize,
    rest: &'a [CandidateRef],
}

impl<'a> Cands<'a> {
    pub(super) fn of(identity: usize, rest: &'a [CandidateRef]) -> Self {
        Cands { identity, rest }
    }

    pub(super) fn len(&self) -> usize {
        self.identity + self.rest.len()
    }

    #[inline]
    fn get(&self, i: usize) -> Option<CandidateRef> {
        match i.checked_sub(self.identity) {
            None => Some(CandidateRef::Target(i)),
            Some(j) => self.rest.get(j).copied(),
        }
    }
}

/// What one decision reads, for each step of [`Checker::run`].
struct Decision<'d, 'c> {
    config: &'d Config,
    ledger: &'d Ledger,
    call: &'d JudgedCall<'c>,
    shared: Shared,
    /// The candidates are the default ones, whose reports are kept
    /// between decisions.
    keep: bool,
    /// Some reason may depend on the call ([`JudgedCall::active`]).
    active: bool,
    /// [`JudgedCall::filters_only`].
    filters_only: bool,
}

/// Report `n` being written, with what is kept beside it.
struct Slot<'r> {
    n: usize,
    rep: &'r mut CandidateReport,
    written: &'r mut Written,
    /// Its step key leaves out its target's own filter reason.
    own: bool,
}

impl Checker {
    /// Fill the reports of `cands`. With `keep` (the default candidates,
    /// always the same list), a target's report is kept from the previous
    /// decision when neither its counters nor anything its reasons read at
    /// this instant changed.
    pub(super) fn run(
        &mut self,
        config: &Config,
        ledger: &Ledger,
        at: Instant,
        cands: Cands<'_>,
        keep: bool,
        call: &JudgedCall<'_>,
    ) {
        let shared = self.begin(ledger, at, cands.len(), keep);
        let d = Decision {
            config,
            ledger,
            call,
            shared,
            keep,
            active: call.active(),
            filters_only: call.filters_only(),
        };
        let (targets, groups) = (config.targets.len(), config.groups.len());
        let mut changed = false;
        // the reports before `kept` are kept: the verdict pass read them
        let mut kept = 0;
        if keep && !d.active && shared.quiet {
            kept = self.verdict_pass(ledger, &shared, &mut changed);
        }
        // reports kept for a call without attributes are skipped in runs,
        // found by a branch-free scan, while report `n` is target `n`
        let runs = keep && (!d.active || d.filters_only);
        let (mut n, mut next) = (kept, kept);
        while let Some(candidate) = cands.get(next) {
            if runs && next == n && n < self.identity {
                let memo = self.memo.get(..self.identity).unwrap_or(&[]);
                let stale = first_stale(memo, ledger.stable_stamps(), n, shared.now.s);
                if stale > n {
                    (n, next) = (stale, stale);
                    continue;
                }
                // report `n` is of target `n`, not kept: judged from its
                // verdict record when below every cap or at an unchanged cap
                if !d.active && self.quick_report(n, ledger, &shared, &mut changed) {
                    (n, next) = (n + 1, n + 1);
                    continue;
                }
            }
            next += 1;
            let target = match candidate {
                CandidateRef::Target(t) if t < targets => Some(t),
                CandidateRef::Group(g) if g < groups => None,
                _ => continue,
            };
            if let (Some(t), true) = (target, runs) {
                if self.still_kept(&d, n, t, &mut changed) {
                    n += 1;
                    continue;
                }
            }
            if !self.judge(&d, n, candidate, target, &mut changed) {
                break;
            }
            n += 1;
        }
        self.finish(&d, n, changed);
    }

    /// Start a decision at `at` over `len` candidates: time going back
    /// forgets what was kept from later instants, and with `keep` there
    /// is room for one report each. Returns what the decision reads once
    /// for all targets.
    fn begin(&mut self, ledger: &Ledger, at: Instant, len: usize, keep: bool) -> Shared {
        let now = Now {
            at,
            s: at.timestamp(),
        };
        if now.s < self.latest {
            // memos hold from the instant they were made on
            self.forget();
            (self.caches.pairs.iter_mut()).for_each(|p| p.memo = HoursMemo::fresh(p.hours));
            for w in &mut self.written {
                if matches!(w.holds(), Holds::Capped { .. }) {
                    *w = Written::UNKNOWN;
                }
            }
        }
        self.latest = now.s;
        if keep && self.memo.len() < len {
            self.memo.resize(len, Memo::default());
            // one report each: room for exactly that many, not a doubling
            let more = len.saturating_sub(self.reports.len());
            self.reports.reserve_exact(more);
            self.keys.keys.reserve_exact(more);
            self.written.reserve_exact(more);
        }
        Shared {
            now,
            quiet: ledger.quiet_at(at),
            lease_bound: ledger.lease_bound(),
        }
    }

    /// End a decision that wrote `n` reports: kept reports get the call's
    /// filter verdicts, and the step keys their version and refusals.
    fn finish(&mut self, d: &Decision<'_, '_>, n: usize, changed: bool) {
        // for a call judged by filters alone, kept reports were skipped:
        // the filter pass gives them the call's verdict
        if d.keep && d.filters_only {
            self.filter_pass(n, d.call);
        }
        if changed || n != self.len {
            self.keys_version = fresh_stamp();
        }
        self.len = n;
        let bits = d.call.refused_bits();
        self.refused_upto = if d.keep && !bits.is_empty() {
            self.identity.min(n)
        } else {
            0
        };
        self.refused_keyed = count_below(bits, &self.keys.some, self.refused_upto);
    }

    /// The warm path: whether report `n`, of target `t`, is kept (nothing
    /// else read but, for a call judged by filters alone, the target's own
    /// filter, whose reason is flipped when its verdict changed).
    #[inline]
    fn still_kept(&mut self, d: &Decision<'_, '_>, n: usize, t: usize, changed: &mut bool) -> bool {
        let Some(m) = self.memo.get(n) else {
            return false;
        };
        let now = d.shared.now.s;
        if m.stamp == 0 || now >= m.until || d.ledger.stable_stamp(t) != Some(m.stamp) {
            return false;
        }
        // reports below `identity` had theirs in the filter pass
        if d.active && n >= self.identity {
            if let (Some(rep), Some(written)) = (self.reports.get_mut(n), self.written.get_mut(n)) {
                let refused = d.call.refuses(t);
                if bit(&self.held, n) != refused {
                    flip_filter_reason(rep, written, refused);
                    put_bit(&mut self.held, n, refused);
                    let key = self.caches.step_key(rep);
                    self.keys.set(n, key, changed);
                }
            }
        }
        true
    }

    /// A new report for `candidate`, with its step key, what it holds and
    /// its filter bit.
    fn push_report(&mut self, candidate: CandidateRef) {
        self.reports.push(CandidateReport {
            candidate,
            eligible: true,
            reasons: Vec::new(),
            eligible_members: Vec::new(),
        });
        self.keys.push();
        self.written.push(Written::UNKNOWN);
        if self.reports.len() > self.held.len() * 64 {
            self.held.push(0);
        }
    }

    /// Write report `n`, of `candidate` (`target`: its index when it is a
    /// target), which the warm path did not find kept, and set its memo.
    /// `false`: no report `n` to write.
    #[inline]
    fn judge(
        &mut self,
        d: &Decision<'_, '_>,
        n: usize,
        candidate: CandidateRef,
        target: Option<usize>,
        changed: &mut bool,
    ) -> bool {
        if n == self.reports.len() {
            self.push_report(candidate);
        }
        // the report is written below: it holds its target's own filter
        // reason iff that filter refuses the call, and below `identity`
        // its step key leaves that reason out
        let own = target.is_some_and(|t| d.call.refuses(t));
        put_bit(&mut self.held, n, own);
        let own = own && d.keep && n < self.identity;
        let Checker {
            caches,
            keys,
            reports,
            written,
            memo,
            scratch,
            ..
        } = self;
        let (Some(rep), Some(written)) = (reports.get_mut(n), written.get_mut(n)) else {
            return false;
        };
        let memo = if d.keep { memo.get_mut(n) } else { None };
        let mut slot = Slot {
            n,
            rep,
            written,
            own,
        };
        if let (Some(t), Some(m)) = (target, memo.as_deref()) {
            let stamp = d.ledger.stable_stamp(t);
            if m.stamp != 0 && Some(m.stamp) == stamp && d.shared.now.s < m.until {
                // kept reports are of ungrouped targets: only their own
                // call-dependent reasons can differ
                if d.call.active() {
                    let k = (slot.rep, &mut *keys, n, slot.written);
                    rejudge_kept(caches, k, (t, own), d.ledger, d.call, changed);
                }
                return true;
            }
        }
        let settled = target.and_then(|t| {
            let simple = verdict(caches, d, t, &mut slot)?;
            Some(write_simple(
                caches,
                keys,
                d,
                (candidate, t),
                simple,
                &mut slot,
                changed,
            ))
        });
        let until = match settled {
            Some(until) => until,
            None => {
                let mut judge = Fast {
                    caches: &mut *caches,
                    config: d.config,
                    ledger: d.ledger,
                    now: d.shared.now,
                };
                let (config, ledger) = (d.config, d.ledger);
                let rep = &mut *slot.rep;
                let until =
                    fill_report(&mut judge, config, ledger, d.call, candidate, rep, scratch);
                keys.set(n, caches.base_key(slot.rep, own), changed);
                *slot.written = Written::UNKNOWN;
                until
            }
        };
        if let Some(m) = memo {
            *m = kept_until(caches, d, target, until);
        }
        true
    }
}

/// The verdict on target `t` for report `slot`, from its verdict record,
/// or from its own reasons alone (built into the report when a cap is
/// reached); `None`: left to the reason builder.
#[inline]
fn verdict(
    caches: &mut Caches,
    d: &Decision<'_, '_>,
    t: usize,
    slot: &mut Slot<'_>,
) -> Option<Simple> {
    let reasons = &mut slot.rep.reasons;
    match caches.quick(t, d.ledger, &d.shared) {
        Some(Verdict::Below(plain, until)) => Some(Simple::Plain(plain, until)),
        Some(Verdict::Reached(reached, use_)) => match slot.written.holds() {
            // the same cap use while the windows and hours hold: the
            // report built from it stands
            Holds::Capped { target, until }
                if !d.active
                    && d.shared.now.s < until
                    && usize::try_from(target) == Ok(t + 1)
                    && same_caps(reasons, reached, &use_) =>
            {
                Some(Simple::Kept(until))
            }
            _ => match caches.simple(t, (d.config, d.ledger), &d.shared, reasons)? {
                Simple::Built(until) => {
                    let target = u32::try_from(t + 1).unwrap_or(0);
                    Some(Simple::Capped(target, until))
                }
                other => Some(other),
            },
        },
        None => caches.simple(t, (d.config, d.ledger), &d.shared, reasons),
    }
}

/// Write `simple`, the verdict on `candidate` (target `t`), into `slot`
/// with the call's reasons, unless it holds it already. Returns until
/// when it holds while the target's counters do.
#[inline]
fn write_simple(
    caches: &Caches,
    keys: &mut StepKeys,
    d: &Decision<'_, '_>,
    (candidate, t): (CandidateRef, usize),
    simple: Simple,
    slot: &mut Slot<'_>,
    changed: &mut bool,
) -> i64 {
    let rep = &mut *slot.rep;
    let (holds, until) = match simple {
        Simple::Kept(until) => return until,
        Simple::Plain(plain, until) => {
            if !d.active && *slot.written == Written::from(Holds::Plain(plain)) {
                return until;
            }
            rep.reasons.clear();
            plain.write(&mut rep.reasons);
            (Holds::Plain(plain), until)
        }
        Simple::Capped(target, until) if target != 0 => (Holds::Capped { target, until }, until),
        Simple::Built(until) | Simple::Capped(_, until) => (Holds::Unknown, until),
    };
    rep.candidate = candidate;
    rep.eligible_members.clear();
    // in no group: only its own call-dependent reasons
    d.call.target(d.ledger, t, None, &mut rep.reasons);
    rep.eligible = rep.reasons.is_empty();
    keys.set(slot.n, caches.base_key(rep, slot.own), changed);
    *slot.written = if d.active {
        Written::UNKNOWN
    } else {
        holds.into()
    };
    until
}

/// The memo of a report written with reasons that hold `until` (Unix
/// seconds) while the counters of its target do: a group's report, or a
/// grouped target's, reads other owners' counters too and is never kept.
#[inline]
fn kept_until(caches: &Caches, d: &Decision<'_, '_>, target: Option<usize>, until: i64) -> Memo {
    let kept = target.filter(|&t| caches.hot.get(t).is_some_and(|h| !h.grouped));
    let ledger = d.ledger;
    // live calls also change by time alone: a lease or the imported live
    // calls running out
    match kept.and_then(|t| Some((ledger.stable_stamp(t)?, ledger.target(t)?))) {
        Some((stamp, c)) => Memo {
            stamp,
            until: until.min(d.shared.lease_bound).min(c.imported_bound()),
        },
        None => Memo::default(),
    }
}
