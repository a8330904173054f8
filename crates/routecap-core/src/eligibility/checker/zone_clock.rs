//! The clock of each zone, shared by every owner in it: the offset span
//! in force, the local weekday and minute, and the hour, day and month
//! windows, each cached with the range of instants it holds for, so that a
//! decision computes them once per zone rather than once per owner.

use chrono::DateTime;

use super::hours_memo::Reopen;
use crate::caps::Period;
use crate::counters::Counters;
use crate::hours::{local_weekday_minute, WeeklyHours, MINUTES_PER_DAY};
use crate::window::window;
use crate::zone::{Instant, Zone};

/// The decision instant, with its Unix second computed once.
#[derive(Clone, Copy, Debug)]
pub(super) struct Now {
    pub(super) at: Instant,
    pub(super) s: i64,
}

/// Sentinel for "not computed for any instant".
pub(super) const NEVER: i64 = i64::MIN;

/// The cached facts of one zone.
#[derive(Clone, Debug)]
pub(super) struct ZoneClock {
    pub(super) zone: Zone,
    /// Unix second the local fields were computed for, or [`NEVER`].
    pub(super) at: i64,
    /// The same instant.
    pub(super) instant: Instant,
    /// `[start, end)` of the offset span in force.
    pub(super) span: (i64, i64),
    pub(super) offset: i32,
    /// `[start, end)` of the hour, day and month windows, Unix seconds.
    pub(super) bounds: [(i64, i64); 3],
    /// The same windows' ends as instants (the `until` of cap reasons).
    pub(super) ends: [Instant; 3],
    pub(super) weekday: u32,
    pub(super) minute: u16,
    /// Periods whose windows some owner of this zone has a cap of (bit
    /// `i`: `Period::ALL[i]`): the only ones [`ZoneClock::prepare`]
    /// computes for every decision.
    pub(super) periods: u8,
    /// Unix second [`ZoneClock::prepare`] last ran for, or [`NEVER`].
    pub(super) prepared: i64,
    /// Start of the hour, day and month windows at `prepared`.
    pub(super) starts: [i64; 3],
    /// Earliest end among the windows of each set of periods (bit `i`:
    /// `Period::ALL[i]`) at `prepared`: until when a verdict reading those
    /// windows holds.
    pub(super) ends_min: [i64; 8],
}

pub(super) fn contains((start, end): (i64, i64), s: i64) -> bool {
    start <= s && s < end
}

impl ZoneClock {
    pub(super) fn new(zone: Zone) -> Self {
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
            periods: 0,
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
    pub(super) fn prepare_for(&mut self, now: Now) {
        if self.prepared != now.s || self.at != now.s {
            self.prepare(now);
        }
    }

    /// Local fields and the windows of `periods` at `now`, once per
    /// decision for every target of the zone.
    #[inline(never)]
    pub(super) fn prepare(&mut self, now: Now) {
        self.refresh(now.at, now.s);
        let read = |i: usize| self.periods & (1 << i) != 0;
        let same = (self.bounds.iter().zip(&self.starts).enumerate())
            .all(|(i, (&b, &start))| !read(i) || (contains(b, now.s) && b.0 == start));
        if self.prepared != NEVER && same {
            // the windows `starts` and `ends_min` were made from
            self.prepared = now.s;
            return;
        }
        let mut ends = [i64::MAX; 3];
        for (i, end) in ends.iter_mut().enumerate() {
            if self.periods & (1 << i) == 0 {
                continue;
            }
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
    pub(super) fn refresh(&mut self, at: Instant, s: i64) {
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
    pub(super) fn bound(&mut self, i: usize) -> (i64, i64) {
        self.bound_or(i, None)
    }

    /// [`ZoneClock::bound`], taking the window from `known` (an owner's
    /// counters that already hold it) rather than computing it.
    #[inline]
    pub(super) fn bound_or(&mut self, i: usize, known: Option<&Counters>) -> (i64, i64) {
        match self.bounds.get(i) {
            Some(&b) if contains(b, self.at) => b,
            Some(_) => self.bound_new(i, known),
            None => (self.at, self.at),
        }
    }

    /// [`ZoneClock::bound_or`] once the instant has left the cached window.
    #[inline(never)]
    pub(super) fn bound_new(&mut self, i: usize, known: Option<&Counters>) -> (i64, i64) {
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
    pub(super) fn hours_boundary(&self, hours: &WeeklyHours) -> i64 {
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

/// The clock one owner reads: its zone's [`ZoneClock`], refreshed to the
/// instant, with its (schedule, zone) pair's reopening cache.
pub(super) struct Cached<'a> {
    pub(super) clock: &'a mut ZoneClock,
    pub(super) at: Instant,
    pub(super) reopen: &'a mut Reopen,
    /// The owner's counters, which may already know a window.
    pub(super) counters: &'a Counters,
}

impl Cached<'_> {
    /// When `hours`, closed at the instant, open next, as Unix seconds
    /// (`Some(None)`: never), through the owner's reopening cache; `None`
    /// when that instant is not a whole second (not cached; reopening
    /// instants are minute boundaries or offset changes, so in practice
    /// never).
    pub(super) fn next_open_secs(&mut self, hours: &WeeklyHours) -> Option<Option<i64>> {
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

    /// Whether `hours` are open at the instant.
    #[inline]
    pub(super) fn is_open(&self, hours: &WeeklyHours) -> bool {
        hours.is_open_local(self.clock.weekday, self.clock.minute)
    }

    /// When `hours`, closed at the instant, open next.
    pub(super) fn next_open(&mut self, hours: &WeeklyHours) -> Option<Instant> {
        match self.next_open_secs(hours) {
            Some(secs) => secs.and_then(|s| DateTime::from_timestamp(s, 0)),
            None => hours.next_open(&self.clock.zone, self.at),
        }
    }

    /// The window of `Period::ALL[i]` containing the instant: its start
    /// (Unix seconds, the counter key) and its end.
    #[inline]
    pub(super) fn window(&mut self, i: usize) -> (i64, Instant) {
        let (start, _) = self.clock.bound_or(i, Some(self.counters));
        (start, self.clock.ends[i])
    }

    /// Local (weekday from Sunday, hour) at the instant.
    pub(super) fn weekday_hour(&self) -> (u32, u32) {
        (self.clock.weekday, u32::from(self.clock.minute / 60))
    }
}
