//! The reasons of one owner itself (hours and caps, not `paused` nor its
//! groups'): the one place the cap and hours rules are written, read by
//! the general path and by every target whose verdict the compact records
//! of [`super::quick`] cannot settle alone.

use super::zone_clock::Cached;
use crate::caps::{ConcurrencyMatrix, Limits, Period};
use crate::counters::Counters;
use crate::eligibility::{Amount, Reason, ReasonCode};
use crate::hours::WeeklyHours;
use crate::money::Money;
use crate::zone::Instant;

/// An owner's [`Limits`] in 80 bytes: what eligibility reads per owner per
/// decision, kept compact so that the [`Checker`](super::Checker) can store it contiguously.
#[derive(Clone, Copy, Debug)]
pub(super) struct Caps {
    /// Bit `i` set: `counts[i]` is a limit (0..4), `revenue[i - 4]` (4..8),
    /// `concurrency` (8).
    pub(super) set: u16,
    /// Hourly, daily, monthly, total call counts.
    pub(super) counts: [u64; 4],
    /// Hourly, daily, monthly, total revenue.
    pub(super) revenue: [Money; 4],
    pub(super) concurrency: u64,
}

impl Caps {
    pub(super) fn of(l: &Limits) -> Self {
        let mut caps = Caps {
            set: 0,
            counts: [0; 4],
            revenue: [Money::ZERO; 4],
            concurrency: 0,
        };
        let counts = [l.hourly, l.daily, l.monthly, l.total];
        let revenue = [
            l.hourly_revenue,
            l.daily_revenue,
            l.monthly_revenue,
            l.total_revenue,
        ];
        for (i, c) in counts.into_iter().enumerate() {
            if let Some(c) = c {
                caps.set |= 1 << i;
                caps.counts[i] = c;
            }
        }
        for (i, r) in revenue.into_iter().enumerate() {
            if let Some(r) = r {
                caps.set |= 1 << (4 + i);
                caps.revenue[i] = r;
            }
        }
        if let Some(c) = l.concurrency {
            caps.set |= 1 << 8;
            caps.concurrency = c;
        }
        caps
    }

    /// Count limit `i`: hourly, daily, monthly, total.
    #[inline]
    pub(super) fn count(&self, i: usize) -> Option<u64> {
        (self.set & (1 << i) != 0).then(|| self.counts[i])
    }

    /// Revenue limit `i`: hourly, daily, monthly, total.
    #[inline]
    pub(super) fn revenue(&self, i: usize) -> Option<Money> {
        (self.set & (1 << (4 + i)) != 0).then(|| self.revenue[i])
    }

    /// The periods it caps, by count or revenue (bit `i`: `Period::ALL[i]`).
    pub(super) fn periods(&self) -> u8 {
        let capped = |i: usize| self.count(i).is_some() || self.revenue(i).is_some();
        (0..3).filter(|&i| capped(i)).fold(0, |m, i| m | 1 << i)
    }

    #[inline]
    pub(super) fn concurrency(&self) -> Option<u64> {
        (self.set & (1 << 8) != 0).then_some(self.concurrency)
    }
}

/// What eligibility needs to know about one target or group.
pub(super) struct Owner<'a> {
    pub(super) hours: Option<&'a WeeklyHours>,
    pub(super) caps: &'a Caps,
    pub(super) matrix: Option<&'a ConcurrencyMatrix>,
    pub(super) counters: &'a Counters,
    /// Units held by live reservations.
    pub(super) held: u64,
    /// Live calls at the instant (leases and imported calls that hold).
    pub(super) live: u64,
    pub(super) group: Option<usize>,
}

pub(super) const COUNT_CODES: [ReasonCode; 3] = [
    ReasonCode::HourlyCap,
    ReasonCode::DailyCap,
    ReasonCode::MonthlyCap,
];
pub(super) const REVENUE_CODES: [ReasonCode; 3] = [
    ReasonCode::HourlyRevenueCap,
    ReasonCode::DailyRevenueCap,
    ReasonCode::MonthlyRevenueCap,
];

impl Owner<'_> {
    pub(super) fn reason(
        &self,
        code: ReasonCode,
        used: Amount,
        limit: Amount,
        until: Option<Instant>,
    ) -> Reason {
        Reason {
            code,
            group: self.group,
            used: Some(used),
            limit: Some(limit),
            until,
            detail: None,
        }
    }

    pub(super) fn reasons(&self, clock: &mut Cached<'_>, out: &mut Vec<Reason>) {
        if let Some(h) = self.hours {
            if !clock.is_open(h) {
                out.push(Reason {
                    code: ReasonCode::Closed,
                    group: self.group,
                    used: None,
                    limit: None,
                    until: clock.next_open(h),
                    detail: None,
                });
            }
        }
        let c = self.counters;
        for (i, p) in Period::ALL.into_iter().enumerate() {
            if let Some(lim) = self.caps.count(i) {
                let (start, end) = clock.window(i);
                let used = c.count_in(p, start).saturating_add(self.held);
                if used >= lim {
                    out.push(self.reason(
                        COUNT_CODES[i],
                        Amount::Count(used),
                        Amount::Count(lim),
                        Some(end),
                    ));
                }
            }
        }
        if let Some(lim) = self.caps.count(3) {
            let used = c.total().saturating_add(self.held);
            if used >= lim {
                out.push(self.reason(
                    ReasonCode::TotalCap,
                    Amount::Count(used),
                    Amount::Count(lim),
                    None,
                ));
            }
        }
        for (i, p) in Period::ALL.into_iter().enumerate() {
            if let Some(lim) = self.caps.revenue(i) {
                let (start, end) = clock.window(i);
                let used = c.revenue_in(p, start);
                if used >= lim {
                    out.push(self.reason(
                        REVENUE_CODES[i],
                        Amount::Money(used),
                        Amount::Money(lim),
                        Some(end),
                    ));
                }
            }
        }
        if let Some(lim) = self.caps.revenue(3) {
            let used = c.total_revenue();
            if used >= lim {
                out.push(self.reason(
                    ReasonCode::TotalRevenueCap,
                    Amount::Money(used),
                    Amount::Money(lim),
                    None,
                ));
            }
        }
        let concurrency = match self.matrix {
            Some(m) => {
                let (day, hour) = clock.weekday_hour();
                m.limit(day, hour)
            }
            None => self.caps.concurrency(),
        };
        if let Some(lim) = concurrency {
            let used = self.live.saturating_add(self.held);
            if used >= lim {
                out.push(self.reason(
                    ReasonCode::ConcurrencyCap,
                    Amount::Count(used),
                    Amount::Count(lim),
                    None,
                ));
            }
        }
    }
}
