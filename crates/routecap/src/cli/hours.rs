//! `routecap hours CONFIG [--target ID] [--week-of DATE] [--zone Z] [--json]`:
//! a week grid of business hours, one cell per local hour.
//!
//! The week is the seven local days from the Sunday on or before `DATE`
//! (default: today, UTC), Sunday first like the configs' day numbers. Rows
//! are dates and columns clock hours of the display zone: the owner's own
//! zone, or `--zone`. Each cell covers the instants whose display-zone wall
//! clock shows that hour — none in a spring-forward gap (shown blank, `null`
//! in JSON), two hours' worth on a fall-back night — and says how much of it
//! the owner is open, judged by the engine's own `is_open` / `next_open` /
//! `next_close`, so conversions between zones are exact across DST.

use chrono::{Datelike, Duration, NaiveDate, NaiveTime, Utc};
use routecap_core::hours::WeeklyHours;
use routecap_core::model::Config;
use routecap_core::render;
use routecap_core::window::first_at_or_after;
use routecap_core::zone::{self, Instant, Zone};
use serde_json::{json, Value};

use super::common::{load, parse_format};
use super::{emit, json_text, Failure};

/// Arguments of `routecap hours`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Config file (routecap, Retreaver or Ringba JSON); `-` for standard input.
    config: String,
    /// Only this target (or group) id; default: every target, and every group with hours.
    #[arg(long)]
    target: Option<String>,
    /// A date (YYYY-MM-DD) in the week to show (Sunday to Saturday); default: today (UTC).
    #[arg(long, value_name = "DATE")]
    week_of: Option<String>,
    /// Show the grid in this zone (Rails, Windows or IANA name) instead of the owner's.
    #[arg(long)]
    zone: Option<String>,
    /// Config shape, overriding auto-detection.
    #[arg(long, value_parser = parse_format)]
    format: Option<routecap_core::formats::Format>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// One owner to draw.
struct Owner<'a> {
    id: &'a str,
    kind: &'static str,
    name: Option<&'a str>,
    zone: &'a Zone,
    zone_name: &'a str,
    hours: Option<&'a WeeklyHours>,
    paused: bool,
}

/// One cell: `None` when the hour does not occur on that date in the display zone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Cell {
    /// Seconds the cell lasts (3600, or 7200 on a fall-back hour).
    length: i64,
    /// Seconds of it that are open.
    open: i64,
}

impl Cell {
    fn state(self) -> &'static str {
        if self.open == 0 {
            "closed"
        } else if self.open >= self.length {
            "open"
        } else {
            "partial"
        }
    }
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

fn grid(
    owner: &Owner<'_>,
    display: &Zone,
    sunday: NaiveDate,
) -> Vec<(NaiveDate, Vec<Option<Cell>>)> {
    (0..7)
        .map(|d| {
            let date = sunday + Duration::days(d);
            let cells = (0..24)
                .map(|h| {
                    let local = date.and_time(NaiveTime::from_hms_opt(h, 0, 0)?);
                    let start = first_at_or_after(display, local);
                    let end = first_at_or_after(display, local + Duration::hours(1));
                    (end > start).then(|| Cell {
                        length: (end - start).num_seconds(),
                        open: open_seconds(owner.hours, owner.zone, start, end),
                    })
                })
                .collect();
            (date, cells)
        })
        .collect()
}

pub fn run(args: Args) -> Result<i32, Failure> {
    let config = load(&args.config, args.format)?;
    let display = match &args.zone {
        None => None,
        Some(z) => Some(
            zone::resolve(z)
                .map(|r| Zone::new(r.tz))
                .map_err(|e| Failure::input(format!("--zone: {e}")))?,
        ),
    };
    let day = match &args.week_of {
        None => Utc::now().date_naive(),
        Some(s) => NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|e| {
            Failure::input(format!(
                "--week-of {s:?} is not a date like 2026-11-22: {e}"
            ))
        })?,
    };
    let sunday = day - Duration::days(i64::from(day.weekday().num_days_from_sunday()));
    let supported = |d: NaiveDate| (1971..=2098).contains(&d.year());
    if !supported(sunday) {
        return Err(Failure::input(format!(
            "--week-of {day} is outside the supported range (1971..2098)"
        )));
    }
    let owners = owners(&config, args.target.as_deref())?;
    let mut text = String::new();
    let mut grids = Vec::new();
    for o in &owners {
        let zone = display.as_ref().unwrap_or(o.zone);
        let g = grid(o, zone, sunday);
        if args.json {
            grids.push(grid_json(o, zone, &g));
        } else {
            text.push_str(&grid_text(o, zone, &g));
        }
    }
    if args.json {
        text = json_text(&json!({
            "week_of": sunday.to_string(),
            "zone": display.as_ref().map(Zone::name),
            "grids": grids,
        }));
    } else {
        text.push_str("legend: █ open the whole hour, ▒ open part of the hour, · closed, blank: the hour does not occur (DST)\n");
    }
    emit(&text)?;
    Ok(0)
}

fn owners<'a>(config: &'a Config, only: Option<&str>) -> Result<Vec<Owner<'a>>, Failure> {
    let targets = config.targets.iter().map(|t| Owner {
        id: &t.id,
        kind: "target",
        name: t.name.as_deref(),
        zone: &t.zone,
        zone_name: &t.zone_name,
        hours: t.hours.as_ref(),
        paused: t.paused,
    });
    let groups = config.groups.iter().map(|g| Owner {
        id: &g.id,
        kind: "group",
        name: g.name.as_deref(),
        zone: &g.zone,
        zone_name: &g.zone_name,
        hours: g.hours.as_ref(),
        paused: false,
    });
    match only {
        None => Ok(targets
            .chain(groups.filter(|g| g.hours.is_some()))
            .collect()),
        Some(id) => {
            let found: Vec<Owner<'a>> = targets
                .chain(groups)
                .filter(|o| o.id == id)
                .take(1)
                .collect();
            if found.is_empty() {
                Err(Failure::input(format!(
                    "unknown target or group {id:?} (known: {})",
                    config
                        .targets
                        .iter()
                        .map(|t| t.id.as_str())
                        .chain(config.groups.iter().map(|g| g.id.as_str()))
                        .collect::<Vec<_>>()
                        .join(", ")
                )))
            } else {
                Ok(found)
            }
        }
    }
}

fn header(o: &Owner<'_>, zone: &Zone) -> String {
    let mut s = format!("{} {}", o.kind, o.id);
    if let Some(n) = o.name {
        s.push_str(&format!(" ({n})"));
    }
    let own = o.zone.name();
    s.push_str(&format!(" — hours in {}", o.zone_name));
    if o.zone_name != own {
        s.push_str(&format!(" = {own}"));
    }
    if zone != o.zone {
        s.push_str(&format!(", shown in {}", zone.name()));
    }
    if o.hours.is_none() {
        s.push_str("; no hours: open 24/7");
    }
    if o.paused {
        s.push_str("; PAUSED: takes no calls whatever the hours");
    }
    s
}

fn grid_text(o: &Owner<'_>, zone: &Zone, g: &[(NaiveDate, Vec<Option<Cell>>)]) -> String {
    let mut out = header(o, zone);
    out.push('\n');
    let mut head = " ".repeat(16);
    for h in 0..24 {
        head.push_str(&format!("{h:02} "));
    }
    out.push_str(head.trim_end());
    out.push('\n');
    for (date, cells) in g {
        out.push_str(&date.format("%a %Y-%m-%d").to_string());
        out.push_str("  ");
        for c in cells {
            out.push_str(match c.map(Cell::state) {
                None => "   ",
                Some("open") => "██ ",
                Some("partial") => "▒▒ ",
                Some(_) => "·· ",
            });
        }
        let line_end = out.trim_end_matches(' ').len();
        out.truncate(line_end);
        out.push('\n');
    }
    out.push('\n');
    out
}

fn grid_json(o: &Owner<'_>, zone: &Zone, g: &[(NaiveDate, Vec<Option<Cell>>)]) -> Value {
    let days: Vec<Value> = g
        .iter()
        .map(|(date, cells)| {
            let first = first_at_or_after(zone, date.and_time(NaiveTime::MIN));
            json!({
                "date": date.to_string(),
                "weekday": date.weekday().num_days_from_sunday(),
                "starts": render::instant(first),
                "hours": cells.iter().map(|c| c.map(Cell::state)).collect::<Vec<_>>(),
                "open_minutes": cells.iter().map(|c| c.map(|c| c.open / 60)).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({
        "id": o.id,
        "kind": o.kind,
        "time_zone": o.zone.name(),
        "shown_in": zone.name(),
        "always_open": o.hours.is_none(),
        "paused": o.paused,
        "days": days,
    })
}
