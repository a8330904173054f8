//! Week grids of business hours: for each local hour of seven days in a
//! display zone, how much of it an owner (target or group) is open.
//!
//! A cell covers the instants whose display-zone wall clock shows that hour:
//! none in a spring-forward gap (the cell is `None`), two hours' worth on a
//! fall-back night. Openness is judged by walking the engine's own
//! [`WeeklyHours::next_open`] / [`WeeklyHours::next_close`] transitions, so a
//! grid converted to another zone is exact across DST, to the second.

use chrono::{Datelike, Duration, NaiveDate, NaiveTime};
use serde::Serialize;

use crate::hours::WeeklyHours;
use crate::model::Config;
use crate::render;
use crate::window::first_at_or_after;
use crate::zone::{Instant, Zone};

/// One local hour of the display zone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cell {
    /// Seconds the hour lasts (3600, or 7200 on a fall-back hour).
    pub length: i64,
    /// Seconds of it during which the owner is open.
    pub open: i64,
}

impl Cell {
    /// `"open"` (the whole hour), `"partial"` or `"closed"`.
    pub fn state(self) -> &'static str {
        if self.open == 0 {
            "closed"
        } else if self.open >= self.length {
            "open"
        } else {
            "partial"
        }
    }

    /// The open share of the hour, rounded down to hundredths.
    pub fn share(self) -> f64 {
        if self.length <= 0 {
            return 0.0;
        }
        (self.open * 100 / self.length) as f64 / 100.0
    }
}

/// One local date of the display zone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Day {
    /// The local date.
    pub date: NaiveDate,
    /// The first instant of the date in the display zone.
    pub starts: Instant,
    /// Its 24 clock hours; `None` where the hour does not occur.
    pub cells: Vec<Option<Cell>>,
}

/// Open seconds of `hours` in `[start, end)`, walking the engine's transitions.
fn open_seconds(hours: Option<&WeeklyHours>, zone: &Zone, start: Instant, end: Instant) -> i64 {
    let Some(h) = hours else {
        return (end - start).num_seconds();
    };
    let mut t = start;
    let mut open = 0;
    while t < end {
        let is_open = h.is_open(zone, t);
        let next = if is_open {
            h.next_close(zone, t)
        } else {
            h.next_open(zone, t)
        };
        let seg_end = next
            .map_or(end, |n| n.min(end))
            .max(t + Duration::seconds(1));
        if is_open {
            open += (seg_end - t).num_seconds();
        }
        t = seg_end;
    }
    open
}

/// Seven local days from `start` in `display` of `hours` kept in `owner`'s
/// zone (`None` hours: open around the clock). Dates must lie within
/// [`supported`].
pub fn week(
    hours: Option<&WeeklyHours>,
    owner: &Zone,
    display: &Zone,
    start: NaiveDate,
) -> Vec<Day> {
    (0..7)
        .map(|d| {
            let date = start + Duration::days(d);
            let cells = (0..24)
                .map(|h| {
                    let local = date.and_time(NaiveTime::from_hms_opt(h, 0, 0)?);
                    let from = first_at_or_after(display, local);
                    let to = first_at_or_after(display, local + Duration::hours(1));
                    (to > from).then(|| Cell {
                        length: (to - from).num_seconds(),
                        open: open_seconds(hours, owner, from, to),
                    })
                })
                .collect();
            let starts = first_at_or_after(display, date.and_time(NaiveTime::MIN));
            Day {
                date,
                starts,
                cells,
            }
        })
        .collect()
}

/// Whether a week starting on `start` can be drawn: its year is within
/// 1971..=2098, well inside the instants the engine supports.
pub fn supported(start: NaiveDate) -> bool {
    (1971..=2098).contains(&start.year())
}

/// The Sunday on or before `day`: weeks start on Sunday like the configs'
/// day numbers.
pub fn sunday_on_or_before(day: NaiveDate) -> NaiveDate {
    day - Duration::days(i64::from(day.weekday().num_days_from_sunday()))
}

/// A target or group whose hours can be drawn.
#[derive(Clone, Copy, Debug)]
pub struct Owner<'a> {
    /// Its id.
    pub id: &'a str,
    /// `"target"` or `"group"`.
    pub kind: &'static str,
    /// Its display name.
    pub name: Option<&'a str>,
    /// The zone its hours are kept in.
    pub zone: &'a Zone,
    /// That zone's name as written in the config.
    pub zone_name: &'a str,
    /// Its hours; `None` means open around the clock.
    pub hours: Option<&'a WeeklyHours>,
    /// Paused targets take no calls whatever their hours.
    pub paused: bool,
}

/// Every target, then every group, in config order.
pub fn owners(config: &Config) -> impl Iterator<Item = Owner<'_>> {
    let targets = config.targets.iter().map(|t| Owner {
        id: &t.id,
        kind: "target",
        name: t.name.as_deref(),
        zone: &t.zone,
        zone_name: &t.zone_name,
        hours: t.hours.as_deref(),
        paused: t.paused,
    });
    let groups = config.groups.iter().map(|g| Owner {
        id: &g.id,
        kind: "group",
        name: g.name.as_deref(),
        zone: &g.zone,
        zone_name: &g.zone_name,
        hours: g.hours.as_deref(),
        paused: false,
    });
    targets.chain(groups)
}

/// No target or group has this id.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown target or group {id:?} (known: {known})")]
pub struct UnknownOwner {
    id: String,
    known: String,
}

impl UnknownOwner {
    /// The id asked for.
    pub fn id(&self) -> &str {
        &self.id
    }
}

/// The target, else the group, with this id.
pub fn owner<'a>(config: &'a Config, id: &str) -> Result<Owner<'a>, UnknownOwner> {
    owners(config).find(|o| o.id == id).ok_or_else(|| {
        let known: Vec<&str> = owners(config).map(|o| o.id).collect();
        UnknownOwner {
            id: id.to_string(),
            known: known.join(", "),
        }
    })
}

/// One day of an owner's grid, as `routecap hours --json` prints it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DayView {
    /// `YYYY-MM-DD`.
    pub date: String,
    /// 0 = Sunday.
    pub weekday: u32,
    /// First instant of the date in the display zone.
    pub starts: String,
    /// `open`, `partial`, `closed`, or `null` for an hour that does not occur.
    pub hours: Vec<Option<&'static str>>,
    /// Open minutes of each hour.
    pub open_minutes: Vec<Option<i64>>,
}

/// One owner's week, as `routecap hours --json` prints it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OwnerView {
    /// Target or group id.
    pub id: String,
    /// `"target"` or `"group"`.
    pub kind: &'static str,
    /// Its display name.
    pub name: Option<String>,
    /// The owner's IANA zone.
    pub time_zone: &'static str,
    /// The owner's zone name as written in the config (a Rails or Windows
    /// name, or the IANA name itself).
    pub zone_name: String,
    /// The display zone.
    pub shown_in: &'static str,
    /// No hours at all.
    pub always_open: bool,
    /// Paused.
    pub paused: bool,
    /// Seven days.
    pub days: Vec<DayView>,
}

/// An owner's week in the CLI's shape.
pub fn owner_view(o: &Owner<'_>, display: &Zone, days: &[Day]) -> OwnerView {
    OwnerView {
        id: o.id.to_string(),
        kind: o.kind,
        name: o.name.map(str::to_string),
        time_zone: o.zone.name(),
        zone_name: o.zone_name.to_string(),
        shown_in: display.name(),
        always_open: o.hours.is_none(),
        paused: o.paused,
        days: days
            .iter()
            .map(|d| DayView {
                date: d.date.to_string(),
                weekday: d.date.weekday().num_days_from_sunday(),
                starts: render::instant(d.starts),
                hours: d.cells.iter().map(|c| c.map(Cell::state)).collect(),
                open_minutes: d.cells.iter().map(|c| c.map(|c| c.open / 60)).collect(),
            })
            .collect(),
    }
}

/// The whole `routecap hours --json` answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct WeekView {
    /// The Sunday the week starts on.
    pub week_of: String,
    /// The `--zone` given, if any.
    pub zone: Option<&'static str>,
    /// One grid per owner.
    pub grids: Vec<OwnerView>,
}

/// One day of a heatmap: the open share of each local hour.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
pub struct HeatDay {
    /// `YYYY-MM-DD`.
    pub date: String,
    /// 0 = Sunday.
    pub weekday: u32,
    /// Open share (0..=1, hundredths) of each hour, `null` if it does not occur.
    pub hours: Vec<Option<f64>>,
}

/// Seven days of a heatmap in one zone.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
pub struct HeatView {
    /// The display zone.
    pub zone: &'static str,
    /// Seven days.
    pub days: Vec<HeatDay>,
}

/// An owner's hours in its own zone and in a viewer's (the web demo's heatmap).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
pub struct Heatmap {
    /// Target or group id.
    pub id: String,
    /// `"target"` or `"group"`.
    #[cfg_attr(feature = "typescript", tsify(type = "\"target\" | \"group\""))]
    pub kind: &'static str,
    /// Open every minute of the week.
    pub always_open: bool,
    /// In the owner's zone.
    pub own: HeatView,
    /// In the viewer's zone.
    pub viewer: HeatView,
}

fn heat_view(o: &Owner<'_>, display: &Zone, start: NaiveDate) -> HeatView {
    HeatView {
        zone: display.name(),
        days: week(o.hours, o.zone, display, start)
            .into_iter()
            .map(|d| HeatDay {
                date: d.date.to_string(),
                weekday: d.date.weekday().num_days_from_sunday(),
                hours: d.cells.iter().map(|c| c.map(Cell::share)).collect(),
            })
            .collect(),
    }
}

/// The heatmap of `o` for the seven days from `start`, seen from `viewer`.
pub fn heatmap(o: &Owner<'_>, viewer: &Zone, start: NaiveDate) -> Heatmap {
    Heatmap {
        id: o.id.to_string(),
        kind: o.kind,
        always_open: o.hours.is_none_or(WeeklyHours::always_open),
        own: heat_view(o, o.zone, start),
        viewer: heat_view(o, viewer, start),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hours::DayHours;

    fn ny() -> Zone {
        Zone::new(chrono_tz::America::New_York)
    }

    #[test]
    fn dst_gap_and_fold_in_the_display_zone() {
        // Sunday 2026-03-08: 02:00-03:00 does not occur in New York
        let spring = week(
            None,
            &ny(),
            &ny(),
            NaiveDate::from_ymd_opt(2026, 3, 8).unwrap(),
        );
        assert_eq!(spring[0].cells[2], None);
        assert_eq!(spring[0].cells.iter().filter(|c| c.is_none()).count(), 1);
        assert_eq!(render::instant(spring[0].starts), "2026-03-08T05:00:00Z");
        // Sunday 2026-11-01: 01:00-02:00 happens twice
        let fall = week(
            None,
            &ny(),
            &ny(),
            NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
        );
        let twice = fall[0].cells[1].unwrap();
        assert_eq!(
            (twice.length, twice.open, twice.state()),
            (7200, 7200, "open")
        );
    }

    #[test]
    fn partial_hours_across_zones() {
        // Mondays 09:00-17:30 in London, seen from Kolkata (+05:30)
        let mut days = [None; 7];
        days[1] = Some(DayHours::new(9 * 60, 17 * 60 + 30, false, false).unwrap());
        let hours = WeeklyHours::new(days);
        let london = Zone::new(chrono_tz::Europe::London);
        let kolkata = Zone::new(chrono_tz::Asia::Kolkata);
        let monday = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        let own = week(Some(&hours), &london, &london, monday);
        assert_eq!(own[0].cells[17].unwrap().share(), 0.5);
        assert_eq!(own[0].cells[17].unwrap().state(), "partial");
        assert_eq!(own[0].cells[8].unwrap().state(), "closed");
        // 09:00 GMT is 14:30 IST: hour 14 is half open, hour 15 fully
        let seen = week(Some(&hours), &london, &kolkata, monday);
        assert_eq!(seen[0].cells[14].unwrap().share(), 0.5);
        assert_eq!(seen[0].cells[15].unwrap().share(), 1.0);
    }

    #[test]
    fn weeks_start_on_sunday_within_range() {
        assert_eq!(
            sunday_on_or_before(NaiveDate::from_ymd_opt(2026, 11, 25).unwrap()).to_string(),
            "2026-11-22"
        );
        assert!(!supported(NaiveDate::from_ymd_opt(2099, 1, 4).unwrap()));
    }
}
