//! Cap windows as half-open UTC instant ranges in the owner's zone
//! (`docs/semantics.md`, "Caps and their windows").
//!
//! - **Hourly**: a window starts each time the local clock *shows* `HH:00:00`.
//!   On a fall-back night the clock shows 01:00 twice, so there are two
//!   distinct 01:00 windows; in a spring-forward gap the clock jumps from
//!   01:59:59 to 03:00:00 and the 03:00 window starts at the jump. In
//!   half-hour zones (India, Newfoundland) windows roll over at :30 UTC. A
//!   transition that lands off the hour (Lord Howe's 30-minute shift) starts
//!   no window: the running one simply lasts longer or shorter.
//! - **Daily**: from the first instant whose local time is at or after
//!   local midnight of a date to the same for the next date: 23 or 25 hours on
//!   DST days; where midnight itself is skipped (America/Santiago,
//!   America/Havana) the day starts at the first instant that exists.
//! - **Monthly**: likewise from local day 1, 00:00.
//!
//! Windows tile time: consecutive windows of one kind share their boundary.
//!
//! In the terms of [`crate::zone::LocalTimePolicy`]: hourly windows follow
//! the wall clock ([`LocalTimePolicy::WALL_CLOCK`]); daily and monthly
//! windows start at a local midnight resolved as a boundary
//! ([`LocalTimePolicy::BOUNDARY`], by [`first_at_or_after`]).
//!
//! [`LocalTimePolicy::WALL_CLOCK`]: crate::zone::LocalTimePolicy::WALL_CLOCK
//! [`LocalTimePolicy::BOUNDARY`]: crate::zone::LocalTimePolicy::BOUNDARY

use chrono::{DateTime, Datelike, Months, NaiveDate, NaiveDateTime, Utc};

use crate::caps::Period;
use crate::zone::{Instant, Zone};

/// A half-open range of instants `[start, end)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Window {
    /// First instant in the window.
    pub start: Instant,
    /// First instant after the window.
    pub end: Instant,
}

impl Window {
    /// Whether `t` lies in `[start, end)`.
    pub fn contains(&self, t: Instant) -> bool {
        self.start <= t && t < self.end
    }
}

fn instant(secs: i64) -> Instant {
    DateTime::from_timestamp(secs, 0).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// The window of kind `period` in `zone` that contains `t`.
pub fn window(zone: &Zone, period: Period, t: Instant) -> Window {
    let s = t.timestamp();
    let (start, end) = match period {
        Period::Hour => (hour_start(zone, s), hour_end(zone, s)),
        Period::Day => day_bounds(zone, s),
        Period::Month => month_bounds(zone, s),
    };
    Window {
        start: instant(start),
        end: instant(end),
    }
}

/// Start (Unix seconds) of the window of `period` containing `t` — the
/// window's identity, used as a counter key.
pub fn window_start(zone: &Zone, period: Period, t: Instant) -> i64 {
    let s = t.timestamp();
    match period {
        Period::Hour => hour_start(zone, s),
        Period::Day => day_bounds(zone, s).0,
        Period::Month => month_bounds(zone, s).0,
    }
}

/// Whether local seconds `l` fall exactly on a clock hour.
fn on_the_hour(l: i64) -> bool {
    l.rem_euclid(3600) == 0
}

/// Latest instant `<= t` at which the local clock shows `HH:00:00`.
fn hour_start(zone: &Zone, t: i64) -> i64 {
    let mut s = t;
    loop {
        let span = zone.span_at(s);
        let o = span.offset as i64;
        let c = s - (s + o).rem_euclid(3600);
        match span.start {
            None => return c,
            Some(start) if c >= start => return c,
            Some(start) if on_the_hour(start + o) => return start,
            Some(start) => s = start - 1,
        }
    }
}

/// Earliest instant `> t` at which the local clock shows `HH:00:00`.
fn hour_end(zone: &Zone, t: i64) -> i64 {
    let mut s = t;
    loop {
        let span = zone.span_at(s);
        let o = span.offset as i64;
        let c = s - (s + o).rem_euclid(3600) + 3600;
        match span.end {
            None => return c,
            Some(end) if c < end => return c,
            Some(end) => {
                if on_the_hour(end + zone.span_at(end).offset as i64) {
                    return end;
                }
                s = end;
            }
        }
    }
}

/// Earliest instant whose local wall time is at or after `local`: the
/// instant a local date-time names, by routecap's boundary rule
/// ([`LocalTimePolicy::BOUNDARY`](crate::zone::LocalTimePolicy::BOUNDARY)).
///
/// - a local time that occurs once is that instant;
/// - a skipped one ([`Gap::Transition`](crate::zone::Gap::Transition)) is the
///   instant the clock jumps past it: New York 2026-03-08 02:30 → 07:00Z;
/// - a repeated one ([`Fold::Earlier`](crate::zone::Fold::Earlier)) is its
///   first occurrence: New York 2026-11-01 01:30 → 05:30Z.
///
/// ```
/// use chrono::NaiveDate;
/// use routecap_core::{window::first_at_or_after, zone::{Instant, Zone}};
///
/// let new_york = Zone::new(chrono_tz::America::New_York);
/// let local = |m, d, h, mi| NaiveDate::from_ymd_opt(2026, m, d).unwrap().and_hms_opt(h, mi, 0).unwrap();
/// let t = |s: &str| s.parse::<Instant>().unwrap();
/// assert_eq!(first_at_or_after(&new_york, local(6, 1, 9, 0)), t("2026-06-01T13:00:00Z"));
/// assert_eq!(first_at_or_after(&new_york, local(3, 8, 2, 30)), t("2026-03-08T07:00:00Z"));
/// assert_eq!(first_at_or_after(&new_york, local(11, 1, 1, 30)), t("2026-11-01T05:30:00Z"));
/// ```
pub fn first_at_or_after(zone: &Zone, local: NaiveDateTime) -> Instant {
    instant(first_at_or_after_secs(zone, local.and_utc().timestamp()))
}

/// [`first_at_or_after`] on local seconds (local wall time read as if UTC).
fn first_at_or_after_secs(zone: &Zone, l: i64) -> i64 {
    // No offset exceeds ±15 h, so this instant is certainly before `l` locally.
    let mut s = l - 15 * 3600;
    loop {
        let span = zone.span_at(s);
        let cand = s.max(l - span.offset as i64);
        match span.end {
            Some(end) if cand >= end => s = end,
            _ => return cand,
        }
    }
}

fn local_date(zone: &Zone, t: i64) -> NaiveDate {
    zone.local(instant(t)).date()
}

fn midnight(d: NaiveDate) -> i64 {
    d.and_hms_opt(0, 0, 0)
        .expect("midnight exists")
        .and_utc()
        .timestamp()
}

fn day_bounds(zone: &Zone, t: i64) -> (i64, i64) {
    let mut d = local_date(zone, t);
    let mut start = first_at_or_after_secs(zone, midnight(d));
    loop {
        let next = d.succ_opt().expect("supported dates have a successor");
        let end = first_at_or_after_secs(zone, midnight(next));
        if end > t {
            return (start, end);
        }
        // a fall-back across midnight put `t` back into the previous date
        d = next;
        start = end;
    }
}

fn month_bounds(zone: &Zone, t: i64) -> (i64, i64) {
    let local = local_date(zone, t);
    let mut d = NaiveDate::from_ymd_opt(local.year(), local.month(), 1).expect("day 1 exists");
    let mut start = first_at_or_after_secs(zone, midnight(d));
    loop {
        let next = d + Months::new(1);
        let end = first_at_or_after_secs(zone, midnight(next));
        if end > t {
            return (start, end);
        }
        d = next;
        start = end;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn utc(y: i32, m: u32, d: u32, h: u32, mi: u32) -> Instant {
        Utc.with_ymd_and_hms(y, m, d, h, mi, 0).unwrap()
    }

    #[test]
    fn new_york_fall_back_has_two_one_oclock_windows() {
        let z = Zone::new(chrono_tz::America::New_York);
        // 01:30 EDT = 05:30Z, 01:30 EST = 06:30Z
        let first = window(&z, Period::Hour, utc(2026, 11, 1, 5, 30));
        assert_eq!(
            (first.start, first.end),
            (utc(2026, 11, 1, 5, 0), utc(2026, 11, 1, 6, 0))
        );
        let second = window(&z, Period::Hour, utc(2026, 11, 1, 6, 30));
        assert_eq!(
            (second.start, second.end),
            (utc(2026, 11, 1, 6, 0), utc(2026, 11, 1, 7, 0))
        );
        let day = window(&z, Period::Day, utc(2026, 11, 1, 12, 0));
        assert_eq!(
            (day.start, day.end),
            (utc(2026, 11, 1, 4, 0), utc(2026, 11, 2, 5, 0))
        );
    }

    #[test]
    fn new_york_spring_forward_day_is_23_hours() {
        let z = Zone::new(chrono_tz::America::New_York);
        let day = window(&z, Period::Day, utc(2026, 3, 8, 12, 0));
        assert_eq!(
            (day.start, day.end),
            (utc(2026, 3, 8, 5, 0), utc(2026, 3, 9, 4, 0))
        );
        // 01:59 EST -> 03:00 EDT at 07:00Z: the 01:00 window ends at the jump
        let h = window(&z, Period::Hour, utc(2026, 3, 8, 6, 59));
        assert_eq!(
            (h.start, h.end),
            (utc(2026, 3, 8, 6, 0), utc(2026, 3, 8, 7, 0))
        );
    }

    #[test]
    fn india_rolls_over_at_half_past_utc() {
        let z = Zone::new(chrono_tz::Asia::Kolkata);
        let h = window(&z, Period::Hour, utc(2026, 6, 1, 10, 0));
        assert_eq!(
            (h.start, h.end),
            (utc(2026, 6, 1, 9, 30), utc(2026, 6, 1, 10, 30))
        );
    }

    #[test]
    fn santiago_day_starts_at_first_existing_instant() {
        // 2026-09-06: clocks jump from 00:00 to 01:00 (-04 -> -03) in Santiago.
        let z = Zone::new(chrono_tz::America::Santiago);
        let day = window(&z, Period::Day, utc(2026, 9, 6, 15, 0));
        assert_eq!(day.start, utc(2026, 9, 6, 4, 0));
        assert_eq!(day.end, utc(2026, 9, 7, 3, 0));
    }

    #[test]
    fn month_window_in_local_time() {
        let z = Zone::new(chrono_tz::America::New_York);
        let m = window(&z, Period::Month, utc(2026, 11, 15, 0, 0));
        assert_eq!(
            (m.start, m.end),
            (utc(2026, 11, 1, 4, 0), utc(2026, 12, 1, 5, 0))
        );
    }
}
