//! The counters of one owner (target or group): per-window counts and
//! revenue, totals, held units and live calls, laid out in two cache lines
//! because one per owner is most of the state at a million targets.

use chrono::TimeDelta;

use super::after;
use crate::caps::{ImportedUsage, Period, Usage};
use crate::money::Money;
use crate::window::window;
use crate::zone::{Instant, Zone};

/// Slot key meaning "not anchored yet": matches whatever window is asked.
const ANY: i64 = i64::MIN;

fn period_index(p: Period) -> usize {
    match p {
        Period::Hour => 0,
        Period::Day => 1,
        Period::Month => 2,
    }
}

/// Count and revenue of one window.
#[derive(Clone, Copy, Debug)]
struct Slot {
    /// Window start (Unix seconds), or [`ANY`].
    start: i64,
    count: u64,
    revenue: Money,
    /// Window end when known, else `start`: a cache that spares computing
    /// the window again for every event in it (`start` alone identifies
    /// the window, so it is not part of the value).
    end: i64,
}

impl PartialEq for Slot {
    fn eq(&self, o: &Self) -> bool {
        (self.start, self.count, self.revenue) == (o.start, o.count, o.revenue)
    }
}
impl Eq for Slot {}

impl Slot {
    /// Whether Unix second `t` is known to lie in this slot's window.
    fn holds(&self, t: i64) -> bool {
        self.start <= t && t < self.end
    }
}

/// `(start, end)` in Unix seconds of the window of `p` containing `at`.
fn window_secs(zone: &Zone, p: Period, at: Instant) -> (i64, i64) {
    let w = window(zone, p, at);
    (w.start.timestamp(), w.end.timestamp())
}

/// One window's counters as plain data, for the snapshot format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SlotParts {
    /// Window start, Unix seconds; `None` = not anchored yet.
    pub start: Option<i64>,
    pub count: u64,
    pub revenue: Money,
}

/// An owner's counters as plain data, for the snapshot format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct CounterParts {
    /// Hour, day, month.
    pub slots: [SlotParts; 3],
    pub total: u64,
    pub total_revenue: Money,
    /// Own connected calls whose lease is not swept yet.
    pub live: u64,
    /// Imported live calls.
    pub imported_live: u64,
    /// Until when they hold (exclusive); `None` = until the anchor + lease.
    pub imported_until: Option<Instant>,
}

/// The counters of one owner (target or group) in two cache lines (one
/// per owner at a million targets is most of the state): the first holds
/// what a verdict on count caps reads (window starts and counts, held
/// units, own live calls, the total), the second the rest. Slots are
/// columns (`starts`, `counts`, … indexed hour, day, month), read and
/// written as [`Slot`] values. The stamp lives in [`Ledger`]'s `stable`.
#[derive(Clone, Debug)]
#[repr(C, align(64))]
pub(crate) struct Counters {
    /// Window start of each slot (Unix seconds), or [`ANY`].
    starts: [i64; 3],
    counts: [u64; 3],
    /// Unconfirmed reservations, expired ones included until swept (one
    /// record each in memory, so far below `u32::MAX`).
    pub(super) held: u32,
    /// Connected calls not ended and whose lease is not swept yet (lapsed
    /// but unswept ones included: reads subtract them); one record each.
    pub(super) live: u32,
    pub(super) total: u64,
    pub(super) total_revenue: Money,
    revenues: [Money; 3],
    /// Imported live calls: they hold until `imported_until`.
    pub(super) imported_live: u64,
    /// First instant at which the imported live calls no longer hold;
    /// `None` = not anchored yet (they hold until anchor + lease).
    pub(super) imported_until: Option<Instant>,
    /// Window length of each slot when known, else 0 (see [`Slot::end`]):
    /// windows are at most a month long.
    lengths: [u32; 3],
}

const _: () = assert!(std::mem::size_of::<Counters>() == 128);

impl PartialEq for Counters {
    /// Every field but the window lengths (a cache): the slots' starts,
    /// counts and revenues as columns, as [`Slot`]'s equality has them.
    fn eq(&self, o: &Self) -> bool {
        self.starts == o.starts
            && self.counts == o.counts
            && self.revenues == o.revenues
            && self.total == o.total
            && self.total_revenue == o.total_revenue
            && self.live == o.live
            && self.imported_live == o.imported_live
            && self.imported_until == o.imported_until
            && self.held == o.held
    }
}
impl Eq for Counters {}

/// A stamp never handed out before in this process (0 is never handed out).
///
/// Process-wide rather than per ledger, because two clones of one ledger
/// must never hand out the same stamp for different changes.
pub(crate) fn fresh_stamp() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

pub(super) static NO_COUNTERS: Counters = Counters {
    starts: [ANY; 3],
    counts: [0; 3],
    revenues: [Money::ZERO; 3],
    lengths: [0; 3],
    total: 0,
    total_revenue: Money::ZERO,
    live: 0,
    imported_live: 0,
    imported_until: None,
    held: 0,
};

impl Counters {
    /// An owner's counters with these slots and everything else zero.
    fn with_slots(slots: [Slot; 3]) -> Self {
        let mut c = NO_COUNTERS.clone();
        for (i, s) in slots.into_iter().enumerate() {
            c.set_slot(i, s);
        }
        c
    }

    /// Slot `i` (hour, day, month) as a value.
    #[inline]
    fn slot(&self, i: usize) -> Slot {
        Slot {
            start: self.starts[i],
            count: self.counts[i],
            revenue: self.revenues[i],
            end: self.starts[i].saturating_add(i64::from(self.lengths[i])),
        }
    }

    fn set_slot(&mut self, i: usize, s: Slot) {
        self.starts[i] = s.start;
        self.counts[i] = s.count;
        self.revenues[i] = s.revenue;
        // an end not known (or not representable) is 0: the window is
        // computed again, as for a slot whose end is its start
        self.lengths[i] = u32::try_from(s.end.wrapping_sub(s.start)).unwrap_or(0);
    }

    pub(super) fn from_usage(
        u: &Usage,
        zone: &Zone,
        anchor: Option<Instant>,
        lease: TimeDelta,
    ) -> Self {
        let bounds = |p| anchor.map_or((ANY, ANY), |a| window_secs(zone, p, a));
        let slot = |p, count, revenue| {
            let (start, end) = bounds(p);
            Slot {
                start,
                count,
                revenue,
                end,
            }
        };
        Counters {
            total: u.total,
            total_revenue: u.total_revenue,
            imported_live: u.live,
            imported_until: anchor.map(|a| after(a, lease)),
            ..Counters::with_slots([
                slot(Period::Hour, u.hourly, u.hourly_revenue),
                slot(Period::Day, u.daily, u.daily_revenue),
                slot(Period::Month, u.monthly, u.monthly_revenue),
            ])
        }
    }

    /// Counters restored from plain data (no holds: reservations are
    /// taken again by whoever restores them).
    pub(crate) fn from_parts(p: &CounterParts) -> Self {
        let slot = |s: &SlotParts| Slot {
            start: s.start.unwrap_or(ANY),
            count: s.count,
            revenue: s.revenue,
            end: ANY,
        };
        Counters {
            total: p.total,
            total_revenue: p.total_revenue,
            // own live calls are one record each: far below `u32::MAX`
            live: u32::try_from(p.live).unwrap_or(u32::MAX),
            imported_live: p.imported_live,
            imported_until: p.imported_until,
            ..Counters::with_slots([slot(&p.slots[0]), slot(&p.slots[1]), slot(&p.slots[2])])
        }
    }

    /// These counters as plain data (holds left out).
    pub(crate) fn parts(&self) -> CounterParts {
        let slot = |s: &Slot| SlotParts {
            start: (s.start != ANY).then_some(s.start),
            count: s.count,
            revenue: s.revenue,
        };
        CounterParts {
            slots: [
                slot(&self.slot(0)),
                slot(&self.slot(1)),
                slot(&self.slot(2)),
            ],
            total: self.total,
            total_revenue: self.total_revenue,
            live: u64::from(self.live),
            imported_live: self.imported_live,
            imported_until: self.imported_until,
        }
    }

    /// A fresh stamp for these counters, just changed, when no reservation
    /// (live or expired) is held on them, 0 otherwise: held units lapse
    /// with time, at expiry instants the stamp does not see.
    pub(super) fn fresh_stable_stamp(&self) -> u64 {
        if self.held == 0 {
            fresh_stamp()
        } else {
            0
        }
    }

    /// `(start, end)` of the window of `Period::ALL[i]` containing Unix
    /// second `t`, if this owner's slot already knows it.
    pub(crate) fn known_window(&self, i: usize, t: i64) -> Option<(i64, i64)> {
        let s = self.slot(i.min(2));
        (i < 3 && s.start != ANY && s.holds(t)).then_some((s.start, s.end))
    }

    /// Whether slot `i` counts for the window starting at `window_start`.
    #[inline]
    fn slot_in(&self, i: usize, window_start: i64) -> bool {
        let s = self.starts[i];
        s == window_start || s == ANY
    }

    /// Calls counted in the window of `p` starting at `window_start`.
    #[inline]
    pub(crate) fn count_in(&self, p: Period, window_start: i64) -> u64 {
        let i = period_index(p);
        if self.slot_in(i, window_start) {
            self.counts[i]
        } else {
            0
        }
    }

    /// Revenue in the window of `p` starting at `window_start`.
    #[inline]
    pub(crate) fn revenue_in(&self, p: Period, window_start: i64) -> Money {
        let i = period_index(p);
        if self.slot_in(i, window_start) {
            self.revenues[i]
        } else {
            Money::ZERO
        }
    }

    /// What every cap of an owner reads at `at`, when [`Ledger::quiet_at`]
    /// says no hold expired and no lease lapsed, in one branch-light read:
    /// counts with the held units added (hour, day, month in the windows
    /// starting at `starts`, total, live calls) and revenue (hour, day,
    /// month, total). The checker compares them with the limits.
    #[inline]
    pub(crate) fn use_quiet(&self, starts: &[i64; 3], at: Instant) -> ([u64; 5], [Money; 4]) {
        let held = u64::from(self.held);
        let mut counts = [0u64; 5];
        let mut revenue = [self.total_revenue; 4];
        for i in 0..3 {
            let s = self.starts[i];
            let current = (s == starts[i]) | (s == ANY);
            counts[i] = if current { self.counts[i] } else { 0 }.saturating_add(held);
            revenue[i] = if current {
                self.revenues[i]
            } else {
                Money::ZERO
            };
        }
        counts[3] = self.total.saturating_add(held);
        counts[4] = self.live_quiet(at).saturating_add(held);
        (counts, revenue)
    }

    pub(crate) fn total(&self) -> u64 {
        self.total
    }

    /// Units held by reservations, expired but unswept ones included: the
    /// held units at an instant when [`Ledger::quiet_at`] says none expired.
    #[inline]
    pub(crate) fn held_units(&self) -> u64 {
        u64::from(self.held)
    }

    /// Live calls at `at` when [`Ledger::quiet_at`] says no lease lapsed:
    /// own connected calls plus the imported ones that hold.
    #[inline]
    pub(crate) fn live_quiet(&self, at: Instant) -> u64 {
        u64::from(self.live).saturating_add(self.imported_live_at(at))
    }

    /// Unix second before which the imported live calls cannot stop
    /// holding (`i64::MAX`: none, or not anchored yet).
    #[inline]
    pub(crate) fn imported_bound(&self) -> i64 {
        match self.imported_until {
            Some(u) if self.imported_live > 0 => u.timestamp(),
            _ => i64::MAX,
        }
    }

    pub(crate) fn total_revenue(&self) -> Money {
        self.total_revenue
    }

    /// Imported live calls holding at `at`.
    pub(crate) fn imported_live_at(&self, at: Instant) -> u64 {
        if self.imported_until.is_none_or(|u| at < u) {
            self.imported_live
        } else {
            0
        }
    }

    /// Replace the imported live calls: `count` holding until `until`
    /// (exclusive; `None` = until the anchor + lease).
    pub(super) fn set_imported_live(&mut self, count: u64, until: Option<Instant>) {
        self.imported_live = count;
        self.imported_until = until;
    }

    pub(super) fn is_pending(&self) -> bool {
        self.starts.contains(&ANY) || self.imported_until.is_none()
    }

    pub(super) fn anchor(&mut self, zone: &Zone, at: Instant, lease: TimeDelta) {
        for p in Period::ALL {
            let i = period_index(p);
            if self.starts[i] == ANY {
                let (start, end) = window_secs(zone, p, at);
                self.set_slot(
                    i,
                    Slot {
                        start,
                        end,
                        ..self.slot(i)
                    },
                );
            }
        }
        if self.imported_until.is_none() {
            self.imported_until = Some(after(at, lease));
        }
    }

    pub(super) fn add(&mut self, zone: &Zone, at: Instant, count: u64, revenue: Money) {
        let t = at.timestamp();
        for p in Period::ALL {
            let i = period_index(p);
            let s = &mut self.slot(i);
            let (start, end) = if s.holds(t) {
                (s.start, s.end)
            } else {
                window_secs(zone, p, at)
            };
            if s.start == start {
                s.count = s.count.saturating_add(count);
                s.revenue = s.revenue.saturating_add(revenue);
                s.end = end;
            } else if s.start < start {
                *s = Slot {
                    start,
                    count,
                    revenue,
                    end,
                };
            } // else: an older window, no longer tracked
            self.set_slot(i, *s);
        }
        self.total = self.total.saturating_add(count);
        self.total_revenue = self.total_revenue.saturating_add(revenue);
    }

    pub(super) fn step_held(&mut self, take: bool) {
        self.held = if take {
            self.held.saturating_add(1)
        } else {
            self.held.saturating_sub(1)
        };
    }

    pub(super) fn step_live(&mut self, up: bool) {
        self.live = if up {
            self.live.saturating_add(1)
        } else {
            self.live.saturating_sub(1)
        };
    }

    /// These counters under a new config: same counts, windows and imported
    /// live calls; no own live calls and no holds (the new ledger leases and
    /// holds them again by call id, so membership changes move them).
    pub(crate) fn carried(&self) -> Counters {
        Counters {
            live: 0,
            held: 0,
            ..self.clone()
        }
    }

    /// Move the window slots from zone `old` to zone `new` at the change
    /// instant `at` (SPEC §14): the count and revenue of the window that
    /// holds `at` carry over to the new zone's window that holds `at`, and
    /// count there until it ends; a slot of an earlier window (already
    /// over at `at`) becomes the new window, empty. A slot not anchored
    /// yet, or of a window after `at` (an event dated after the change),
    /// is left as it is. Where both zones have the same window at `at`
    /// nothing changes.
    pub(crate) fn rezone(&mut self, old: &Zone, new: &Zone, at: Instant) {
        for p in Period::ALL {
            let i = period_index(p);
            let start = self.starts[i];
            if start == ANY {
                continue;
            }
            let (old_start, old_end) = window_secs(old, p, at);
            let (new_start, new_end) = window_secs(new, p, at);
            if (old_start, old_end) == (new_start, new_end) || start > old_start {
                continue;
            }
            let s = self.slot(i);
            let (count, revenue) = if start == old_start {
                (s.count, s.revenue)
            } else {
                (0, Money::ZERO)
            };
            self.set_slot(
                i,
                Slot {
                    start: new_start,
                    count,
                    revenue,
                    end: new_end,
                },
            );
        }
    }

    /// Replace the counts of the windows containing `at` (and the totals
    /// and imported live calls, held until `live_until`) with the ones an
    /// import names; kinds it leaves out keep theirs. A slot of an older
    /// window is replaced by the import's window (other kinds there read 0);
    /// a slot already past the import's window keeps its counts (the import
    /// is older than what we know).
    pub(crate) fn import(
        &mut self,
        zone: &Zone,
        at: Instant,
        u: &ImportedUsage,
        live_until: Instant,
    ) {
        let periodic = [
            (u.hourly, u.hourly_revenue),
            (u.daily, u.daily_revenue),
            (u.monthly, u.monthly_revenue),
        ];
        for (p, (count, revenue)) in Period::ALL.into_iter().zip(periodic) {
            if count.is_none() && revenue.is_none() {
                continue;
            }
            let (start, end) = window_secs(zone, p, at);
            let i = period_index(p);
            let s = &mut self.slot(i);
            if s.start == ANY || s.start < start {
                *s = Slot {
                    start,
                    count: 0,
                    revenue: Money::ZERO,
                    end,
                };
            }
            if s.start == start {
                s.end = end;
                if let Some(c) = count {
                    s.count = c;
                }
                if let Some(r) = revenue {
                    s.revenue = r;
                }
            }
            self.set_slot(i, *s);
        }
        if let Some(c) = u.total {
            self.total = c;
        }
        if let Some(r) = u.total_revenue {
            self.total_revenue = r;
        }
        if let Some(live) = u.live {
            self.imported_live = live;
            self.imported_until = Some(live_until);
        }
    }

    pub(super) fn reset_totals(&mut self) {
        self.total = 0;
        self.total_revenue = Money::ZERO;
    }
}
