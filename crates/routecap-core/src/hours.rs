//! Weekly business hours on the owner's local wall clock (SPEC §3).

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
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DayHoursError {
    /// `open` or `close` above 1440.
    OutOfRange,
    /// `open > close` (use `invert` for overnight shifts).
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
        use chrono::{Datelike, Timelike};
        let local = zone.local(t);
        let minute = (local.hour() * 60 + local.minute()) as u16;
        self.is_open_local(local.weekday().num_days_from_sunday(), minute)
    }
}
