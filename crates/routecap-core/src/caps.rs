//! Cap limits, imported usage and count triggers.
//!
//! This module only describes *what* the limits are; the `window` module says
//! which instants share a window and the `counters` module keeps the counters.

use crate::money::Money;

/// A periodic window kind for count and revenue caps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Period {
    /// Local clock hour.
    Hour,
    /// Local calendar day.
    Day,
    /// Local calendar month.
    Month,
}

impl Period {
    /// All periods, shortest first.
    pub const ALL: [Period; 3] = [Period::Hour, Period::Day, Period::Month];
}

/// Limits of one owner (target or group). `None` = unlimited; `Some(0)` is a
/// real cap that is always reached.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Limits {
    /// Calls per local clock hour.
    pub hourly: Option<u64>,
    /// Calls per local calendar day.
    pub daily: Option<u64>,
    /// Calls per local calendar month.
    pub monthly: Option<u64>,
    /// Calls until an explicit reset (Retreaver `Hard`, Ringba `allTimeCap`).
    pub total: Option<u64>,
    /// Revenue per local clock hour.
    pub hourly_revenue: Option<Money>,
    /// Revenue per local calendar day.
    pub daily_revenue: Option<Money>,
    /// Revenue per local calendar month.
    pub monthly_revenue: Option<Money>,
    /// Revenue until an explicit reset.
    pub total_revenue: Option<Money>,
    /// Live (connected, not yet ended) calls.
    pub concurrency: Option<u64>,
}

impl Limits {
    /// The count limit of a period.
    pub fn count(&self, p: Period) -> Option<u64> {
        match p {
            Period::Hour => self.hourly,
            Period::Day => self.daily,
            Period::Month => self.monthly,
        }
    }

    /// The revenue limit of a period.
    pub fn revenue(&self, p: Period) -> Option<Money> {
        match p {
            Period::Hour => self.hourly_revenue,
            Period::Day => self.daily_revenue,
            Period::Month => self.monthly_revenue,
        }
    }

    /// True when no limit at all is set.
    pub fn is_unlimited(&self) -> bool {
        *self == Limits::default()
    }
}

/// Ringba's `callConcurrencyMatrix`: a concurrency limit per local
/// (day of week, hour); day 0 = Sunday. Where given it replaces
/// [`Limits::concurrency`] for its cell; `None` = unlimited. Boxed: it is
/// 2.7 KB and most targets have none, so a `Target` stays small.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConcurrencyMatrix(pub Box<[[Option<u64>; 24]; 7]>);

impl ConcurrencyMatrix {
    /// The limit for a local weekday (0 = Sunday) and hour.
    pub fn limit(&self, weekday_from_sunday: u32, hour: u32) -> Option<u64> {
        self.0[weekday_from_sunday as usize % 7][hour as usize % 24]
    }
}

/// Usage imported with a config, valid for the windows containing `as_of`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    /// Calls counted in the current hour window.
    pub hourly: u64,
    /// Calls counted in the current day window.
    pub daily: u64,
    /// Calls counted in the current month window.
    pub monthly: u64,
    /// Calls counted since the last reset.
    pub total: u64,
    /// Live calls now.
    pub live: u64,
    /// Revenue in the current hour window.
    pub hourly_revenue: Money,
    /// Revenue in the current day window.
    pub daily_revenue: Money,
    /// Revenue in the current month window.
    pub monthly_revenue: Money,
    /// Revenue since the last reset.
    pub total_revenue: Money,
}

/// A usage import for one owner: the platform's counts for the windows
/// containing the import instant. `None` = the import does not mention that
/// kind, which keeps routecap's own count.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImportedUsage {
    /// Calls in the current hour window.
    pub hourly: Option<u64>,
    /// Calls in the current day window.
    pub daily: Option<u64>,
    /// Calls in the current month window.
    pub monthly: Option<u64>,
    /// Calls since the last reset.
    pub total: Option<u64>,
    /// Live calls the platform sees now.
    pub live: Option<u64>,
    /// Revenue in the current hour window.
    pub hourly_revenue: Option<Money>,
    /// Revenue in the current day window.
    pub daily_revenue: Option<Money>,
    /// Revenue in the current month window.
    pub monthly_revenue: Option<Money>,
    /// Revenue since the last reset.
    pub total_revenue: Option<Money>,
}

impl From<ImportedUsage> for Usage {
    /// The usage an import states, a kind it does not mention being 0 (a
    /// config's own usage: nothing counted before it).
    fn from(u: ImportedUsage) -> Usage {
        Usage {
            hourly: u.hourly.unwrap_or_default(),
            daily: u.daily.unwrap_or_default(),
            monthly: u.monthly.unwrap_or_default(),
            total: u.total.unwrap_or_default(),
            live: u.live.unwrap_or_default(),
            hourly_revenue: u.hourly_revenue.unwrap_or_default(),
            daily_revenue: u.daily_revenue.unwrap_or_default(),
            monthly_revenue: u.monthly_revenue.unwrap_or_default(),
            total_revenue: u.total_revenue.unwrap_or_default(),
        }
    }
}

/// Which event counts a call toward count caps (Ringba `targetCallIncrement`,
/// Retreaver cap trigger).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Trigger {
    /// Counted when the call connects (default).
    #[default]
    Connect,
    /// Counted when the call converts.
    Convert,
    /// Counted when the call converts with revenue > 0.
    Revenue,
}

impl Trigger {
    /// Stable name: `connect`, `convert`, `revenue`.
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Connect => "connect",
            Trigger::Convert => "convert",
            Trigger::Revenue => "revenue",
        }
    }
}
