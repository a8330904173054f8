//! The verdict pass: a cold decision for a call without attributes judges
//! every lapsed report of targets `0, 1, …` from its compact record in one
//! pass over the arrays, and a warm one skips kept reports eight at a time.

use super::hours_memo::{HoursMemo, Pair};
use super::owners::{Caches, Hot};
use super::quick::{same_caps, CapUse, Plain, Quick, Shared, Verdict};
use super::step_keys::{put_bit, StepKeys};
use super::written::{rewrite_plain, Holds, Memo, Written};
use super::zone_clock::{contains, Now, ZoneClock};
use super::Checker;
use crate::counters::{Counters, Ledger};
use crate::eligibility::CandidateReport;
use crate::hours::WeeklyHours;
use crate::model::CandidateRef;
use crate::money::Money;

impl Checker {
    /// One pass over the reports of targets `0, 1, …` (the default
    /// candidates' first ones, see [`Checker::identity`]) for a call
    /// without attributes, at an instant where no hold expired nor lease
    /// lapsed: each report not kept gets its [`Quick`] verdict from its
    /// record, its zone's prepared windows, its pair's hours memo and its
    /// counters; a report whose verdict did not change is not touched,
    /// and its memo is set. What this pass cannot settle (a cap reached
    /// with another use, a reopening not cached, no record) keeps a stale
    /// memo and is left to the general path after it.
    ///
    /// Laid out for a cold decision, where every report lapsed: every zone
    /// is prepared before the pass, the lapsed reports of each eight are
    /// found as a bit set (no branch per report), and the verdict of one
    /// is straight-line code up to the rare cases (a cap reached, hours
    /// past their memo, a reopening not cached, a verdict that changed).
    ///
    /// Returns how many reports from the first on are kept (their memos
    /// hold): the general path starts after them instead of scanning them
    /// again.
    pub(super) fn verdict_pass(
        &mut self,
        ledger: &Ledger,
        shared: &Shared,
        changed: &mut bool,
    ) -> usize {
        let Checker {
            caches,
            reports,
            keys,
            memo,
            written,
            held,
            identity,
            ..
        } = self;
        let Caches {
            clocks,
            schedules,
            hot,
            pairs,
            quick,
            ..
        } = caches;
        let now = shared.now;
        let (stable, counters) = (ledger.stable_stamps(), ledger.target_counters());
        let end = (*identity).min(reports.len()).min(memo.len());
        let (Some(memo), Some(stable), Some(quick), Some(counters), Some(written)) = (
            memo.get_mut(..end),
            stable.get(..end),
            quick.get(..end),
            counters.get(..end),
            written.get_mut(..end),
        ) else {
            return 0;
        };
        let mut pass = Pass {
            clocks,
            schedules,
            hot,
            pairs,
            reports,
            keys,
            held,
            now,
            changed,
        };
        // the first report left lapsed, to the general path
        let mut left = end;
        let mut next = 0;
        while next < end {
            // kept reports are skipped eight at a time; lapsed ones are
            // judged in a run until the next kept one
            let mut t = first_stale(memo, stable, next, now.s);
            while let (Some(m), Some(&stamp), Some(q), Some(c), Some(written)) = (
                memo.get_mut(t),
                stable.get(t),
                quick.get(t),
                counters.get(t),
                written.get_mut(t),
            ) {
                if !m.lapsed(stamp, now.s) {
                    break;
                }
                t += 1;
                let t = t - 1;
                let Some(until) = pass.settle(t, q, c, written) else {
                    left = left.min(t);
                    continue;
                };
                *m = match stamp {
                    0 => Memo::default(),
                    stamp => Memo {
                        stamp,
                        until: until.min(shared.lease_bound).min(c.imported_bound()),
                    },
                };
                if stamp == 0 {
                    left = left.min(t);
                }
            }
            next = t + 1;
        }
        left
    }

    /// Report `n`, of target `n` (kept reports, a call without attributes),
    /// judged by [`Caches::quick`]: written only when its verdict differs
    /// from what it holds, kept as is at an unchanged cap use, and its
    /// memo set. `false`: nothing done, left to the general path (not a
    /// [`Quick`] target, or a cap reached with another use: reasons built).
    #[inline]
    pub(super) fn quick_report(
        &mut self,
        n: usize,
        ledger: &Ledger,
        shared: &Shared,
        changed: &mut bool,
    ) -> bool {
        let (Some(rep), Some(written), Some(memo)) = (
            self.reports.get_mut(n),
            self.written.get_mut(n),
            self.memo.get_mut(n),
        ) else {
            return false;
        };
        let until = match self.caches.quick(n, ledger, shared) {
            Some(Verdict::Below(plain, until)) => {
                if *written != Written::from(Holds::Plain(plain)) {
                    rep.candidate = CandidateRef::Target(n);
                    rep.eligible_members.clear();
                    rep.reasons.clear();
                    plain.write(&mut rep.reasons);
                    rep.eligible = rep.reasons.is_empty();
                    self.keys.set(n, self.caches.step_key(rep), changed);
                    *written = Holds::Plain(plain).into();
                    put_bit(&mut self.held, n, false);
                }
                until
            }
            Some(Verdict::Reached(reached, use_)) => match written.holds() {
                Holds::Capped { target, until }
                    if shared.now.s < until
                        && usize::try_from(target) == Ok(n + 1)
                        && same_caps(&rep.reasons, reached, &use_) =>
                {
                    until
                }
                _ => return false,
            },
            None => return false,
        };
        let Some(c) = ledger.target(n) else {
            return false;
        };
        *memo = match ledger.stable_stamp(n) {
            Some(stamp) => Memo {
                stamp,
                until: until.min(shared.lease_bound).min(c.imported_bound()),
            },
            None => Memo::default(),
        };
        true
    }
}

/// The first report index at or after `from` whose kept report does not
/// hold at `now` (see [`Memo`]), report `i` being of target `i` with
/// stable stamp `stable[i]`; the end of `memo` or `stable` when all hold.
/// Eight reports at a time without branches: a warm decision is this scan.
#[inline]
pub(super) fn first_stale(memo: &[Memo], stable: &[u64], from: usize, now: i64) -> usize {
    const W: usize = 8;
    let (Some(memo), Some(stable)) = (memo.get(from..), stable.get(from..)) else {
        return from;
    };
    let n = memo.len().min(stable.len());
    let stale = |m: &Memo, &s: &u64| (m.stamp == 0) | (now >= m.until) | (s != m.stamp);
    // after a change most reports are stale: the first one answers
    if memo
        .first()
        .zip(stable.first())
        .is_some_and(|(m, s)| stale(m, s))
    {
        return from;
    }
    let mut i = 0;
    for (m, s) in memo.chunks_exact(W).zip(stable.chunks_exact(W)) {
        if m.iter().zip(s).fold(false, |any, (m, s)| any | stale(m, s)) {
            break;
        }
        i += W;
    }
    let rest = memo.iter().zip(stable).skip(i);
    from + i + rest.take_while(|(m, s)| !stale(m, s)).count().min(n - i)
}

/// What the verdict pass reads and writes beside each report's own record,
/// borrowed out of the [`Checker`] for the pass.
struct Pass<'p> {
    clocks: &'p mut [ZoneClock],
    schedules: &'p [WeeklyHours],
    hot: &'p [Hot],
    pairs: &'p mut [Pair],
    reports: &'p mut [CandidateReport],
    keys: &'p mut StepKeys,
    held: &'p mut [u64],
    now: Now,
    changed: &'p mut bool,
}

impl Pass<'_> {
    /// The verdict on report `t` (lapsed) of target `t` from its record
    /// `q` and its counters `c`, written when it differs from the one the
    /// report holds (`written`). Returns until when it holds while the
    /// counters do; `None`: left to the general path (no record, a cap
    /// reached with another use, a reopening not cached).
    #[inline]
    fn settle(&mut self, t: usize, q: &Quick, c: &Counters, written: &mut Written) -> Option<i64> {
        let now = self.now;
        let clock = self.clocks.get_mut(usize::from(q.clock)).filter(|_| q.on)?;
        let pair = self.pairs.get_mut(q.pair as usize)?;
        clock.prepare_for(now);
        let HoursMemo { open, until } = pair.hours_at(self.schedules, clock, now.s);
        let ends = clock.ends_min.get(usize::from(q.periods & 7));
        let until = until.min(ends.copied().unwrap_or(i64::MIN));
        let (used, revenue) = c.use_quiet(&clock.starts, now.at);
        let revenue = revenue.get(usize::from(q.rev & 3)).copied();
        let use_ = CapUse {
            used,
            revenue: revenue.unwrap_or(Money::ZERO),
        };
        let reached = q.reached(&use_);
        if reached != 0 {
            // kept while the same caps are reached with the same use
            let same = |rep: &CandidateReport| same_caps(&rep.reasons, reached, &use_);
            return match written.holds() {
                Holds::Capped { target, until: u }
                    if now.s < u
                        && usize::try_from(target) == Ok(t + 1)
                        && self.reports.get(t).is_some_and(same) =>
                {
                    Some(u)
                }
                _ => None,
            };
        }
        let reopen = pair.reopen;
        if !(open || contains((reopen.from, reopen.until), now.s)) {
            return None;
        }
        let target = u32::try_from(t + 1).unwrap_or(0);
        let reopen = (!open).then_some(reopen.until);
        let plain = Plain::new(target, q.paused, !open, reopen);
        if *written != Written::from(Holds::Plain(plain)) {
            let rep = self.reports.get_mut(t)?;
            rewrite_plain(rep, t, plain);
            let step = rep.is_routable().then(|| self.hot.get(t)).flatten();
            self.keys
                .set(t, step.map(|h| (h.priority, h.weight)), self.changed);
            *written = Holds::Plain(plain).into();
            put_bit(self.held, t, false);
        }
        Some(until)
    }
}
