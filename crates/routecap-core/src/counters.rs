//! Windowed counters: what each target and group has used, per cap window.
//!
//! This module is pure window arithmetic over counts and money. It knows
//! nothing of eligibility or of calls: the `eligibility` module reads a
//! [`Ledger`], and the `lifecycle` module changes it after checking.
//!
//! # Windows
//!
//! Each target and each group keeps, per [`Period`], one counter slot keyed
//! by the start of the window it belongs to (`window::window_start` in the
//! owner's zone). A slot whose key is not the start of the window containing
//! the instant asked about reads as 0 — nothing is swept, no timer runs.
//!
//! *Example* (target in `America/New_York`, daily cap 10): a call connected at
//! 2026-11-22T15:00Z (10:00 local) lands in the 22 Nov window
//! `[05:00Z, 23 Nov 05:00Z)`. At 2026-11-23T04:59Z the daily usage is 1; at
//! 05:00Z it reads 0 again, while the total (hard) counter still says 1.
//!
//! A count lands in the windows that contain the instant of the *counting
//! event*, not of the call's start. Only the latest window of each kind is
//! kept: an event at an instant whose window is older than the slot's (time
//! going backwards) still counts toward the totals but toward no periodic
//! window.
//!
//! # Imported usage
//!
//! [`Usage`] from the config is the usage of the windows containing
//! `Config::as_of`. With no `as_of` it is not anchored yet: until
//! [`Ledger::anchor`], every read takes it as the usage of the windows
//! containing the instant read (the decision instant).
//!
//! # Holds
//!
//! A reservation holds one unit of every count cap and of concurrency on
//! its target and the target's groups until its expiry (exclusive). Reads
//! at or after the expiry no longer see the unit, even before the
//! reservation is swept.
//!
//! # Live calls and leases
//!
//! Concurrency reads the live calls of an owner at an instant: its own
//! connected calls whose lease has not run out, plus the imported live
//! calls while they hold.
//!
//! - Each connected call has a **lease**: one entry (expiry, call id) in a
//!   time-ordered index. Reads at or after the expiry no longer count the
//!   call, even before the lifecycle sweeps the entry (like holds); the
//!   sweep, done by the next lifecycle event, releases the unit for good.
//! - **Imported live calls** (`Usage::live`) are kept per owner as a count
//!   and the instant they stop holding (exclusive): `as_of` plus the
//!   lease, or, while the imported usage is not anchored yet, the anchor
//!   instant plus the lease. [`Ledger::set_imported_live`] replaces both
//!   (a usage import). Nothing sweeps them: reads compare the instant.
//!
//! # Stamps
//!
//! Every change of an owner's counters gives it a fresh stamp, so that the
//! fast eligibility `Checker` can keep a target's report while its
//! counters are unchanged. Live calls also change by time alone (a lease
//! or the imported live calls running out), so a stamp only vouches for
//! the counters before a bound the ledger computes (the earliest lease or
//! imported expiry). Stamps only key caches:
//! they are not part of any value and never change an answer.

use std::collections::BTreeMap;

use chrono::TimeDelta;

use crate::caps::{ImportedUsage, Period, Usage};
use crate::model::{CandidateRef, Config};
use crate::money::Money;
use crate::window::{window, window_start};
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
    held: u32,
    /// Connected calls not ended and whose lease is not swept yet (lapsed
    /// but unswept ones included: reads subtract them); one record each.
    live: u32,
    total: u64,
    total_revenue: Money,
    revenues: [Money; 3],
    /// Imported live calls: they hold until `imported_until`.
    imported_live: u64,
    /// First instant at which the imported live calls no longer hold;
    /// `None` = not anchored yet (they hold until anchor + lease).
    imported_until: Option<Instant>,
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

static NO_COUNTERS: Counters = Counters {
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

    fn from_usage(u: &Usage, zone: &Zone, anchor: Option<Instant>, lease: TimeDelta) -> Self {
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
    fn fresh_stable_stamp(&self) -> u64 {
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
    fn set_imported_live(&mut self, count: u64, until: Option<Instant>) {
        self.imported_live = count;
        self.imported_until = until;
    }

    fn is_pending(&self) -> bool {
        self.starts.contains(&ANY) || self.imported_until.is_none()
    }

    fn anchor(&mut self, zone: &Zone, at: Instant, lease: TimeDelta) {
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

    fn add(&mut self, zone: &Zone, at: Instant, count: u64, revenue: Money) {
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

    fn step_held(&mut self, take: bool) {
        self.held = if take {
            self.held.saturating_add(1)
        } else {
            self.held.saturating_sub(1)
        };
    }

    fn step_live(&mut self, up: bool) {
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

    fn reset_totals(&mut self) {
        self.total = 0;
        self.total_revenue = Money::ZERO;
    }
}

/// The counters of every target and group of one config, with the
/// reservation holds on them.
///
/// Eligibility reads a ledger (a lifecycle `State` reads as its ledger);
/// only the lifecycle changes it, after checking, so that no change can
/// overbook.
#[derive(Clone, Debug)]
pub struct Ledger {
    targets: Vec<Counters>,
    /// The stable stamp of each target (0 = none), kept dense so that a
    /// checker sees which targets changed without reading their counters.
    stable: Vec<u64>,
    groups: Vec<Counters>,
    /// Containing groups of each target (derived from the config), flat:
    /// see [`Memberships`].
    memberships: Memberships,
    /// Unconfirmed reservations by expiry and call id, with their target.
    holds: BTreeMap<(Instant, String), usize>,
    /// Leases of connected calls not ended and not swept, by expiry and
    /// call id, with their target.
    /// (Keyed like `holds`: one map type for both keeps the wasm build small.)
    leases: BTreeMap<(Instant, String), usize>,
    /// Some slot or imported live count is not anchored yet.
    pending: bool,
}

/// The groups of each target in one flat list: target `t`'s are
/// `groups[starts[t]..starts[t + 1]]`, ascending — 4 bytes per target
/// instead of a vector each (none at all when the config has no groups).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Memberships {
    /// `targets + 1` offsets into `groups` (memberships are config
    /// entries held in memory, so far fewer than `u32::MAX`); empty when
    /// no target is in a group.
    starts: Vec<u32>,
    groups: Vec<usize>,
}

impl Memberships {
    fn new(config: &Config) -> Self {
        let n = config.targets.len();
        let mut pairs: Vec<(usize, usize)> = (config.groups.iter().enumerate())
            .flat_map(|(g, group)| group.members.iter().map(move |&t| (t, g)))
            .filter(|&(t, _)| t < n)
            .collect();
        if pairs.is_empty() {
            return Memberships::default();
        }
        pairs.sort_unstable();
        pairs.dedup();
        let mut starts = Vec::with_capacity(n + 1);
        let mut i = 0;
        for t in 0..=n {
            while pairs.get(i).is_some_and(|&(m, _)| m < t) {
                i += 1;
            }
            starts.push(u32::try_from(i).unwrap_or(u32::MAX));
        }
        let groups = pairs.into_iter().map(|(_, g)| g).collect();
        Memberships { starts, groups }
    }

    /// The groups of target `t`, ascending.
    fn of(&self, t: usize) -> &[usize] {
        match (
            self.starts.get(t),
            t.checked_add(1).and_then(|u| self.starts.get(u)),
        ) {
            (Some(&a), Some(&b)) => self.groups.get(a as usize..b as usize).unwrap_or(&[]),
            _ => &[],
        }
    }
}

/// `at + d`, saturating at chrono's last instant (never reached with
/// supported instants and durations of at most 10 years).
pub(crate) fn after(at: Instant, d: TimeDelta) -> Instant {
    at.checked_add_signed(d).unwrap_or(Instant::MAX_UTC)
}

impl PartialEq for Ledger {
    fn eq(&self, o: &Self) -> bool {
        self.targets == o.targets
            && self.groups == o.groups
            && self.memberships == o.memberships
            && self.holds == o.holds
            && self.leases == o.leases
            && self.pending == o.pending
    }
}
impl Eq for Ledger {}

impl Ledger {
    /// The config's imported usage: anchored at `config.as_of`, or pending
    /// until [`Ledger::anchor`] when the config has none.
    pub fn new(config: &Config) -> Ledger {
        let lease = config.call_lease();
        let mut ledger = Ledger {
            targets: config
                .targets
                .iter()
                .map(|t| Counters::from_usage(&t.usage(), &t.zone, config.as_of, lease))
                .collect(),
            stable: Vec::new(),
            groups: config
                .groups
                .iter()
                .map(|g| Counters::from_usage(&g.usage, &g.zone, config.as_of, lease))
                .collect(),
            memberships: Memberships::new(config),
            holds: BTreeMap::new(),
            leases: BTreeMap::new(),
            pending: config.as_of.is_none(),
        };
        ledger.sync_stable_all();
        ledger
    }

    /// Take `old`'s stamps for the targets whose counters here equal
    /// theirs there (neither holding a reservation): this ledger is a newer
    /// read of the same owners' counters (a state backend's cache
    /// refresh), and a stamp names counters by content, so caches keyed by
    /// the old stamp stay right for them. Other targets keep their fresh
    /// stamps.
    pub(crate) fn keep_stamps(&mut self, old: &Ledger) {
        if self.targets.len() != old.targets.len() {
            return;
        }
        let new = self.stable.iter_mut().zip(&self.targets);
        for ((s, c), (&o, oc)) in new.zip(old.stable.iter().zip(&old.targets)) {
            if *s != 0 && o != 0 && c == oc {
                *s = o;
            }
        }
    }

    /// Recompute `stable` for every target.
    fn sync_stable_all(&mut self) {
        self.stable.clear();
        self.stable
            .extend(self.targets.iter().map(Counters::fresh_stable_stamp));
    }

    /// Change target `t`'s counters with `f`, keeping `stable` in step.
    fn with_target(&mut self, t: usize, f: impl FnOnce(&mut Counters)) {
        if let (Some(c), Some(s)) = (self.targets.get_mut(t), self.stable.get_mut(t)) {
            f(c);
            *s = c.fresh_stable_stamp();
        }
    }

    /// Apply `f` to target `t` and each of its groups.
    fn with_owners(&mut self, t: usize, f: impl Fn(&mut Counters)) {
        self.with_target(t, &f);
        for &g in self.memberships.of(t) {
            if let Some(c) = self.groups.get_mut(g) {
                f(c);
            }
        }
    }

    /// Anchor imported usage not anchored yet to the windows containing
    /// `at`; a no-op once anchored.
    pub fn anchor(&mut self, config: &Config, at: Instant) {
        if !self.pending {
            return;
        }
        let lease = config.call_lease();
        for (c, t) in self.targets.iter_mut().zip(&config.targets) {
            c.anchor(&t.zone, at, lease);
        }
        self.sync_stable_all();
        for (c, g) in self.groups.iter_mut().zip(&config.groups) {
            c.anchor(&g.zone, at, lease);
        }
        self.pending = false;
    }

    /// The number of targets.
    pub(crate) fn target_count(&self) -> usize {
        self.targets.len()
    }

    /// The number of groups.
    pub(crate) fn group_count(&self) -> usize {
        self.groups.len()
    }

    /// The counters of an owner, how many live reservations it holds at
    /// `at` (expired but unswept ones excluded) and how many live calls it
    /// has at `at` (own calls whose lease holds, plus imported ones that
    /// hold; reservations excluded). Unknown owners read as empty.
    pub(crate) fn counters(&self, owner: CandidateRef, at: Instant) -> (&Counters, u64, u64) {
        let c = self.owner(owner);
        let held = u64::from(c.held).saturating_sub(self.expired_holds(owner, at));
        (c, held, self.live_of(c, owner, at))
    }

    fn owner(&self, owner: CandidateRef) -> &Counters {
        match owner {
            CandidateRef::Target(t) => self.targets.get(t),
            CandidateRef::Group(g) => self.groups.get(g),
        }
        .unwrap_or(&NO_COUNTERS)
    }

    fn live_of(&self, c: &Counters, owner: CandidateRef, at: Instant) -> u64 {
        u64::from(c.live)
            .saturating_sub(self.lapsed_leases(owner, at))
            .saturating_add(c.imported_live_at(at))
    }

    /// Live calls of an owner at `at`: its own connected calls whose lease
    /// holds and the imported live calls that hold; reservations excluded.
    pub fn live(&self, owner: CandidateRef, at: Instant) -> u64 {
        self.live_of(self.owner(owner), owner, at)
    }

    /// Every target's counters, in config order.
    pub(crate) fn target_counters(&self) -> &[Counters] {
        &self.targets
    }

    /// Stamp of each target's counters when it holds no reservation, 0
    /// otherwise: while it is unchanged, so are its counters, up to
    /// [`Ledger::lease_bound`] and [`Counters::imported_bound`].
    pub(crate) fn stable_stamps(&self) -> &[u64] {
        &self.stable
    }

    /// Stamp of target `t`'s counters when it holds no reservation (see
    /// [`Ledger::stable_stamps`]).
    pub(crate) fn stable_stamp(&self, t: usize) -> Option<u64> {
        self.stable.get(t).copied().filter(|&s| s != 0)
    }

    /// Whether no hold has expired and no lease has run out at `at`: then
    /// every owner's held units and live calls are its raw counts
    /// ([`Counters::held_units`], [`Counters::live_quiet`]). Checked once
    /// per decision rather than per owner.
    pub(crate) fn quiet_at(&self, at: Instant) -> bool {
        let after = |m: &BTreeMap<(Instant, String), usize>| {
            m.first_key_value().is_none_or(|((t, _), _)| *t > at)
        };
        after(&self.holds) && after(&self.leases)
    }

    /// Unix second before which no owner's live calls can change by time
    /// alone through a lease (a cache keyed by a stable stamp is valid
    /// before it, and before [`Counters::imported_bound`]): the second of
    /// the earliest lease expiry of any call, `i64::MAX` when none — a
    /// conservative bound, cheap to read (calls are short, so it is hours
    /// away while calls end normally).
    pub(crate) fn lease_bound(&self) -> i64 {
        self.leases
            .first_key_value()
            .map_or(i64::MAX, |((until, _), _)| until.timestamp())
    }

    /// Containing groups of target `t`.
    pub(crate) fn groups_of(&self, t: usize) -> &[usize] {
        self.memberships.of(t)
    }

    /// Usage of an owner as caps see it at `at`: counts include the units
    /// held by live reservations, `live` includes them too. Periodic values
    /// are those of the windows containing `at`.
    pub fn usage(&self, config: &Config, owner: CandidateRef, at: Instant) -> Usage {
        let zone = match owner {
            CandidateRef::Target(t) => config.targets.get(t).map(|t| &t.zone),
            CandidateRef::Group(g) => config.groups.get(g).map(|g| &g.zone),
        };
        let (c, held, _) = self.counters(owner, at);
        let Some(zone) = zone else {
            return Usage::default();
        };
        let ws = |p| window_start(zone, p, at);
        let (h, d, m) = (ws(Period::Hour), ws(Period::Day), ws(Period::Month));
        Usage {
            hourly: c.count_in(Period::Hour, h) + held,
            daily: c.count_in(Period::Day, d) + held,
            monthly: c.count_in(Period::Month, m) + held,
            total: c.total + held,
            live: self.live_of(c, owner, at) + held,
            hourly_revenue: c.revenue_in(Period::Hour, h),
            daily_revenue: c.revenue_in(Period::Day, d),
            monthly_revenue: c.revenue_in(Period::Month, m),
            total_revenue: c.total_revenue,
        }
    }

    /// Holds of `owner` that have expired at `at` but are not swept yet.
    fn expired_holds(&self, owner: CandidateRef, at: Instant) -> u64 {
        // the common case, checked first: nothing has expired yet
        if self
            .holds
            .first_key_value()
            .is_none_or(|((expires, _), _)| *expires > at)
        {
            return 0;
        }
        let mut n = 0;
        for (&(expires, _), &t) in &self.holds {
            if expires > at {
                break;
            }
            let hit = match owner {
                CandidateRef::Target(o) => t == o,
                CandidateRef::Group(g) => self.groups_of(t).contains(&g),
            };
            n += u64::from(hit);
        }
        n
    }

    /// Leases of `owner` that have run out at `at` but are not swept yet.
    fn lapsed_leases(&self, owner: CandidateRef, at: Instant) -> u64 {
        // the common case, checked first: nothing has lapsed
        if self
            .leases
            .first_key_value()
            .is_none_or(|((until, _), _)| *until > at)
        {
            return 0;
        }
        let mut n = 0;
        for (&(until, _), &t) in &self.leases {
            if until > at {
                break;
            }
            let hit = match owner {
                CandidateRef::Target(o) => t == o,
                CandidateRef::Group(g) => self.groups_of(t).contains(&g),
            };
            n += u64::from(hit);
        }
        n
    }

    /// Make `call` a live call of target `t` and its groups, its lease
    /// running until `until` (exclusive).
    pub(crate) fn lease(&mut self, call: &str, t: usize, until: Instant) {
        self.leases.insert((until, call.to_string()), t);
        self.change_live(t, true);
    }

    /// Move the lease of `call` from `old` to `new` (a touch): the live
    /// counts do not change, so neither do the stamps (a later expiry
    /// only makes [`Ledger::lease_bound`] more conservative).
    pub(crate) fn renew(&mut self, call: &str, old: Instant, new: Instant) {
        let mut key = (old, call.to_string());
        if let Some(t) = self.leases.remove(&key) {
            key.0 = new;
            self.leases.insert(key, t);
        }
    }

    /// End the lease of `call` (expiring at `until`) before it ran out:
    /// one live call fewer on its target and groups. `false` when there
    /// was no such lease (already swept).
    pub(crate) fn release(&mut self, call: &str, until: Instant) -> bool {
        match self.leases.remove(&(until, call.to_string())) {
            Some(t) => {
                self.change_live(t, false);
                true
            }
            None => false,
        }
    }

    /// Sweep the first lease run out at `at`, releasing its live call: its
    /// call id and expiry, or `None` when no lease has run out.
    pub(crate) fn pop_lapsed(&mut self, at: Instant) -> Option<(String, Instant)> {
        let entry = self.leases.first_entry()?;
        if entry.key().0 > at {
            return None;
        }
        let ((until, call), t) = entry.remove_entry();
        self.change_live(t, false);
        Some((call, until))
    }

    /// Own connected calls of an owner whose lease is not swept yet.
    pub(crate) fn own_live(&self, owner: CandidateRef) -> u64 {
        u64::from(self.owner(owner).live)
    }

    /// Leases not swept yet (live calls, and lapsed ones until swept).
    pub fn lease_count(&self) -> usize {
        self.leases.len()
    }

    /// Replace the imported live calls of an owner (a usage import): from
    /// now on it has `count` of them, holding concurrency until `until`
    /// (exclusive; `None` = until the imported usage is anchored, then for
    /// the config's lease). Its own calls are untouched. Unknown owners
    /// are ignored.
    pub fn set_imported_live(&mut self, owner: CandidateRef, count: u64, until: Option<Instant>) {
        match owner {
            CandidateRef::Target(t) => {
                self.with_target(t, |c| c.set_imported_live(count, until));
            }
            CandidateRef::Group(g) => {
                if let Some(c) = self.groups.get_mut(g) {
                    c.set_imported_live(count, until);
                }
            }
        }
        if until.is_none() {
            self.pending = true;
        }
    }

    /// Imported live calls of an owner and until when they hold (`None`:
    /// until the anchor + lease).
    pub fn imported_live(&self, owner: CandidateRef) -> (u64, Option<Instant>) {
        let c = self.owner(owner);
        (c.imported_live, c.imported_until)
    }

    /// Hold one unit on target `t` and its groups for `call` until `expires`.
    pub(crate) fn hold(&mut self, call: &str, t: usize, expires: Instant) {
        self.holds.insert((expires, call.to_string()), t);
        self.change_held(t, true);
    }

    /// Drop the hold entry of `call` (expiring at `expires`) without
    /// touching the held units: a confirmed reservation has already given
    /// its unit back with [`Ledger::change_held`].
    pub(crate) fn drop_hold(&mut self, call: &str, expires: Instant) {
        self.holds.remove(&(expires, call.to_string()));
    }

    /// Take (`true`) or give back one held unit on target `t` and its
    /// groups, leaving the hold list alone (a confirmation re-checks
    /// without its own hold, then keeps or drops it).
    pub(crate) fn change_held(&mut self, t: usize, take: bool) {
        self.with_owners(t, |c| c.step_held(take));
    }

    /// Drop the first hold expired at `at`, releasing its unit: its call
    /// id and target, or `None` when no hold has expired.
    pub(crate) fn pop_expired(&mut self, at: Instant) -> Option<(String, usize)> {
        let entry = self.holds.first_entry()?;
        if entry.key().0 > at {
            return None;
        }
        let ((_, call), t) = entry.remove_entry();
        self.change_held(t, false);
        Some((call, t))
    }

    /// One more (`true`) or one fewer live call on target `t` and its groups.
    pub(crate) fn change_live(&mut self, t: usize, up: bool) {
        self.with_owners(t, |c| c.step_live(up));
    }

    /// Add `count` calls and `revenue` at `at` to target `t` and its groups,
    /// each in the windows of its own zone.
    pub(crate) fn add(
        &mut self,
        config: &Config,
        t: usize,
        at: Instant,
        count: u64,
        revenue: Money,
    ) {
        if let Some(target) = config.targets.get(t) {
            self.with_target(t, |c| c.add(&target.zone, at, count, revenue));
        }
        for &g in self.memberships.of(t) {
            if let (Some(c), Some(group)) = (self.groups.get_mut(g), config.groups.get(g)) {
                c.add(&group.zone, at, count, revenue);
            }
        }
    }

    /// Reset the total count and revenue of target `t`.
    pub(crate) fn reset_target(&mut self, t: usize) {
        self.with_target(t, Counters::reset_totals);
    }

    /// Reset the total count and revenue of group `g` (members untouched).
    pub(crate) fn reset_group(&mut self, g: usize) {
        if let Some(c) = self.groups.get_mut(g) {
            c.reset_totals();
        }
    }

    /// The counters of target `t`, if any.
    pub(crate) fn target(&self, t: usize) -> Option<&Counters> {
        self.targets.get(t)
    }

    /// The counters of group `g`, if any.
    pub(crate) fn group(&self, g: usize) -> Option<&Counters> {
        self.groups.get(g)
    }

    /// Replace the counters of an owner (restoring a snapshot); call
    /// [`Ledger::restored`] when done.
    pub(crate) fn set(&mut self, owner: CandidateRef, c: Counters) {
        let slot = match owner {
            CandidateRef::Target(t) => self.targets.get_mut(t),
            CandidateRef::Group(g) => self.groups.get_mut(g),
        };
        if let Some(s) = slot {
            *s = c;
        }
    }

    /// A ledger for `new` (imported usage for every owner) whose owners
    /// listed in `kept` (new owner, old counters, live calls) continue
    /// from the old counters; call [`Ledger::restored`] when done.
    pub(crate) fn carried_over(new: &Config, kept: &[(CandidateRef, &Counters)]) -> Ledger {
        let mut ledger = Ledger::new(new);
        for &(owner, c) in kept {
            ledger.set(owner, c.carried());
        }
        ledger
    }

    /// Every lease not swept yet: expiry, call id and target index.
    pub(crate) fn leases(&self) -> impl Iterator<Item = (Instant, &str, usize)> + '_ {
        self.leases
            .iter()
            .map(|((until, call), &t)| (*until, call.as_str(), t))
    }

    /// [`Counters::import`] on one owner, in its own zone.
    pub(crate) fn import(
        &mut self,
        config: &Config,
        owner: CandidateRef,
        at: Instant,
        u: &ImportedUsage,
    ) {
        let until = after(at, config.call_lease());
        match owner {
            CandidateRef::Target(t) => {
                if let Some(target) = config.targets.get(t) {
                    self.with_target(t, |c| c.import(&target.zone, at, u, until));
                }
            }
            CandidateRef::Group(g) => {
                if let (Some(c), Some(group)) = (self.groups.get_mut(g), config.groups.get(g)) {
                    c.import(&group.zone, at, u, until);
                }
            }
        }
    }

    /// Finish a restore: stamps and the pending flag from the counters.
    pub(crate) fn restored(&mut self) {
        self.sync_stable_all();
        self.pending = self
            .targets
            .iter()
            .chain(&self.groups)
            .any(Counters::is_pending);
    }
}
