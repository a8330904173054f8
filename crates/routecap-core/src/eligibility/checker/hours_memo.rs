//! Hours verdicts per (schedule, zone) pair: whether hours are open, until
//! when, and when closed hours reopen depend on the schedule, the zone and
//! the instant alone, so the owners sharing both share one memo.

use super::owners::NO_HOURS;
use super::zone_clock::{ZoneClock, NEVER};
use crate::hours::WeeklyHours;

/// When closed hours reopen: they are closed on `[from, until)` and open at
/// `until` (`from > until`: nothing cached). Reopening instants are whole
/// seconds (minute boundaries or offset changes), so `until` is the instant.
#[derive(Clone, Copy, Debug)]
pub(super) struct Reopen {
    pub(super) from: i64,
    pub(super) until: i64,
}

pub(super) const NO_REOPEN: Reopen = Reopen { from: 1, until: 0 };

/// The hours verdict and reopening cache of one (schedule, zone) pair.
/// Both depend on the schedule, the zone and the instant alone, so the
/// owners that share a schedule and a zone share them: a campaign has a
/// few hundred pairs at most, however many targets it has.
#[derive(Clone, Copy, Debug)]
pub(super) struct Pair {
    /// Index into `Caches::schedules`, or [`NO_HOURS`] (open 24/7).
    pub(super) hours: u32,
    /// Index into `Caches::clocks`.
    pub(super) clock: u16,
    pub(super) memo: HoursMemo,
    pub(super) reopen: Reopen,
}

impl Pair {
    pub(super) fn new(hours: u32, clock: u16) -> Self {
        Pair {
            hours,
            clock,
            memo: HoursMemo::fresh(hours),
            reopen: NO_REOPEN,
        }
    }

    /// The hours verdict at `clock`'s instant `s` (the clock of this
    /// pair, refreshed to `s`), recomputed only when `s` left the memo.
    #[inline]
    pub(super) fn hours_at(
        &mut self,
        schedules: &[WeeklyHours],
        clock: &ZoneClock,
        s: i64,
    ) -> HoursMemo {
        if s >= self.memo.until {
            self.refresh(schedules, clock);
        }
        self.memo
    }

    #[inline(never)]
    pub(super) fn refresh(&mut self, schedules: &[WeeklyHours], clock: &ZoneClock) {
        if let Some(h) = schedules.get(self.hours as usize) {
            self.memo = HoursMemo {
                open: h.is_open_local(clock.weekday, clock.minute),
                until: clock.hours_boundary(h),
            };
        }
    }
}

/// A pair's hours verdict, `open`, holds from when it was computed until
/// `until` (Unix seconds, exclusive; [`NEVER`]: not computed). Time going
/// backwards resets every entry (see [`Checker::run`]).
#[derive(Clone, Copy, Debug)]
pub(super) struct HoursMemo {
    pub(super) until: i64,
    pub(super) open: bool,
}

impl HoursMemo {
    /// Not computed yet; for no hours (open 24/7), open for ever.
    pub(super) fn fresh(hours: u32) -> Self {
        HoursMemo {
            until: if hours == NO_HOURS { i64::MAX } else { NEVER },
            open: hours == NO_HOURS,
        }
    }
}
