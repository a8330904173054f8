//! Per-target verdict records: what the verdict on a target in no group
//! and without a concurrency matrix reads, in 40 bytes, so that a decision
//! settles most targets with a few compares and builds reasons only for
//! the ones at a cap.

use chrono::DateTime;

use super::hours_memo::HoursMemo;
use super::own_reasons::{Caps, Owner};
use super::owners::{Caches, Hot};
use super::zone_clock::{Cached, Now};
use crate::caps::Period;
use crate::counters::Ledger;
use crate::eligibility::{bare, Amount, Reason, ReasonCode};
use crate::model::Config;
use crate::money::Money;

/// What the verdict on a target in no group and without a concurrency
/// matrix reads from the config, in 40 bytes (the general [`Hot`] takes
/// 96): its limits as plain numbers next to a bit set of the ones set, so
/// that a verdict is a few compares without branches. Every target has
/// one.
#[derive(Clone, Copy, Debug)]
pub(super) struct Quick {
    /// Count limits: hour, day, month, total, concurrency.
    pub(super) counts: [u32; 5],
    /// The one revenue limit (see `rev`).
    pub(super) revenue: Money,
    /// Index into `Caches::pairs`: its hours verdict.
    pub(super) pair: u32,
    /// Index into `Caches::clocks` (the pair's, read without going
    /// through the pair).
    pub(super) clock: u16,
    /// Bits 0–4: count limits set (as in `counts`); bit 5: revenue limit.
    pub(super) set: u8,
    /// Which revenue `revenue` limits: hour, day, month, total.
    pub(super) rev: u8,
    /// Periods whose window ends bound the verdict (bit `i`:
    /// `Period::ALL[i]`): those with a set count or revenue limit.
    pub(super) periods: u8,
    pub(super) paused: bool,
    /// Judged by [`Caches::quick`]: in no group, no concurrency matrix, at
    /// most one revenue limit, count limits below 2^32.
    pub(super) on: bool,
}

impl Quick {
    /// The set limits `use_` reaches (bits as in `set`).
    #[inline]
    pub(super) fn reached(&self, use_: &CapUse) -> u8 {
        let mut reached = 0u8;
        for (i, (&used, &lim)) in use_.used.iter().zip(&self.counts).enumerate() {
            reached |= u8::from(used >= u64::from(lim)) << i;
        }
        reached |= u8::from(use_.revenue >= self.revenue) << 5;
        reached & self.set
    }

    pub(super) fn of(hot: &Hot, caps: &Caps) -> Self {
        let mut q = Quick {
            counts: [0; 5],
            revenue: Money::ZERO,
            pair: hot.pair,
            clock: hot.clock,
            set: 0,
            rev: 0,
            periods: 0,
            paused: hot.paused,
            on: !hot.grouped && !hot.matrix,
        };
        let limits = [caps.count(0), caps.count(1), caps.count(2), caps.count(3)];
        for (i, lim) in limits.into_iter().chain([caps.concurrency()]).enumerate() {
            if let (Some(lim), Some(slot)) = (lim, q.counts.get_mut(i)) {
                match u32::try_from(lim) {
                    Ok(lim) => *slot = lim,
                    Err(_) => q.on = false,
                }
                q.set |= 1 << i;
            }
        }
        let mut revenues = (0..4u8).filter_map(|i| Some((i, caps.revenue(usize::from(i))?)));
        if let Some((i, lim)) = revenues.next() {
            (q.rev, q.revenue) = (i, lim);
            q.set |= 1 << 5;
        }
        q.on &= revenues.next().is_none();
        q.periods = caps.periods();
        q
    }
}

/// A target's report whose reasons are at most `paused` then `closed`
/// (until `reopen`, Unix seconds, when `reopens`), as a value: a report
/// already holding it is not written again. `target` is the index plus
/// one; 0 marks no such report. 16 bytes, so that [`Written`] is too.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Plain {
    pub(super) target: u32,
    pub(super) paused: bool,
    pub(super) closed: bool,
    pub(super) reopens: bool,
    /// 0 unless `reopens`, so that equal reports are equal values.
    pub(super) reopen: i64,
}

impl Plain {
    pub(super) fn new(target: u32, paused: bool, closed: bool, reopen: Option<i64>) -> Self {
        Plain {
            target,
            paused,
            closed,
            reopens: reopen.is_some(),
            reopen: reopen.unwrap_or(0),
        }
    }

    /// Its own reasons, in [`ReasonCode`] order.
    pub(super) fn write(&self, out: &mut Vec<Reason>) {
        if self.paused || self.closed {
            out.reserve_exact(usize::from(self.paused) + usize::from(self.closed));
        }
        if self.paused {
            out.push(bare(ReasonCode::Paused, None));
        }
        if self.closed {
            out.push(Reason {
                until: (self.reopens)
                    .then_some(self.reopen)
                    .and_then(|s| DateTime::from_timestamp(s, 0)),
                ..bare(ReasonCode::Closed, None)
            });
        }
    }
}

/// What [`Caches::quick`] found.
pub(super) enum Verdict {
    /// Below every cap: its report, and until when (Unix seconds,
    /// exclusive) it holds while the counters do.
    Below(Plain, i64),
    /// Some caps reached (bits as in [`Quick::set`]), with what the caps
    /// read.
    Reached(u8, CapUse),
}

/// What the caps of a [`Quick`] target read at an instant: counts with
/// held units (hour, day, month, total, live calls) and its one revenue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct CapUse {
    pub(super) used: [u64; 5],
    pub(super) revenue: Money,
}

/// Whether `reasons`, built for a [`Quick`] target at a cap (pause, hours
/// and windows unchanged since, see [`Holds::Capped`]), name exactly the
/// caps `reached` (bits as in [`Quick::set`]) with the use in `use_`.
pub(super) fn same_caps(reasons: &[Reason], reached: u8, use_: &CapUse) -> bool {
    let mut seen = 0u8;
    for r in reasons {
        let count = |i: usize| (i, use_.used.get(i).map(|&u| Amount::Count(u)));
        let (bit, used) = match r.code {
            ReasonCode::HourlyCap => count(0),
            ReasonCode::DailyCap => count(1),
            ReasonCode::MonthlyCap => count(2),
            ReasonCode::TotalCap => count(3),
            ReasonCode::ConcurrencyCap => count(4),
            ReasonCode::HourlyRevenueCap
            | ReasonCode::DailyRevenueCap
            | ReasonCode::MonthlyRevenueCap
            | ReasonCode::TotalRevenueCap => (5, Some(Amount::Money(use_.revenue))),
            _ => continue,
        };
        if r.used != used || r.group.is_some() {
            return false;
        }
        seen |= 1 << bit;
    }
    seen == reached
}

/// What [`Caches::simple`] found, with until when (Unix seconds,
/// exclusive) the target's own reasons stay the same while its counters do.
pub(super) enum Simple {
    /// No cap reached: these reasons (none when eligible).
    Plain(Plain, i64),
    /// Some cap reached: the reasons are built.
    Built(i64),
    /// [`Simple::Built`] for target `.0 - 1` of a [`Quick`] record.
    Capped(u32, i64),
    /// The report already holds these reasons (see [`Holds::Capped`]).
    Kept(i64),
}

/// What a decision reads once for all targets.
#[derive(Clone, Copy, Debug)]
pub(super) struct Shared {
    pub(super) now: Now,
    /// No hold expired and no lease ran out at `now` ([`Ledger::quiet_at`]).
    pub(super) quiet: bool,
    /// [`Ledger::lease_bound`].
    pub(super) lease_bound: i64,
}

impl Caches {
    /// The verdict on target `t` from its [`Quick`] record, its zone's
    /// prepared windows, its hours memo and one read of its counters.
    /// `None`: left to [`Caches::simple`] (a hold expired or a lease lapsed
    /// at the instant, grouped, a matrix, or reopening at no whole second).
    #[inline]
    pub(super) fn quick(&mut self, t: usize, ledger: &Ledger, shared: &Shared) -> Option<Verdict> {
        let q = self.quick.get(t)?;
        if !q.on || !shared.quiet {
            return None;
        }
        let now = shared.now;
        let clock = self.clocks.get_mut(usize::from(q.clock))?;
        clock.prepare_for(now);
        let pair = self.pairs.get_mut(q.pair as usize)?;
        let HoursMemo { open, until } = pair.hours_at(&self.schedules, clock, now.s);
        let until = until.min(*clock.ends_min.get(usize::from(q.periods & 7))?);
        let c = ledger.target(t)?;
        let (used, revenue) = c.use_quiet(&clock.starts, now.at);
        let use_ = CapUse {
            used,
            revenue: *revenue.get(usize::from(q.rev & 3))?,
        };
        let reached = q.reached(&use_);
        if reached != 0 {
            return Some(Verdict::Reached(reached, use_));
        }
        let reopen = match self.schedules.get(pair.hours as usize) {
            Some(h) if !open => {
                let mut cached = Cached {
                    clock,
                    at: now.at,
                    reopen: &mut pair.reopen,
                    counters: c,
                };
                cached.next_open_secs(h)?
            }
            _ => None,
        };
        let target = u32::try_from(t).ok()?.checked_add(1)?;
        let plain = Plain::new(target, q.paused, !open, reopen);
        Some(Verdict::Below(plain, until))
    }

    /// The verdict on target `t` when its reasons are its own alone (in no
    /// group, no concurrency matrix, no hold expired nor lease lapsed at
    /// the instant); `None` otherwise, left to the reason builder. It is
    /// decided from per-zone windows and a per-target hours memo first:
    /// with no cap reached the reasons are at most `paused` and `closed`
    /// ([`Simple::Plain`], nothing built); otherwise `out` is cleared and
    /// gets `paused`, then [`Owner::reasons`] ([`Simple::Built`]).
    #[inline]
    pub(super) fn simple(
        &mut self,
        t: usize,
        (config, ledger): (&Config, &Ledger),
        shared: &Shared,
        out: &mut Vec<Reason>,
    ) -> Option<Simple> {
        let hot = *self.hot.get(t)?;
        if hot.matrix || hot.grouped || !shared.quiet {
            return None;
        }
        let caps = self.caps_of(t, config)?;
        let clock = self.clocks.get_mut(usize::from(hot.clock))?;
        let now = shared.now;
        clock.refresh(now.at, now.s);
        let hours = self.schedules.get(hot.hours as usize);
        let pair = self.pairs.get_mut(hot.pair as usize)?;
        let HoursMemo { open, mut until } = pair.hours_at(&self.schedules, clock, now.s);
        let c = ledger.target(t)?;
        let held = c.held_units();
        let mut below = true;
        for (i, p) in Period::ALL.into_iter().enumerate() {
            let (count, revenue) = (caps.count(i), caps.revenue(i));
            if count.is_none() && revenue.is_none() {
                continue;
            }
            let (start, end) = clock.bound_or(i, Some(c));
            until = until.min(end);
            below &= count.is_none_or(|lim| c.count_in(p, start).saturating_add(held) < lim);
            below &= revenue.is_none_or(|lim| c.revenue_in(p, start) < lim);
        }
        let live = c.live_quiet(now.at);
        below &= !(caps
            .count(3)
            .is_some_and(|lim| c.total().saturating_add(held) >= lim)
            || caps.revenue(3).is_some_and(|lim| c.total_revenue() >= lim)
            || (caps.concurrency()).is_some_and(|lim| live.saturating_add(held) >= lim));
        let mut clock = Cached {
            clock,
            at: now.at,
            reopen: &mut pair.reopen,
            counters: c,
        };
        let reopen = match hours {
            Some(h) if below && !open => clock.next_open_secs(h),
            _ => Some(None),
        };
        if let (true, Some(reopen)) = (below, reopen) {
            let target = u32::try_from(t).ok()?.checked_add(1)?;
            let plain = Plain::new(target, hot.paused, !open, reopen);
            return Some(Simple::Plain(plain, until));
        }
        out.clear();
        // most reports have one reason: room for one, not the four a
        // first push makes room for (88 bytes each), at a million targets
        if out.capacity() == 0 {
            out.reserve_exact(1);
        }
        let room = out.capacity();
        if hot.paused {
            out.push(bare(ReasonCode::Paused, None));
        }
        Owner {
            hours,
            caps: &caps,
            matrix: None,
            counters: c,
            held,
            live,
            group: None,
        }
        .reasons(&mut clock, out);
        // grown past the most it ever held: to exactly what it holds now
        // (a later decision with as many reasons does not allocate)
        if out.capacity() > room {
            out.shrink_to_fit();
        }
        Some(Simple::Built(until))
    }
}
