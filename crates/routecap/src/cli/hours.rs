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

use chrono::{NaiveDate, Utc};
use routecap_core::grid::{self, Owner, OwnerView, WeekView};
use routecap_core::model::Config;
use routecap_core::zone::{self, Zone};

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
    let sunday = grid::sunday_on_or_before(day);
    if !grid::supported(sunday) {
        return Err(Failure::input(format!(
            "--week-of {day} is outside the supported range (1971..2098)"
        )));
    }
    let owners = owners(&config, args.target.as_deref())?;
    let view = WeekView {
        week_of: sunday.to_string(),
        zone: display.as_ref().map(Zone::name),
        grids: (owners.iter())
            .map(|o| {
                let zone = display.as_ref().unwrap_or(o.zone);
                grid::owner_view(o, zone, &grid::week(o.hours, o.zone, zone, sunday))
            })
            .collect(),
    };
    let text = if args.json {
        json_text(&view)
    } else {
        human(&view)
    };
    emit(&text)?;
    Ok(0)
}

fn owners<'a>(config: &'a Config, only: Option<&str>) -> Result<Vec<Owner<'a>>, Failure> {
    match only {
        None => Ok(grid::owners(config)
            .filter(|o| o.kind == "target" || o.hours.is_some())
            .collect()),
        Some(id) => grid::owner(config, id)
            .map(|o| vec![o])
            .map_err(|e| Failure::input(e.to_string())),
    }
}

/// `routecap hours` for people: the view `--json` prints, one grid per
/// owner, then the legend.
fn human(view: &WeekView) -> String {
    let mut out = format!("business hours in the week of Sunday {}\n\n", view.week_of);
    for g in &view.grids {
        out.push_str(&grid_text(g));
    }
    out.push_str("legend: █ open the whole hour, ▒ open part of the hour, · closed, blank: the hour does not occur (DST)\n");
    out
}

fn header(o: &OwnerView) -> String {
    let mut s = format!("{} {}", o.kind, o.id);
    if let Some(n) = &o.name {
        s.push_str(&format!(" ({n})"));
    }
    s.push_str(&format!(" — hours in {}", o.zone_name));
    if o.zone_name != o.time_zone {
        s.push_str(&format!(" = {}", o.time_zone));
    }
    if o.shown_in != o.time_zone {
        s.push_str(&format!(", shown in {}", o.shown_in));
    }
    if o.always_open {
        s.push_str("; no hours: open 24/7");
    }
    if o.paused {
        s.push_str("; PAUSED: takes no calls whatever the hours");
    }
    s
}

const WEEKDAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

fn grid_text(o: &OwnerView) -> String {
    let mut out = header(o);
    out.push('\n');
    let mut head = " ".repeat(16);
    for h in 0..24 {
        head.push_str(&format!("{h:02} "));
    }
    out.push_str(head.trim_end());
    out.push('\n');
    for day in &o.days {
        let weekday = WEEKDAYS.get(day.weekday as usize).unwrap_or(&"???");
        out.push_str(&format!("{weekday} {}  ", day.date));
        for c in &day.hours {
            out.push_str(match c.as_deref() {
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
