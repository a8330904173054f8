//! Weekly business hours on the owner's local wall clock
//! (`docs/semantics.md`, "Business hours").
//!
//! Hours are read off the wall clock at each instant
//! ([`LocalTimePolicy::WALL_CLOCK`]): local times a DST change skips are
//! never open, repeated ones are open on each occurrence; see
//! [`Gap::Skipped`] and [`Fold::Twice`] for worked examples.
//!
//! [`LocalTimePolicy::WALL_CLOCK`]: crate::zone::LocalTimePolicy::WALL_CLOCK
//! [`Gap::Skipped`]: crate::zone::Gap::Skipped
//! [`Fold::Twice`]: crate::zone::Fold::Twice

use chrono::DateTime;

use crate::zone::{Instant, Zone};

/// Minutes in a local day.
pub const MINUTES_PER_DAY: u16 = 1440;

/// The hours of one day of the week, in minutes since local midnight.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DayHours {
    /// Opening minute, `0..=1440`.
    pub open: u16,
    /// Closing minute, `open..=1440`; 1440 = until midnight.
    pub close: u16,
    /// Open outside `[open, close)` instead of inside.
    pub invert: bool,
    /// Closed the whole day, whatever the times say.
    pub closed: bool,
}

/// Why a day entry was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DayHoursError {
    /// `open` or `close` above 1440.
    #[error("open and close must be minutes of the day (0-1440)")]
    OutOfRange,
    /// `open > close` (use `invert` for overnight shifts).
    #[error("open is after close (use invert for overnight hours)")]
    OpenAfterClose,
}

impl DayHours {
    /// Open all day.
    pub const ALL_DAY: DayHours = DayHours {
        open: 0,
        close: MINUTES_PER_DAY,
        invert: false,
        closed: false,
    };

    /// A validated entry.
    pub fn new(open: u16, close: u16, invert: bool, closed: bool) -> Result<Self, DayHoursError> {
        if open > MINUTES_PER_DAY || close > MINUTES_PER_DAY {
            return Err(DayHoursError::OutOfRange);
        }
        if open > close {
            return Err(DayHoursError::OpenAfterClose);
        }
        Ok(DayHours {
            open,
            close,
            invert,
            closed,
        })
    }

    /// Whether local minute `m` (`0..1440`) of this day is open.
    #[inline]
    pub fn is_open_at(&self, m: u16) -> bool {
        if self.closed {
            return false;
        }
        let inside = self.open <= m && m < self.close;
        inside != self.invert
    }
}

/// First minute `>= from` (`0..1440`) of a day with entry `day` whose
/// openness is `want`. Openness only changes at `open` and `close`, so the
/// candidates are `from` itself and those boundaries; [`DayHours::is_open_at`]
/// stays the single source of truth.
fn first_minute(day: Option<&DayHours>, from: u16, want: bool) -> Option<u16> {
    let Some(d) = day else {
        // no entry: open all day
        return (want && from < MINUTES_PER_DAY).then_some(from);
    };
    [from, d.open, d.close]
        .into_iter()
        .filter(|&m| m >= from && m < MINUTES_PER_DAY)
        .filter(|&m| d.is_open_at(m) == want)
        .min()
}

/// A weekly table: one optional entry per day, index 0 = Sunday … 6 = Saturday.
/// A day with no entry is open all day.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct WeeklyHours {
    /// Entries by day of week (0 = Sunday).
    pub days: [Option<DayHours>; 7],
}

impl WeeklyHours {
    /// A table from its seven entries (0 = Sunday).
    pub fn new(days: [Option<DayHours>; 7]) -> Self {
        WeeklyHours { days }
    }

    /// Whether local minute `minute` (`0..1440`) of weekday `weekday` (0 = Sunday) is open.
    #[inline]
    pub fn is_open_local(&self, weekday: u32, minute: u16) -> bool {
        match &self.days[weekday as usize % 7] {
            None => true,
            Some(d) => d.is_open_at(minute),
        }
    }

    /// Whether the hours are open at instant `t` in `zone` (seconds truncated).
    pub fn is_open(&self, zone: &Zone, t: Instant) -> bool {
        let s = t.timestamp();
        self.is_open_local_minute(local_minute(s, zone.span_at(s).offset))
    }

    /// Whether every minute of every day is open (a day with no entry counts).
    pub fn always_open(&self) -> bool {
        self.days
            .iter()
            .all(|d| first_minute(d.as_ref(), 0, false).is_none())
    }

    /// Whether no minute of any day is open.
    pub fn never_open(&self) -> bool {
        self.days
            .iter()
            .all(|d| first_minute(d.as_ref(), 0, true).is_none())
    }

    /// The first instant `>= t` at which the hours are open in `zone`: `t`
    /// itself if open now, `None` if never (within [`HORIZON_DAYS`]).
    ///
    /// Exact across DST: local wall times skipped by a spring-forward gap
    /// never count, repeated fall-back times count on each occurrence
    /// ([`LocalTimePolicy::WALL_CLOCK`](crate::zone::LocalTimePolicy::WALL_CLOCK)).
    pub fn next_open(&self, zone: &Zone, t: Instant) -> Option<Instant> {
        self.next_state(zone, t, true)
    }

    /// The first instant `>= t` at which the hours are closed in `zone`: `t`
    /// itself if closed now, `None` if open for good (within [`HORIZON_DAYS`]).
    pub fn next_close(&self, zone: &Zone, t: Instant) -> Option<Instant> {
        self.next_state(zone, t, false)
    }

    /// Whether local minute number `m` (minutes since 1970-01-01 00:00 local,
    /// a Thursday) is open.
    fn is_open_local_minute(&self, m: i64) -> bool {
        let (weekday, minute) = split_minute(m);
        self.is_open_local(weekday, minute)
    }

    /// The first local minute number `>= m` whose openness is `want`, looking
    /// at most eight local days ahead (a full week after the partial first day).
    fn first_local_minute(&self, m: i64, want: bool) -> Option<i64> {
        let day0 = m.div_euclid(MINUTES_PER_DAY as i64);
        (0..8).find_map(|k| {
            let day = day0 + k;
            let from = if k == 0 { split_minute(m).1 } else { 0 };
            let weekday = (day + 4).rem_euclid(7) as usize;
            let entry = self.days.get(weekday).and_then(Option::as_ref);
            first_minute(entry, from, want).map(|mm| day * MINUTES_PER_DAY as i64 + mm as i64)
        })
    }

    /// Walk spans of constant offset: within one, local time is `utc + offset`,
    /// so the answer is the first wanted local minute converted back, if it
    /// falls before the span ends; otherwise continue from the span's end.
    fn next_state(&self, zone: &Zone, t: Instant, want: bool) -> Option<Instant> {
        let t0 = t.timestamp();
        let horizon = t0.saturating_add(HORIZON_DAYS * 86_400);
        let mut s = t0;
        while s <= horizon {
            let span = zone.span_at(s);
            let off = span.offset as i64;
            let here = local_minute(s, span.offset);
            let m = self.first_local_minute(here, want)?;
            if m == here {
                // open/closed right at the current position
                return if s == t0 {
                    Some(t)
                } else {
                    DateTime::from_timestamp(s, 0)
                };
            }
            let cand = m * 60 - off;
            match span.end {
                Some(end) if cand >= end => s = end,
                _ => return DateTime::from_timestamp(cand, 0),
            }
        }
        None
    }
}

/// How far [`WeeklyHours::next_open`] / [`WeeklyHours::next_close`] look: a
/// table whose only open minutes never occur (they all fall in DST gaps) has
/// no answer, and the search must stop somewhere.
pub const HORIZON_DAYS: i64 = 400;

/// Local minute number of Unix second `s` at UTC offset `offset` (seconds).
fn local_minute(s: i64, offset: i32) -> i64 {
    (s + offset as i64).div_euclid(60)
}

/// `(weekday 0 = Sunday, minute of day)` at Unix second `s` and UTC offset
/// `offset`: what [`WeeklyHours::is_open`] judges, for callers that cache
/// the offset.
pub(crate) fn local_weekday_minute(s: i64, offset: i32) -> (u32, u16) {
    split_minute(local_minute(s, offset))
}

/// `(weekday 0 = Sunday, minute of day)` of a local minute number.
fn split_minute(m: i64) -> (u32, u16) {
    let per_day = MINUTES_PER_DAY as i64;
    // 1970-01-01 was a Thursday (4)
    let weekday = (m.div_euclid(per_day) + 4).rem_euclid(7) as u32;
    (weekday, m.rem_euclid(per_day) as u16)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn day(open: u16, close: u16, invert: bool, closed: bool) -> Option<DayHours> {
        Some(DayHours::new(open, close, invert, closed).unwrap())
    }

    /// Reference: scan every minute of the day.
    fn first_minute_slow(d: Option<&DayHours>, from: u16, want: bool) -> Option<u16> {
        (from..MINUTES_PER_DAY).find(|&m| d.is_none_or(|d| d.is_open_at(m)) == want)
    }

    fn day_strategy() -> impl Strategy<Value = Option<DayHours>> {
        let minute = prop_oneof![0..=MINUTES_PER_DAY, (0..=48u16).prop_map(|h| h * 30)];
        prop_oneof![
            1 => Just(None),
            5 => (minute.clone(), minute, any::<bool>(), prop::bool::weighted(0.15)).prop_map(
                |(a, b, invert, closed)| Some(DayHours {
                    open: a.min(b),
                    close: a.max(b),
                    invert,
                    closed,
                })
            ),
        ]
    }

    #[test]
    fn validation() {
        assert_eq!(
            DayHours::new(600, 1441, false, false),
            Err(DayHoursError::OutOfRange)
        );
        assert_eq!(
            DayHours::new(1441, 1441, false, false),
            Err(DayHoursError::OutOfRange)
        );
        assert_eq!(
            DayHours::new(601, 600, false, false),
            Err(DayHoursError::OpenAfterClose)
        );
        assert!(DayHours::new(0, 1440, true, false).is_ok());
    }

    #[test]
    fn spec_rules_on_one_day() {
        let plain = day(540, 1020, false, false).unwrap();
        assert!(!plain.is_open_at(539) && plain.is_open_at(540) && plain.is_open_at(1019));
        assert!(!plain.is_open_at(1020));
        let inv = day(360, 1320, true, false).unwrap(); // 0600-2200 inverted
        assert!(inv.is_open_at(0) && inv.is_open_at(359) && !inv.is_open_at(360));
        assert!(!inv.is_open_at(1319) && inv.is_open_at(1320) && inv.is_open_at(1439));
        let empty = day(600, 600, false, false).unwrap();
        assert!((0..MINUTES_PER_DAY).all(|m| !empty.is_open_at(m)));
        let full_inv = day(600, 600, true, false).unwrap();
        assert!((0..MINUTES_PER_DAY).all(|m| full_inv.is_open_at(m)));
        let until_midnight = day(1200, 1440, false, false).unwrap();
        assert!(until_midnight.is_open_at(1439) && !until_midnight.is_open_at(1199));
        for invert in [false, true] {
            let closed = day(0, 1440, invert, true).unwrap();
            assert!((0..MINUTES_PER_DAY).all(|m| !closed.is_open_at(m)));
        }
    }

    #[test]
    fn always_and_never_open() {
        assert!(WeeklyHours::default().always_open());
        assert!(!WeeklyHours::default().never_open());
        let mut w = WeeklyHours::new([day(0, 1440, false, false); 7]);
        w.days[3] = day(500, 500, true, false);
        w.days[4] = None;
        assert!(w.always_open() && !w.never_open());
        w.days[5] = day(0, 1439, false, false);
        assert!(!w.always_open() && !w.never_open());
        let never = WeeklyHours::new([
            day(0, 1440, false, true),
            day(0, 0, false, false),
            day(0, 1440, true, false),
            day(900, 900, false, false),
            day(0, 1440, true, true),
            day(0, 1440, false, true),
            day(1440, 1440, false, false),
        ]);
        assert!(never.never_open() && !never.always_open());
    }

    #[test]
    fn local_minute_numbering_starts_on_thursday() {
        assert_eq!(split_minute(0), (4, 0));
        assert_eq!(split_minute(-1), (3, 1439));
        assert_eq!(split_minute(3 * 1440 + 61), (0, 61));
        assert_eq!(local_minute(-1, 0), -1);
        assert_eq!(local_minute(59, 19800), 330);
    }

    proptest! {
        #[test]
        fn inverted_is_complement_unless_closed(d in day_strategy(), m in 0..MINUTES_PER_DAY) {
            if let Some(d) = d {
                let inv = DayHours { invert: !d.invert, ..d };
                if d.closed {
                    prop_assert!(!d.is_open_at(m) && !inv.is_open_at(m));
                } else {
                    prop_assert_eq!(inv.is_open_at(m), !d.is_open_at(m));
                }
            }
        }

        #[test]
        fn first_minute_matches_scan(d in day_strategy(), from in 0..=MINUTES_PER_DAY, want: bool) {
            prop_assert_eq!(first_minute(d.as_ref(), from, want), first_minute_slow(d.as_ref(), from, want));
        }

        #[test]
        fn first_local_minute_matches_scan(
            days in prop::array::uniform7(day_strategy()),
            m in -1_000_000i64..30_000_000,
            want: bool,
        ) {
            let w = WeeklyHours::new(days);
            let slow = (m..m + 8 * 1440).find(|&x| w.is_open_local_minute(x) == want);
            prop_assert_eq!(w.first_local_minute(m, want), slow);
        }
    }
}
