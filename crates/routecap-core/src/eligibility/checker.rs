//! [`Checker`]: the same eligibility as [`check`](super::check), for a
//! service that decides call after call on one config.
//!
//! What makes it fast, without changing any answer:
//! - **One clock per distinct zone.** Targets share a few dozen zones at
//!   most; each zone's offset span and its hour/day/month windows are
//!   cached with the range of instants they hold for, and the local
//!   weekday and minute are computed once per zone per decision.
//! - **Hours are judged per (schedule, zone) pair.** Whether hours are
//!   open, until when, and when closed hours reopen depend on the schedule,
//!   the zone and the instant alone, so owners sharing both share one
//!   memo ([`Pair`]). If hours closed at `t` next open at `v`, they next
//!   open at `v` from every instant in `[t, v)` too, so `until` of a
//!   `closed` reason is computed once per closed stretch and pair.
//! - **Hot data is compact.** Interned hours, zone, pair and route key of
//!   every owner sit in one array, the caps only of owners the general
//!   path reads every decision; the config's `Target` is larger and
//!   scattered.
//! - **Reports are kept.** A target's report is reused from the previous
//!   decision while its counters keep their stamp (see [`crate::counters`]) and the
//!   instant has not crossed the next boundary its reasons read: the end of
//!   a window of a set cap, the next open/close minute of today's hours, the
//!   end of the offset span, or the local hour for a concurrency matrix,
//!   and before any lease or its imported live calls can run out
//!   ([`Ledger::lease_bound`]). Targets in groups, and reservation
//!   holders, are always re-evaluated.
//! - **Simple targets are decided before any reason is built.** A target
//!   in no group and without a concurrency matrix is judged from its zone's
//!   cached windows and its hours memo; with no cap reached its report is
//!   a [`Plain`] value (paused? closed until when?), written only when it
//!   differs from what the report holds.
//! - **Cold decisions are one verdict pass.** For a call without
//!   attributes, every target whose kept report lapsed is judged from its
//!   48-byte [`Quick`] record, its zone's prepared window starts and its
//!   counters read in one go, in step over the arrays; a report is written
//!   only when its verdict changed. A report at a cap stands while the
//!   same caps are reached with the same use ([`same_caps`]), even after
//!   its counters were re-stamped.
//! - **Warm decisions are a scan.** Kept reports are skipped eight at a
//!   time ([`first_stale`]), once: the general path starts after the ones
//!   the verdict pass found kept. The route planner keeps its first tier
//!   while [`Checker::keys_version`] says the step keys did not change.
//! - **Filtered calls flip reasons, not keys.** Every target's own filter
//!   is judged at once for the call ([`crate::filter::FilterRows`]); a
//!   kept report whose verdict differs from the one it holds gets its
//!   `filter_mismatch` pushed or popped, and step keys leave that reason
//!   out ([`Checker::refusals`] tells the planner which to drop), so the
//!   planner's first tier stays.
//! - **Buffers are reused.** Reports and their reason lists keep their
//!   capacity between calls: in steady state a decision does not allocate.
//!
//! Every cache entry is keyed by the range of instants it is valid for, so
//! instants may come in any order (time going backwards only costs a
//! recomputation).

use chrono::DateTime;
use chrono_tz::Tz;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hash};

use super::{
    fill_report, target_into, Amount, Call, CandidateReport, Caps, Clock, Judge, Owner, Reason,
    ReasonCode,
};
use crate::callers::CallerHistory;
use crate::caps::Period;
use crate::counters::{fresh_stamp, Counters, Ledger};
use crate::filter::{CallAttrs, CallBuffers};
use crate::hours::{local_weekday_minute, WeeklyHours, MINUTES_PER_DAY};
use crate::model::{CandidateRef, Config};
use crate::money::Money;
use crate::quick_hash::QuickHasher;
use crate::window::window;
use crate::zone::{Instant, Zone};

/// The decision instant, with its Unix second computed once.
#[derive(Clone, Copy, Debug)]
struct Now {
    at: Instant,
    s: i64,
}

/// Sentinel for "not computed for any instant".
const NEVER: i64 = i64::MIN;

/// The cached facts of one zone.
#[derive(Clone, Debug)]
struct ZoneClock {
    zone: Zone,
    /// Unix second the local fields were computed for, or [`NEVER`].
    at: i64,
    /// The same instant.
    instant: Instant,
    /// `[start, end)` of the offset span in force.
    span: (i64, i64),
    offset: i32,
    /// `[start, end)` of the hour, day and month windows, Unix seconds.
    bounds: [(i64, i64); 3],
    /// The same windows' ends as instants (the `until` of cap reasons).
    ends: [Instant; 3],
    weekday: u32,
    minute: u16,
    /// Unix second [`ZoneClock::prepare`] last ran for, or [`NEVER`].
    prepared: i64,
    /// Start of the hour, day and month windows at `prepared`.
    starts: [i64; 3],
    /// Earliest end among the windows of each set of periods (bit `i`:
    /// `Period::ALL[i]`) at `prepared`: until when a verdict reading those
    /// windows holds.
    ends_min: [i64; 8],
}

fn contains((start, end): (i64, i64), s: i64) -> bool {
    start <= s && s < end
}

impl ZoneClock {
    fn new(zone: Zone) -> Self {
        ZoneClock {
            zone,
            at: NEVER,
            instant: Instant::MIN_UTC,
            span: (0, 0),
            offset: 0,
            bounds: [(0, 0); 3],
            ends: [Instant::MIN_UTC; 3],
            weekday: 0,
            minute: 0,
            prepared: NEVER,
            starts: [0; 3],
            ends_min: [i64::MAX; 8],
        }
    }

    /// [`ZoneClock::prepare`] unless already prepared for `now`. The stamp
    /// alone does not tell: [`ZoneClock::refresh`] moves the local fields to
    /// other instants between decisions, and a decision that comes back to
    /// a prepared second would read another second's weekday and minute.
    #[inline]
    fn prepare_for(&mut self, now: Now) {
        if self.prepared != now.s || self.at != now.s {
            self.prepare(now);
        }
    }

    /// Local fields and all three windows of `now`, once per decision for
    /// every target of the zone.
    #[inline(never)]
    fn prepare(&mut self, now: Now) {
        self.refresh(now.at, now.s);
        let same = (self.bounds.iter().zip(&self.starts))
            .all(|(&b, &start)| contains(b, now.s) && b.0 == start);
        if self.prepared != NEVER && same {
            // the windows `starts` and `ends_min` were made from
            self.prepared = now.s;
            return;
        }
        let mut ends = [0; 3];
        for (i, end) in ends.iter_mut().enumerate() {
            let (start, e) = self.bound(i);
            if let Some(s) = self.starts.get_mut(i) {
                *s = start;
            }
            *end = e;
        }
        for (mask, min) in self.ends_min.iter_mut().enumerate() {
            *min = (0..3)
                .filter(|i| mask & (1 << i) != 0)
                .filter_map(|i| ends.get(i).copied())
                .min()
                .unwrap_or(i64::MAX);
        }
        self.prepared = now.s;
    }

    /// Make the local fields those of `at` (a no-op within the same second).
    #[inline]
    fn refresh(&mut self, at: Instant, s: i64) {
        if self.at == s {
            return;
        }
        if !contains(self.span, s) {
            let span = self.zone.span_at(s);
            self.span = (span.start.unwrap_or(i64::MIN), span.end.unwrap_or(i64::MAX));
            self.offset = span.offset;
        }
        (self.weekday, self.minute) = local_weekday_minute(s, self.offset);
        self.at = s;
        self.instant = at;
    }

    /// `[start, end)` of the window of `Period::ALL[i]` containing the
    /// current instant, computed only when some owner of this zone has a
    /// cap of that period and the instant has left the cached one.
    #[inline]
    fn bound(&mut self, i: usize) -> (i64, i64) {
        self.bound_or(i, None)
    }

    /// [`ZoneClock::bound`], taking the window from `known` (an owner's
    /// counters that already hold it) rather than computing it.
    #[inline]
    fn bound_or(&mut self, i: usize, known: Option<&Counters>) -> (i64, i64) {
        match self.bounds.get(i) {
            Some(&b) if contains(b, self.at) => b,
            Some(_) => self.bound_new(i, known),
            None => (self.at, self.at),
        }
    }

    /// [`ZoneClock::bound_or`] once the instant has left the cached window.
    #[inline(never)]
    fn bound_new(&mut self, i: usize, known: Option<&Counters>) -> (i64, i64) {
        let kept = known
            .and_then(|c| c.known_window(i, self.at))
            .and_then(|(start, end)| Some((start, end, DateTime::from_timestamp(end, 0)?)));
        let (start, end, end_at) = match kept {
            Some(k) => k,
            None => {
                let w = window(&self.zone, Period::ALL[i], self.instant);
                (w.start.timestamp(), w.end.timestamp(), w.end)
            }
        };
        self.bounds[i] = (start, end);
        self.ends[i] = end_at;
        (start, end)
    }

    /// The first instant after the current one at which `hours` may change
    /// verdict: the next `open` / `close` minute of today's entry, or local
    /// midnight, or the end of the offset span (a conservative bound).
    fn hours_boundary(&self, hours: &WeeklyHours) -> i64 {
        let s = self.at;
        let second_of_day = (s + i64::from(self.offset)).rem_euclid(86_400);
        let minute = self.minute;
        let day = hours.days.get(self.weekday as usize).copied().flatten();
        let next = match day {
            Some(d) if !d.closed => [d.open, d.close]
                .into_iter()
                .filter(|&b| b > minute)
                .min()
                .unwrap_or(MINUTES_PER_DAY),
            _ => MINUTES_PER_DAY,
        };
        (s - second_of_day + i64::from(next) * 60).min(self.span.1)
    }
}

/// When closed hours reopen: they are closed on `[from, until)` and open at
/// `until` (`from > until`: nothing cached). Reopening instants are whole
/// seconds (minute boundaries or offset changes), so `until` is the instant.
#[derive(Clone, Copy, Debug)]
struct Reopen {
    from: i64,
    until: i64,
}

const NO_REOPEN: Reopen = Reopen { from: 1, until: 0 };

/// The hours verdict and reopening cache of one (schedule, zone) pair.
/// Both depend on the schedule, the zone and the instant alone, so the
/// owners that share a schedule and a zone share them: a campaign has a
/// few hundred pairs at most, however many targets it has.
#[derive(Clone, Copy, Debug)]
struct Pair {
    /// Index into `Caches::schedules`, or [`NO_HOURS`] (open 24/7).
    hours: u32,
    /// Index into `Caches::clocks`.
    clock: u16,
    memo: HoursMemo,
    reopen: Reopen,
}

impl Pair {
    fn new(hours: u32, clock: u16) -> Self {
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
    fn hours_at(&mut self, schedules: &[WeeklyHours], clock: &ZoneClock, s: i64) -> HoursMemo {
        if s >= self.memo.until {
            self.refresh(schedules, clock);
        }
        self.memo
    }

    #[inline(never)]
    fn refresh(&mut self, schedules: &[WeeklyHours], clock: &ZoneClock) {
        if let Some(h) = schedules.get(self.hours as usize) {
            self.memo = HoursMemo {
                open: h.is_open_local(clock.weekday, clock.minute),
                until: clock.hours_boundary(h),
            };
        }
    }
}

/// A [`Clock`] over a fresh [`ZoneClock`] and one owner's reopening cache.
struct Cached<'a> {
    clock: &'a mut ZoneClock,
    at: Instant,
    reopen: &'a mut Reopen,
    /// The owner's counters, which may already know a window.
    counters: &'a Counters,
}

impl Cached<'_> {
    /// When `hours`, closed at the instant, open next, as Unix seconds
    /// (`Some(None)`: never), through the owner's reopening cache; `None`
    /// when that instant is not a whole second (not cached; reopening
    /// instants are minute boundaries or offset changes, so in practice
    /// never).
    fn next_open_secs(&mut self, hours: &WeeklyHours) -> Option<Option<i64>> {
        let s = self.clock.at;
        if contains((self.reopen.from, self.reopen.until), s) {
            return Some(Some(self.reopen.until));
        }
        // closed now, so the next opening is later
        match hours.next_open(&self.clock.zone, self.at) {
            None => Some(None),
            Some(v) if v.timestamp_subsec_nanos() == 0 => {
                *self.reopen = Reopen {
                    from: s,
                    until: v.timestamp(),
                };
                Some(Some(v.timestamp()))
            }
            Some(_) => None,
        }
    }
}

impl Clock for Cached<'_> {
    #[inline]
    fn is_open(&self, hours: &WeeklyHours) -> bool {
        hours.is_open_local(self.clock.weekday, self.clock.minute)
    }

    fn next_open(&mut self, hours: &WeeklyHours) -> Option<Instant> {
        match self.next_open_secs(hours) {
            Some(secs) => secs.and_then(|s| DateTime::from_timestamp(s, 0)),
            None => hours.next_open(&self.clock.zone, self.at),
        }
    }

    #[inline]
    fn window(&mut self, i: usize) -> (i64, Instant) {
        let (start, _) = self.clock.bound_or(i, Some(self.counters));
        (start, self.clock.ends[i])
    }

    fn weekday_hour(&self) -> (u32, u32) {
        (self.clock.weekday, u32::from(self.clock.minute / 60))
    }
}

/// What the checker reads about one owner (target or group) per decision,
/// copied out of the config so that a pass over thousands of targets reads
/// one compact array (the config's `Target` is about 3 KB). Its caps are
/// kept only when the general path reads them on every decision (see
/// [`Caches::caps_of`]).
#[derive(Clone, Copy, Debug)]
struct Hot {
    /// Index into `Caches::caps`, or [`NO_CAPS`] for a [`Quick`] target,
    /// whose caps are read from the config on the rare decision that
    /// builds its cap reasons.
    caps: u32,
    /// Index into `Caches::schedules`, or [`NO_HOURS`] (open 24/7).
    hours: u32,
    /// Index into `Caches::clocks`.
    clock: u16,
    /// Index into `Caches::pairs`.
    pair: u32,
    paused: bool,
    /// Has a concurrency matrix (read from the config: rare, and large).
    matrix: bool,
    /// A target in some group: its report depends on other owners too, so
    /// it is never kept between decisions.
    grouped: bool,
    /// Route step key: priority and weight (effective ones for groups).
    priority: i32,
    weight: u32,
}

const NO_HOURS: u32 = u32::MAX;
const NO_CAPS: u32 = u32::MAX;

const _: () = assert!(std::mem::size_of::<Written>() == 16);

/// What the verdict on a target in no group and without a concurrency
/// matrix reads from the config, in 40 bytes (the general [`Hot`] takes
/// 96): its limits as plain numbers next to a bit set of the ones set, so
/// that a verdict is a few compares without branches. Every target has
/// one.
#[derive(Clone, Copy, Debug)]
struct Quick {
    /// Count limits: hour, day, month, total, concurrency.
    counts: [u32; 5],
    /// The one revenue limit (see `rev`).
    revenue: Money,
    /// Index into `Caches::pairs`: its hours verdict.
    pair: u32,
    /// Index into `Caches::clocks` (the pair's, read without going
    /// through the pair).
    clock: u16,
    /// Bits 0–4: count limits set (as in `counts`); bit 5: revenue limit.
    set: u8,
    /// Which revenue `revenue` limits: hour, day, month, total.
    rev: u8,
    /// Periods whose window ends bound the verdict (bit `i`:
    /// `Period::ALL[i]`): those with a set count or revenue limit.
    periods: u8,
    paused: bool,
    /// Judged by [`Caches::quick`]: in no group, no concurrency matrix, at
    /// most one revenue limit, count limits below 2^32.
    on: bool,
}

impl Quick {
    /// The set limits `use_` reaches (bits as in `set`).
    #[inline]
    fn reached(&self, use_: &CapUse) -> u8 {
        let mut reached = 0u8;
        for (i, (&used, &lim)) in use_.used.iter().zip(&self.counts).enumerate() {
            reached |= u8::from(used >= u64::from(lim)) << i;
        }
        reached |= u8::from(use_.revenue >= self.revenue) << 5;
        reached & self.set
    }

    fn of(hot: &Hot, caps: &Caps) -> Self {
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
        for i in 0..3 {
            if caps.count(i).is_some() || caps.revenue(i).is_some() {
                q.periods |= 1 << i;
            }
        }
        q
    }
}

/// A pair's hours verdict, `open`, holds from when it was computed until
/// `until` (Unix seconds, exclusive; [`NEVER`]: not computed). Time going
/// backwards resets every entry (see [`Checker::run`]).
#[derive(Clone, Copy, Debug)]
struct HoursMemo {
    until: i64,
    open: bool,
}

impl HoursMemo {
    /// Not computed yet; for no hours (open 24/7), open for ever.
    fn fresh(hours: u32) -> Self {
        HoursMemo {
            until: if hours == NO_HOURS { i64::MAX } else { NEVER },
            open: hours == NO_HOURS,
        }
    }
}

/// A target's report whose reasons are at most `paused` then `closed`
/// (until `reopen`, Unix seconds, when `reopens`), as a value: a report
/// already holding it is not written again. `target` is the index plus
/// one; 0 marks no such report. 16 bytes, so that [`Written`] is too.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Plain {
    target: u32,
    paused: bool,
    closed: bool,
    reopens: bool,
    /// 0 unless `reopens`, so that equal reports are equal values.
    reopen: i64,
}

impl Plain {
    fn new(target: u32, paused: bool, closed: bool, reopen: Option<i64>) -> Self {
        Plain {
            target,
            paused,
            closed,
            reopens: reopen.is_some(),
            reopen: reopen.unwrap_or(0),
        }
    }

    /// Its own reasons, in [`ReasonCode`] order.
    fn write(&self, out: &mut Vec<Reason>) {
        if self.paused || self.closed {
            out.reserve_exact(usize::from(self.paused) + usize::from(self.closed));
        }
        if self.paused {
            out.push(super::bare(ReasonCode::Paused, None));
        }
        if self.closed {
            out.push(Reason {
                until: (self.reopens)
                    .then_some(self.reopen)
                    .and_then(|s| DateTime::from_timestamp(s, 0)),
                ..super::bare(ReasonCode::Closed, None)
            });
        }
    }
}

/// What [`Caches::quick`] found.
enum Verdict {
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
struct CapUse {
    used: [u64; 5],
    revenue: Money,
}

/// What a report holds, as a value compared before writing it again
/// (stored as a 16-byte [`Written`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Holds {
    /// Unknown: write it.
    #[default]
    Unknown,
    /// The reasons of a target below every cap, for a call without
    /// attributes.
    Plain(Plain),
    /// The reasons built for target `target - 1` at a cap, for a call
    /// without attributes, from the instant they were built (time going
    /// back forgets them) until `until`: pause, hours and windows are the
    /// same meanwhile, so while the same caps are reached with the same
    /// use ([`same_caps`]) they are the reasons to build.
    Capped { target: u32, until: i64 },
}

/// [`Holds`] in 16 bytes (the enum takes 24), one per report: the
/// fields of a [`Plain`] next to which case it is; `Capped` keeps its
/// `until` in `value`. Equal values are equal cases.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Written {
    /// 0: `Unknown`, 1: `Plain`, 2: `Capped`.
    kind: u8,
    paused: bool,
    closed: bool,
    reopens: bool,
    target: u32,
    value: i64,
}

impl Written {
    const UNKNOWN: Written = Written {
        kind: 0,
        paused: false,
        closed: false,
        reopens: false,
        target: 0,
        value: 0,
    };

    #[inline]
    fn holds(self) -> Holds {
        match self.kind {
            1 => Holds::Plain(Plain {
                target: self.target,
                paused: self.paused,
                closed: self.closed,
                reopens: self.reopens,
                reopen: self.value,
            }),
            2 => Holds::Capped {
                target: self.target,
                until: self.value,
            },
            _ => Holds::Unknown,
        }
    }
}

impl From<Holds> for Written {
    #[inline]
    fn from(h: Holds) -> Self {
        match h {
            Holds::Unknown => Written::UNKNOWN,
            Holds::Plain(p) => Written {
                kind: 1,
                paused: p.paused,
                closed: p.closed,
                reopens: p.reopens,
                target: p.target,
                value: p.reopen,
            },
            Holds::Capped { target, until } => Written {
                kind: 2,
                target,
                value: until,
                ..Written::UNKNOWN
            },
        }
    }
}

/// Whether `reasons`, built for a [`Quick`] target at a cap (pause, hours
/// and windows unchanged since, see [`Holds::Capped`]), name exactly the
/// caps `reached` (bits as in [`Quick::set`]) with the use in `use_`.
fn same_caps(reasons: &[Reason], reached: u8, use_: &CapUse) -> bool {
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
enum Simple {
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
struct Shared {
    now: Now,
    /// No hold expired and no lease ran out at `now` ([`Ledger::quiet_at`]).
    quiet: bool,
    /// [`Ledger::lease_bound`].
    lease_bound: i64,
}

/// Per-zone clocks, per-owner hot data and reopening caches of one config.
#[derive(Clone, Debug, Default)]
struct Caches {
    clocks: Vec<ZoneClock>,
    /// Distinct weekly tables: campaigns share a handful of schedules.
    schedules: Vec<WeeklyHours>,
    /// Each target, then each group.
    hot: Vec<Hot>,
    /// Each distinct (schedule, zone) pair of the owners: hours memo and
    /// reopening cache.
    pairs: Vec<Pair>,
    /// Each target's verdict record.
    quick: Vec<Quick>,
    /// The caps of the owners whose `Hot::caps` points here.
    caps: Vec<Caps>,
    targets: usize,
    /// Empty: `hot` has a record for every owner, by owner index (targets
    /// first, then groups). Otherwise the owner index of each record (the
    /// caches of a few owners, see [`Caches::of_target`]).
    slots: Vec<usize>,
}

/// Interning index: key → position in its list.
type Interner<K> = HashMap<K, u32, BuildHasherDefault<QuickHasher>>;

/// Entries of an interned list found by a plain scan; only later ones go
/// through the hash index (a handful of zones or schedules is the usual
/// case, and scanning them beats hashing).
const SCANNED: usize = 8;

/// Index of `key` in `list` (`same` tells whether an entry is `key`'s),
/// appending it the first time it is seen.
fn intern<K: Eq + Hash + Clone, V>(
    index: &mut Interner<K>,
    list: &mut Vec<V>,
    key: &K,
    same: impl Fn(&V) -> bool,
    make: impl FnOnce() -> V,
) -> u32 {
    // fewer than 2^32 owners, so positions fit
    let pos = |i: usize| u32::try_from(i).unwrap_or(u32::MAX);
    if let Some(i) = list.iter().take(SCANNED).position(same) {
        return pos(i);
    }
    if list.len() > SCANNED {
        if let Some(&i) = index.get(key) {
            return i;
        }
    }
    let i = list.len();
    list.push(make());
    if i >= SCANNED {
        index.insert(key.clone(), pos(i));
    }
    pos(i)
}

/// Interns the zones, schedules and (schedule, zone) pairs of the owners
/// added, making each one's [`Hot`] record.
#[derive(Default)]
struct HotBuilder {
    clocks: Vec<ZoneClock>,
    zone_index: Interner<Tz>,
    schedules: Vec<WeeklyHours>,
    hours_index: Interner<WeeklyHours>,
    pairs: Vec<Pair>,
    pair_index: Interner<(u32, u16)>,
}

impl HotBuilder {
    /// The record and caps of `owner` (`grouped`: a target in some group).
    fn owner(
        &mut self,
        config: &Config,
        owner: CandidateRef,
        grouped: bool,
    ) -> Option<(Hot, Caps)> {
        let (zone, hours, caps, paused, matrix) = match owner {
            CandidateRef::Target(t) => {
                let t = config.targets.get(t)?;
                let matrix = t.concurrency_matrix().is_some();
                (
                    &t.zone,
                    t.hours.as_deref(),
                    Caps::of(&t.limits()),
                    t.paused,
                    matrix,
                )
            }
            CandidateRef::Group(g) => {
                let g = config.groups.get(g)?;
                let matrix = g.concurrency_matrix.is_some();
                (
                    &g.zone,
                    g.hours.as_deref(),
                    Caps::of(&g.limits),
                    false,
                    matrix,
                )
            }
        };
        let tz = zone.tz();
        let same = |c: &ZoneClock| c.zone.tz() == tz;
        let clock = intern(&mut self.zone_index, &mut self.clocks, &tz, same, || {
            ZoneClock::new(zone.clone())
        });
        let hours = hours.map_or(NO_HOURS, |h| {
            let same = |s: &WeeklyHours| s == h;
            intern(&mut self.hours_index, &mut self.schedules, h, same, || {
                h.clone()
            })
        });
        // fewer distinct zones than chrono-tz has, so this fits
        let clock = u16::try_from(clock).unwrap_or(u16::MAX);
        let same = |p: &Pair| p.hours == hours && p.clock == clock;
        let key = (hours, clock);
        let pair = intern(&mut self.pair_index, &mut self.pairs, &key, same, || {
            Pair::new(hours, clock)
        });
        let (priority, weight) = config.step_key(owner).unwrap_or_default();
        let hot = Hot {
            caps: NO_CAPS,
            hours,
            clock,
            pair,
            paused,
            matrix,
            grouped,
            priority,
            weight,
        };
        Some((hot, caps))
    }

    /// The caches of `owners`, with [`Quick`] records for the first
    /// `targets` of them when `quick`.
    fn finish(self, owners: Vec<(Hot, Caps)>, targets: usize, quick: bool) -> Caches {
        let mut kept = Vec::new();
        let mut records = Vec::with_capacity(if quick { targets } else { 0 });
        let mut hots = Vec::with_capacity(owners.len());
        for (k, (mut hot, caps)) in owners.into_iter().enumerate() {
            if quick && k < targets {
                records.push(Quick::of(&hot, &caps));
            }
            // a Quick target's caps are read only to build its cap
            // reasons: from the config then, not kept (80 bytes each)
            if records.get(k).is_none_or(|q| !q.on) {
                hot.caps = u32::try_from(kept.len()).unwrap_or(NO_CAPS);
                kept.push(caps);
            }
            hots.push(hot);
        }
        Caches {
            clocks: self.clocks,
            schedules: self.schedules,
            pairs: self.pairs,
            quick: records,
            hot: hots,
            caps: kept,
            targets,
            slots: Vec::new(),
        }
    }
}

impl Caches {
    fn new(config: &Config) -> Self {
        let mut grouped = vec![false; config.targets.len()];
        for &m in config.groups.iter().flat_map(|g| &g.members) {
            if let Some(x) = grouped.get_mut(m) {
                *x = true;
            }
        }
        let mut builder = HotBuilder::default();
        let mut owners = Vec::with_capacity(config.targets.len() + config.groups.len());
        for (t, grouped) in grouped.into_iter().enumerate() {
            owners.extend(builder.owner(config, CandidateRef::Target(t), grouped));
        }
        for g in 0..config.groups.len() {
            owners.extend(builder.owner(config, CandidateRef::Group(g), false));
        }
        builder.finish(owners, config.targets.len(), true)
    }

    /// The caches of target `t` and its groups alone: what the reasons of
    /// one target read, without a record for every owner of the config.
    fn of_target(config: &Config, ledger: &Ledger, t: usize) -> Self {
        let groups = ledger.groups_of(t);
        let mut builder = HotBuilder::default();
        let mut owners = Vec::with_capacity(1 + groups.len());
        let mut slots = Vec::with_capacity(1 + groups.len());
        let targets = config.targets.len();
        let listed = [CandidateRef::Target(t)].into_iter();
        for owner in listed.chain(groups.iter().map(|&g| CandidateRef::Group(g))) {
            if let Some(hot) = builder.owner(config, owner, !groups.is_empty()) {
                owners.push(hot);
                slots.push(match owner {
                    CandidateRef::Target(t) => t,
                    CandidateRef::Group(g) => targets + g,
                });
            }
        }
        Caches {
            slots,
            ..builder.finish(owners, targets, false)
        }
    }

    /// The record of owner `k` (targets first, then groups).
    #[inline]
    fn hot_of(&self, k: usize) -> Option<&Hot> {
        if self.slots.is_empty() {
            return self.hot.get(k);
        }
        let slot = self.slots.iter().position(|&o| o == k)?;
        self.hot.get(slot)
    }

    /// The caps of owner `k` (targets first, then groups): kept, or for a
    /// [`Quick`] target read from the config (see [`Hot::caps`]).
    fn caps_of(&self, k: usize, config: &Config) -> Option<Caps> {
        match self.caps.get(self.hot_of(k)?.caps as usize) {
            Some(&caps) => Some(caps),
            None => Some(Caps::of(&config.targets.get(k)?.limits())),
        }
    }

    /// Reasons of owner `k` (targets first, then groups) at `now`, except
    /// `paused`. Returns until when (Unix seconds, exclusive) they stay the
    /// same if the owner's counters do.
    #[inline]
    fn owner_reasons(
        &mut self,
        k: usize,
        config: &Config,
        ledger: &Ledger,
        now: Now,
        out: &mut Vec<Reason>,
    ) -> i64 {
        let (Some(&hot), Some(caps)) = (self.hot_of(k), self.caps_of(k, config)) else {
            return now.s;
        };
        let Some(reopen) = self.pairs.get_mut(hot.pair as usize).map(|p| &mut p.reopen) else {
            return now.s;
        };
        let Some(clock) = self.clocks.get_mut(usize::from(hot.clock)) else {
            return now.s;
        };
        clock.refresh(now.at, now.s);
        let (owner, group) = if k < self.targets {
            (CandidateRef::Target(k), None)
        } else {
            (
                CandidateRef::Group(k - self.targets),
                Some(k - self.targets),
            )
        };
        let matrix = match (hot.matrix, group) {
            (false, _) => None,
            (true, None) => config.targets.get(k).and_then(|t| t.concurrency_matrix()),
            (true, Some(g)) => config
                .groups
                .get(g)
                .and_then(|g| g.concurrency_matrix.as_ref()),
        };
        let (counters, held, live) = ledger.counters(owner, now.at);
        let hours = self.schedules.get(hot.hours as usize);
        Owner {
            hours,
            caps: &caps,
            matrix,
            counters,
            held,
            live,
            group,
        }
        .reasons(
            &mut Cached {
                clock,
                at: now.at,
                reopen,
                counters,
            },
            out,
        );
        // what the reasons read: windows of set caps, hours, matrix cell
        let mut until = i64::MAX;
        for i in 0..3 {
            if caps.count(i).is_some() || caps.revenue(i).is_some() {
                until = until.min(clock.bound(i).1);
            }
        }
        if let Some(h) = hours {
            until = until.min(clock.hours_boundary(h));
        }
        if hot.matrix {
            until = until.min(clock.span.1).min(clock.bound(0).1);
        }
        until
    }

    /// The verdict on target `t` from its [`Quick`] record, its zone's
    /// prepared windows, its hours memo and one read of its counters.
    /// `None`: left to [`Caches::simple`] (a hold expired or a lease lapsed
    /// at the instant, grouped, a matrix, or reopening at no whole second).
    #[inline]
    fn quick(&mut self, t: usize, ledger: &Ledger, shared: &Shared) -> Option<Verdict> {
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
    fn simple(
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
            out.push(super::bare(ReasonCode::Paused, None));
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

    /// [`Caches::step_key`] of a report of a target as if it did not hold
    /// its own `filter_mismatch`, when `own` says it does.
    fn base_key(&self, rep: &CandidateReport, own: bool) -> Option<(i32, u32)> {
        match rep.candidate {
            CandidateRef::Target(t) if own => (rep.reasons.len() == 1)
                .then(|| self.hot.get(t).map(|h| (h.priority, h.weight)))
                .flatten(),
            _ => self.step_key(rep),
        }
    }

    /// `(priority, weight)` of a routable report's step: the
    /// [`Config::step_key`] copied into the hot data.
    fn step_key(&self, rep: &CandidateReport) -> Option<(i32, u32)> {
        if !rep.is_routable() {
            return None;
        }
        let k = match rep.candidate {
            CandidateRef::Target(t) => t,
            CandidateRef::Group(g) => self.targets + g,
        };
        self.hot.get(k).map(|h| (h.priority, h.weight))
    }
}

/// The shared reason builder's source of own reasons, through the caches.
struct Fast<'a> {
    caches: &'a mut Caches,
    config: &'a Config,
    ledger: &'a Ledger,
    now: Now,
}

impl Judge for Fast<'_> {
    fn paused(&self, t: usize) -> bool {
        self.caches.hot_of(t).is_some_and(|h| h.paused)
    }

    fn own(&mut self, owner: CandidateRef, out: &mut Vec<Reason>) -> i64 {
        let k = match owner {
            CandidateRef::Target(t) if t < self.caches.targets => t,
            CandidateRef::Group(g) if g < self.config.groups.len() => self.caches.targets + g,
            _ => return i64::MIN,
        };
        self.caches
            .owner_reasons(k, self.config, self.ledger, self.now, out)
    }
}

/// The candidates of one call: targets `0..identity` in order, then
/// `rest` — a config's default candidates without a list entry per
/// target (16 bytes each at a million targets).
#[derive(Clone, Copy, Debug)]
struct Cands<'a> {
    identity: usize,
    rest: &'a [CandidateRef],
}

impl<'a> Cands<'a> {
    fn of(identity: usize, rest: &'a [CandidateRef]) -> Self {
        Cands { identity, rest }
    }

    fn len(&self) -> usize {
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

/// A kept report: valid while its target's counters keep `stamp` and the
/// instant stays before `until` (Unix seconds; it was made at an instant
/// no later than the current one, see [`Checker::latest`]). `stamp` 0:
/// not kept.
#[derive(Clone, Copy, Debug, Default)]
struct Memo {
    stamp: u64,
    until: i64,
}

impl Memo {
    /// Not kept at `now` for counters of stable stamp `stable`.
    #[inline]
    fn lapsed(&self, stable: u64, now: i64) -> bool {
        (self.stamp == 0) | (now >= self.until) | (stable != self.stamp)
    }
}

/// Make `rep` the report of target `t` holding `plain`'s reasons alone.
#[inline(never)]
fn rewrite_plain(rep: &mut CandidateReport, t: usize, plain: Plain) {
    rep.candidate = CandidateRef::Target(t);
    rep.eligible_members.clear();
    rep.reasons.clear();
    plain.write(&mut rep.reasons);
    rep.eligible = rep.reasons.is_empty();
}

/// A reusable eligibility checker for one [`Config`]: the reports of
/// [`check`](super::check) / [`check_candidates`](super::check_candidates),
/// equal field for field, from caches kept between calls and buffers it
/// owns. In steady state a call does not allocate.
///
/// Build one per config and keep it with that config (a checker handed a
/// config of another shape rebuilds itself; one of the same shape but other
/// zones would get wrong answers). Instants may come in any order.
#[derive(Clone, Debug, Default)]
pub struct Checker {
    caches: Caches,
    /// The config's default candidates after the first `identity` (see
    /// [`Cands`]).
    candidates: Vec<CandidateRef>,
    /// Reports; only the first `len` belong to the last call, the others
    /// are kept for their buffers.
    reports: Vec<CandidateReport>,
    len: usize,
    /// Route step key of each report (see [`Checker::step_keys`]).
    keys: StepKeys,
    /// One per report of the default candidates (see [`Memo`]).
    memo: Vec<Memo>,
    /// Per report: what it holds when it is a [`Plain`] report of an
    /// ungrouped target for a call without filter reasons (with its step
    /// key), so that an unchanged verdict is not written again.
    written: Vec<Written>,
    /// Bit per report: it holds its target's own `filter_mismatch` (last
    /// of its reasons when kept), so a kept report's reasons are not read
    /// to find out.
    held: Vec<u64>,
    /// Reports `0..refused_upto` are of targets `0, 1, …` and their step
    /// keys leave out their target's own filter (see [`Checker::refusals`]).
    refused_upto: usize,
    /// How many of them have a step key and are refused by that filter.
    refused_keyed: usize,
    scratch: Vec<Reason>,
    /// The prepared call's buffers, kept between decisions.
    buffers: CallBuffers,
    groups: usize,
    /// Changes whenever some step key or the number of reports does (see
    /// [`Checker::keys_version`]).
    keys_version: u64,
    /// How many of the default candidates are targets `0, 1, …` in order
    /// (every one, in a config without groups).
    identity: usize,
    /// The latest instant decided (Unix seconds): memos are valid from
    /// the instant they were made, so time going back before it forgets
    /// them all.
    latest: i64,
}

impl Checker {
    /// A checker for `config`.
    pub fn new(config: &Config) -> Self {
        let mut candidates = config.default_candidates();
        let identity = (candidates.iter().enumerate())
            .take_while(|&(i, c)| *c == CandidateRef::Target(i))
            .count();
        candidates.drain(..identity);
        candidates.shrink_to_fit();
        Checker {
            caches: Caches::new(config),
            candidates,
            reports: Vec::new(),
            len: 0,
            keys: StepKeys::default(),
            memo: Vec::new(),
            written: Vec::new(),
            held: Vec::new(),
            refused_upto: 0,
            refused_keyed: 0,
            scratch: Vec::new(),
            buffers: CallBuffers::default(),
            groups: config.groups.len(),
            keys_version: fresh_stamp(),
            identity,
            latest: NEVER,
        }
    }

    /// Eligibility of the config's default candidates at `at`, as
    /// [`check`](super::check).
    pub fn check(&mut self, config: &Config, state: &Ledger, at: Instant) -> &[CandidateReport] {
        self.check_call(config, state, at, &CallAttrs::new())
    }

    /// [`Checker::check`] for a call with attributes, as
    /// [`check_call`](super::check_call).
    pub fn check_call(
        &mut self,
        config: &Config,
        state: &Ledger,
        at: Instant,
        attrs: &CallAttrs,
    ) -> &[CandidateReport] {
        self.fit(config);
        let rest = core::mem::take(&mut self.candidates);
        let call = Call::with_buffers(config, attrs, &mut self.buffers);
        let cands = Cands::of(self.identity, &rest);
        self.run(config, state, at, cands, true, &call);
        call.keep_buffers(&mut self.buffers);
        self.candidates = rest;
        self.reports()
    }

    /// Eligibility of `cands` (`None`: the default candidates) for a call
    /// judged against its caller's `history`, as [`check_seen`](super::check_seen).
    pub fn check_seen(
        &mut self,
        config: &Config,
        state: &Ledger,
        at: Instant,
        cands: Option<&[CandidateRef]>,
        attrs: &CallAttrs,
        history: &CallerHistory,
    ) -> &[CandidateReport] {
        self.fit(config);
        let call = Call::seen(config, attrs, history, at, &mut self.buffers);
        match cands {
            None => {
                let rest = core::mem::take(&mut self.candidates);
                self.run(
                    config,
                    state,
                    at,
                    Cands::of(self.identity, &rest),
                    true,
                    &call,
                );
                self.candidates = rest;
            }
            Some(cands) => {
                self.forget();
                self.run(config, state, at, Cands::of(0, cands), false, &call);
            }
        }
        call.keep_buffers(&mut self.buffers);
        self.reports()
    }

    /// Eligibility of `cands` at `at`, as [`check_candidates`](super::check_candidates)
    /// (indices outside the config are skipped).
    pub fn check_candidates(
        &mut self,
        config: &Config,
        state: &Ledger,
        at: Instant,
        cands: &[CandidateRef],
    ) -> &[CandidateReport] {
        self.check_candidates_call(config, state, at, cands, &CallAttrs::new())
    }

    /// [`Checker::check_candidates`] for a call with attributes.
    pub fn check_candidates_call(
        &mut self,
        config: &Config,
        state: &Ledger,
        at: Instant,
        cands: &[CandidateRef],
        attrs: &CallAttrs,
    ) -> &[CandidateReport] {
        self.fit(config);
        // reports are about to hold other candidates: forget what was kept
        self.forget();
        let call = Call::with_buffers(config, attrs, &mut self.buffers);
        self.run(config, state, at, Cands::of(0, cands), false, &call);
        call.keep_buffers(&mut self.buffers);
        self.reports()
    }

    /// One decision with a fresh checker, its reports handed over: the
    /// one-shot [`check`](super::check) (`cands` `None`: the default
    /// candidates) and [`check_candidates`](super::check_candidates).
    pub(crate) fn once(
        config: &Config,
        ledger: &Ledger,
        at: Instant,
        cands: Option<&[CandidateRef]>,
        call: &Call<'_>,
    ) -> Vec<CandidateReport> {
        let mut checker = Checker::new(config);
        let n = cands.map_or(checker.identity + checker.candidates.len(), <[_]>::len);
        checker.reports.reserve_exact(n);
        checker.keys.keys.reserve_exact(n);
        match cands {
            Some(cands) => checker.run(config, ledger, at, Cands::of(0, cands), false, call),
            None => {
                let rest = core::mem::take(&mut checker.candidates);
                let cands = Cands::of(checker.identity, &rest);
                checker.run(config, ledger, at, cands, false, call);
            }
        }
        let mut reports = checker.reports;
        reports.truncate(checker.len);
        reports
    }

    /// Append to `out` every reason target `t` is not eligible at `at` for
    /// `call`: `paused`, its own, its groups', then the call's. Caches of
    /// that target and its groups alone: a re-check of one target (a
    /// connect) reads nothing of the other owners.
    pub(crate) fn target_reasons(
        config: &Config,
        ledger: &Ledger,
        at: Instant,
        call: &Call<'_>,
        t: usize,
        out: &mut Vec<Reason>,
    ) {
        let mut judge = Fast {
            caches: &mut Caches::of_target(config, ledger, t),
            config,
            ledger,
            now: Now {
                at,
                s: at.timestamp(),
            },
        };
        target_into(&mut judge, config, ledger, call, t, None, out);
    }

    /// `(priority, weight)` of each report's route step if it is eligible:
    /// what the route planner would read from the config, kept in a
    /// compact array next to the reports.
    ///
    /// The keys of reports `0..upto` of [`Checker::refusals`] leave out
    /// their target's own filter: the plan drops those it refuses. A call
    /// then changes reasons but not keys, and the planner keeps its first
    /// tier.
    pub(crate) fn step_keys(&self) -> &[Option<(i32, u32)>] {
        self.keys.keys.get(..self.len).unwrap_or(&[])
    }

    /// Which reports the last call's own target filters refuse: bit `i`
    /// of `bits` for report `i < upto`, and how many of those have a step
    /// key.
    pub(crate) fn refusals(&self) -> Refusals<'_> {
        Refusals {
            bits: self.buffers.refused(),
            upto: self.refused_upto,
            keyed: self.refused_keyed,
        }
    }

    /// A value that changes whenever [`Checker::step_keys`] does, unique
    /// across checkers: a route planner keeps what it derived from the
    /// keys while it stays the same.
    pub(crate) fn keys_version(&self) -> u64 {
        self.keys_version
    }

    /// The reports of the last call.
    pub fn reports(&self) -> &[CandidateReport] {
        self.reports.get(..self.len).unwrap_or(&[])
    }

    /// Forget the reports kept between decisions, so that the next one
    /// evaluates every candidate (zone clocks and reopening times stay
    /// cached). For benchmarks and tests; answers never depend on it.
    pub fn forget(&mut self) {
        self.memo.iter_mut().for_each(|m| m.stamp = 0);
    }

    /// Rebuild for a config of another shape.
    fn fit(&mut self, config: &Config) {
        if self.caches.targets != config.targets.len() || self.groups != config.groups.len() {
            *self = Checker::new(config);
        }
    }

    /// Fill the reports of `cands`. With `keep` (the default candidates,
    /// always the same list), a target's report is kept from the previous
    /// decision when neither its counters nor anything its reasons read at
    /// this instant changed.
    fn run(
        &mut self,
        config: &Config,
        ledger: &Ledger,
        at: Instant,
        cands: Cands<'_>,
        keep: bool,
        call: &Call<'_>,
    ) {
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
        let shared = Shared {
            now,
            quiet: ledger.quiet_at(at),
            lease_bound: ledger.lease_bound(),
        };
        if keep && self.memo.len() < cands.len() {
            self.memo.resize(cands.len(), Memo::default());
            // one report each: room for exactly that many, not a doubling
            let more = cands.len().saturating_sub(self.reports.len());
            self.reports.reserve_exact(more);
            self.keys.keys.reserve_exact(more);
            self.written.reserve_exact(more);
        }
        let (targets, groups) = (config.targets.len(), config.groups.len());
        let (active, filters_only) = (call.active(), call.filters_only());
        let mut changed = false;
        // reports kept for a call without attributes are skipped in runs,
        // found by a branch-free scan, while report `n` is target `n`
        // the reports before `kept` are kept: the verdict pass read them
        let mut kept = 0;
        if keep && !active && shared.quiet {
            kept = self.verdict_pass(ledger, &shared, &mut changed);
        }
        let runs = keep && (!active || filters_only);
        let (mut n, mut next) = (kept, kept);
        while let Some(candidate) = cands.get(next) {
            if runs && next == n && n < self.identity {
                let memo = self.memo.get(..self.identity).unwrap_or(&[]);
                let stale = first_stale(memo, ledger.stable_stamps(), n, now.s);
                if stale > n {
                    (n, next) = (stale, stale);
                    continue;
                }
                // report `n` is of target `n`, not kept: judged from its
                // verdict record when below every cap or at an unchanged cap
                if !active && self.quick_report(n, ledger, &shared, &mut changed) {
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
            // the warm path: a kept report, nothing else read but, for a
            // call judged by filters alone, the target's own filter
            if let (Some(t), true, Some(m)) =
                (target, keep && (!active || filters_only), self.memo.get(n))
            {
                if m.stamp != 0 && now.s < m.until && ledger.stable_stamp(t) == Some(m.stamp) {
                    // reports below `identity` had theirs in the filter pass
                    if active && n >= self.identity {
                        if let (Some(rep), Some(written)) =
                            (self.reports.get_mut(n), self.written.get_mut(n))
                        {
                            let refused = call.refuses(t);
                            if bit(&self.held, n) != refused {
                                flip_filter_reason(rep, written, refused);
                                put_bit(&mut self.held, n, refused);
                                let key = self.caches.step_key(rep);
                                self.keys.set(n, key, &mut changed);
                            }
                        }
                    }
                    n += 1;
                    continue;
                }
            }
            if n == self.reports.len() {
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
            // the report is written below: it holds its target's own
            // filter reason iff that filter refuses the call, and below
            // `identity` its step key leaves that reason out
            let own = target.is_some_and(|t| call.refuses(t));
            put_bit(&mut self.held, n, own);
            let own = own && keep && n < self.identity;
            let key = n;
            let (Some(rep), Some(written)) = (self.reports.get_mut(n), self.written.get_mut(n))
            else {
                break;
            };
            let memo = if keep { self.memo.get_mut(n) } else { None };
            n += 1;
            if let (Some(t), Some(m)) = (target, memo.as_deref()) {
                let stamp = ledger.stable_stamp(t);
                if m.stamp != 0 && Some(m.stamp) == stamp && now.s < m.until {
                    // kept reports are of ungrouped targets: only
                    // their own call-dependent reasons can differ
                    if call.active() {
                        let k = (rep, &mut self.keys, key, written);
                        rejudge_kept(&mut self.caches, k, (t, own), ledger, call, &mut changed);
                    }
                    continue;
                }
            }
            let simple = match target {
                Some(t) => match self.caches.quick(t, ledger, &shared) {
                    Some(Verdict::Below(plain, until)) => Some(Simple::Plain(plain, until)),
                    Some(Verdict::Reached(reached, use_)) => match written.holds() {
                        // the same cap use while the windows and hours
                        // hold: the report built from it stands
                        Holds::Capped { target, until }
                            if !active
                                && now.s < until
                                && usize::try_from(target) == Ok(t + 1)
                                && same_caps(&rep.reasons, reached, &use_) =>
                        {
                            Some(Simple::Kept(until))
                        }
                        _ => {
                            match self
                                .caches
                                .simple(t, (config, ledger), &shared, &mut rep.reasons)
                            {
                                Some(Simple::Built(until)) => {
                                    let target = u32::try_from(t + 1).unwrap_or(0);
                                    Some(Simple::Capped(target, until))
                                }
                                other => other,
                            }
                        }
                    },
                    None => self
                        .caches
                        .simple(t, (config, ledger), &shared, &mut rep.reasons),
                },
                None => None,
            };
            let until = match target {
                Some(t) => match simple {
                    Some(Simple::Plain(plain, until)) => {
                        if active || *written != Written::from(Holds::Plain(plain)) {
                            rep.candidate = candidate;
                            rep.eligible_members.clear();
                            rep.reasons.clear();
                            plain.write(&mut rep.reasons);
                            // in no group: only its own call-dependent reasons
                            call.target(ledger, t, None, &mut rep.reasons);
                            rep.eligible = rep.reasons.is_empty();
                            self.keys
                                .set(key, self.caches.base_key(rep, own), &mut changed);
                            *written = if active {
                                Written::UNKNOWN
                            } else {
                                Holds::Plain(plain).into()
                            };
                        }
                        Some(until)
                    }
                    Some(Simple::Built(until)) => {
                        rep.candidate = candidate;
                        rep.eligible_members.clear();
                        call.target(ledger, t, None, &mut rep.reasons);
                        rep.eligible = rep.reasons.is_empty();
                        self.keys
                            .set(key, self.caches.base_key(rep, own), &mut changed);
                        *written = Written::UNKNOWN;
                        Some(until)
                    }
                    Some(Simple::Capped(target, until)) => {
                        rep.candidate = candidate;
                        rep.eligible_members.clear();
                        call.target(ledger, t, None, &mut rep.reasons);
                        rep.eligible = rep.reasons.is_empty();
                        self.keys
                            .set(key, self.caches.base_key(rep, own), &mut changed);
                        *written = match active {
                            false if target != 0 => Holds::Capped { target, until }.into(),
                            _ => Written::UNKNOWN,
                        };
                        Some(until)
                    }
                    Some(Simple::Kept(until)) => Some(until),
                    None => None,
                },
                None => None,
            };
            let until = match until {
                Some(u) => u,
                None => {
                    let mut judge = Fast {
                        caches: &mut self.caches,
                        config,
                        ledger,
                        now,
                    };
                    let u = fill_report(
                        &mut judge,
                        config,
                        ledger,
                        call,
                        candidate,
                        rep,
                        &mut self.scratch,
                    );
                    self.keys
                        .set(key, self.caches.base_key(rep, own), &mut changed);
                    *written = Written::UNKNOWN;
                    u
                }
            };
            if let Some(m) = memo {
                // a group's report, or a grouped target's, reads other
                // owners' counters too: never kept
                let kept = target.filter(|&t| self.caches.hot.get(t).is_some_and(|h| !h.grouped));
                // live calls also change by time alone: a lease or the
                // imported live calls running out
                *m = match kept.and_then(|t| Some((ledger.stable_stamp(t)?, ledger.target(t)?))) {
                    Some((stamp, c)) => Memo {
                        stamp,
                        until: until.min(shared.lease_bound).min(c.imported_bound()),
                    },
                    None => Memo::default(),
                };
            }
        }
        // for a call judged by filters alone, kept reports were skipped:
        // the filter pass gives them the call's verdict
        if keep && filters_only {
            self.filter_pass(n, call);
        }
        if changed || n != self.len {
            self.keys_version = fresh_stamp();
        }
        self.len = n;
        let bits = call.refused_bits();
        self.refused_upto = if keep && !bits.is_empty() {
            self.identity.min(n)
        } else {
            0
        };
        self.refused_keyed = count_below(bits, &self.keys.some, self.refused_upto);
    }
}

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
    fn verdict_pass(&mut self, ledger: &Ledger, shared: &Shared, changed: &mut bool) -> usize {
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
        let lease_bound = shared.lease_bound;
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
                let (Some(clock), Some(pair)) = (
                    clocks.get_mut(usize::from(q.clock)).filter(|_| q.on),
                    pairs.get_mut(q.pair as usize),
                ) else {
                    left = left.min(t);
                    continue;
                };
                clock.prepare_for(now);
                let HoursMemo { open, until } = pair.hours_at(schedules, clock, now.s);
                let ends = clock.ends_min.get(usize::from(q.periods & 7));
                let mut until = until.min(ends.copied().unwrap_or(i64::MIN));
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
                    match written.holds() {
                        Holds::Capped { target, until: u }
                            if now.s < u
                                && usize::try_from(target) == Ok(t + 1)
                                && reports.get(t).is_some_and(same) =>
                        {
                            until = u;
                        }
                        _ => {
                            left = left.min(t);
                            continue;
                        }
                    }
                } else {
                    let reopen = pair.reopen;
                    let cached = contains((reopen.from, reopen.until), now.s);
                    if !(open || cached) {
                        left = left.min(t);
                        continue;
                    }
                    let target = u32::try_from(t + 1).unwrap_or(0);
                    let reopen = (!open).then_some(reopen.until);
                    let plain = Plain::new(target, q.paused, !open, reopen);
                    if *written != Written::from(Holds::Plain(plain)) {
                        let Some(rep) = reports.get_mut(t) else {
                            left = left.min(t);
                            continue;
                        };
                        rewrite_plain(rep, t, plain);
                        let step = rep.is_routable().then(|| hot.get(t)).flatten();
                        keys.set(t, step.map(|h| (h.priority, h.weight)), changed);
                        *written = Holds::Plain(plain).into();
                        put_bit(held, t, false);
                    }
                }
                *m = match stamp {
                    0 => Memo::default(),
                    stamp => Memo {
                        stamp,
                        until: until.min(lease_bound).min(c.imported_bound()),
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

    /// For a call judged by filters alone, after the general path wrote
    /// every report that was not kept (each then holds its target's own
    /// filter verdict, see [`Checker::held`]): every kept report of
    /// targets `0, 1, …` below `n` (see [`Checker::identity`]) gets the
    /// call's. Those whose verdict differs from the one they hold are the
    /// set bits of one `xor` per 64 reports, and only those are written
    /// (the reason pushed, then popped, with no branch on which; step keys
    /// leave it out, so they stay).
    fn filter_pass(&mut self, n: usize, call: &Call<'_>) {
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

    /// Report `n`, of target `n` (kept reports, a call without attributes),
    /// judged by [`Caches::quick`]: written only when its verdict differs
    /// from what it holds, kept as is at an unchanged cap use, and its
    /// memo set. `false`: nothing done, left to the general path (not a
    /// [`Quick`] target, or a cap reached with another use: reasons built).
    #[inline]
    fn quick_report(
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
fn first_stale(memo: &[Memo], stable: &[u64], from: usize, now: i64) -> usize {
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

/// Make `rep`, of an ungrouped target kept for a call judged by filters
/// alone (its only call-dependent reason is its own filter's, last),
/// hold `filter_mismatch` exactly when `refused`, which differs from what
/// it holds.
#[inline]
fn flip_filter_reason(rep: &mut CandidateReport, written: &mut Written, refused: bool) {
    if refused {
        // room for exactly this reason the first time, not the four a
        // growing `Vec` takes: kept reports' lists stay small and close
        if rep.reasons.len() == rep.reasons.capacity() {
            rep.reasons.reserve_exact(1);
        }
        rep.reasons
            .push(super::bare(ReasonCode::FilterMismatch, None));
    } else {
        // dropped in place: nothing is moved out
        rep.reasons.truncate(rep.reasons.len().saturating_sub(1));
    }
    rep.eligible = rep.reasons.is_empty();
    *written = Written::UNKNOWN;
}

/// Route step keys of the reports, with a bit set of those that have one.
#[derive(Clone, Debug, Default)]
struct StepKeys {
    keys: Vec<Option<(i32, u32)>>,
    some: Vec<u64>,
}

impl StepKeys {
    fn push(&mut self) {
        self.keys.push(None);
        if self.keys.len() > self.some.len() * 64 {
            self.some.push(0);
        }
    }

    /// Set report `n`'s key, noting whether it changed (see
    /// [`Checker::keys_version`]).
    #[inline]
    fn set(&mut self, n: usize, key: Option<(i32, u32)>, changed: &mut bool) {
        if let Some(slot) = self.keys.get_mut(n) {
            if *slot != key {
                *slot = key;
                *changed = true;
                put_bit(&mut self.some, n, key.is_some());
            }
        }
    }
}

/// The reports the last call's own target filters refuse (see
/// [`Checker::refusals`]).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Refusals<'a> {
    bits: &'a [u64],
    upto: usize,
    /// How many refused reports below `upto` have a step key.
    pub keyed: usize,
}

impl Refusals<'_> {
    /// No report refused.
    pub const NONE: Refusals<'static> = Refusals {
        bits: &[],
        upto: 0,
        keyed: 0,
    };

    /// Whether report `i`'s own target filter refuses the call.
    #[inline]
    pub fn refused(&self, i: usize) -> bool {
        i < self.upto && bit(self.bits, i)
    }
}

#[inline]
fn bit(bits: &[u64], i: usize) -> bool {
    bits.get(i / 64).is_some_and(|w| w >> (i % 64) & 1 != 0)
}

#[inline]
fn put_bit(bits: &mut [u64], i: usize, on: bool) {
    if let Some(w) = bits.get_mut(i / 64) {
        let b = 1u64 << (i % 64);
        *w = if on { *w | b } else { *w & !b };
    }
}

/// How many indices below `upto` are set in both `a` and `b`.
fn count_below(a: &[u64], b: &[u64], upto: usize) -> usize {
    let mut n = 0;
    for (w, (x, y)) in a.iter().zip(b).enumerate().take(upto.div_ceil(64)) {
        let keep = match upto - w * 64 {
            k if k >= 64 => u64::MAX,
            k => (1u64 << k) - 1,
        };
        n += (x & y & keep).count_ones() as usize;
    }
    n
}

/// Judge the call-dependent reasons of kept report `rep` (ungrouped target
/// `t`: its own filter and the caller's history) again for `call`; `own`:
/// its step key leaves out its own filter's reason (see
/// [`Checker::step_keys`]). Out of line: inlined, it slowed the loop of
/// [`Checker::run`] by a fifth even for calls that never come here.
#[inline(never)]
fn rejudge_kept(
    caches: &mut Caches,
    (rep, keys, n, written): (&mut CandidateReport, &mut StepKeys, usize, &mut Written),
    (t, own): (usize, bool),
    ledger: &Ledger,
    call: &Call<'_>,
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
