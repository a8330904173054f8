//! The benchmark fixture: a deterministic campaign of `n` targets.
//!
//! - 20 distinct zones, named the way real exports name them: Rails names
//!   (Retreaver), Windows ids (Ringba) and IANA names, with DST and non-DST
//!   zones, a half-hour zone, a 45-minute zone and Lord Howe's 30-minute DST.
//! - Realistic weekly hours: office hours Mon–Fri, short Saturdays, closed
//!   Sundays, some 24/7 targets, some night shifts (inverted entries).
//! - Caps with imported usage: hourly/daily/monthly/total counts, daily
//!   revenue, concurrency; about one target in six is at one of its caps.
//! - Three priority tiers (1, 2, 3) with weights 0..=100 (a few 0s).
//! - About 3 % paused.
//!
//! `as_of` is unset, so imported usage is read in whatever window contains
//! the decision instant: the eligible set depends only on the instant, which
//! lets the naive peer check agreement without modelling cap windows.
//!
//! This file has no dependency besides routecap-core, chrono and chrono-tz
//! so that the wasm speed harness can include it as is.

use chrono::{TimeDelta, TimeZone, Utc};
use routecap_core::cap_settings::CapSettings;
use routecap_core::caps::{Limits, Trigger, Usage};
use routecap_core::hours::{DayHours, WeeklyHours};
use routecap_core::model::{Config, Extras, Target};
use routecap_core::money::Money;
use routecap_core::zone::resolve;
use routecap_core::zone_cache::ZoneCache;
use routecap_core::Instant;

/// Zone names as written in configs: Rails, Windows and IANA, 20 distinct zones.
pub const ZONE_NAMES: [&str; 20] = [
    // Rails (Retreaver)
    "Eastern Time (US & Canada)",
    "Central Time (US & Canada)",
    "Mountain Time (US & Canada)",
    "Pacific Time (US & Canada)",
    "Arizona",
    "Hawaii",
    "London",
    // Windows (Ringba)
    "Romance Standard Time",
    "India Standard Time",
    "AUS Eastern Standard Time",
    "Tokyo Standard Time",
    "E. South America Standard Time",
    "Newfoundland Standard Time",
    "Alaskan Standard Time",
    // IANA
    "Europe/Berlin",
    "America/Santiago",
    "Australia/Lord_Howe",
    "Asia/Kathmandu",
    "Pacific/Auckland",
    "UTC",
];

/// A small deterministic generator (SplitMix64): fixtures must not depend
/// on `rand` so that the wasm harness builds them identically.
#[derive(Clone, Debug)]
pub struct Mix(u64);

impl Mix {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        Mix(seed)
    }
    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (n > 0; the modulo bias is irrelevant here).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
    /// True with probability `pct` %.
    pub fn pct(&mut self, pct: u64) -> bool {
        self.below(100) < pct
    }
}

fn day(open_h: u16, close_h: u16) -> Option<DayHours> {
    DayHours::new(open_h * 60, close_h * 60, false, false).ok()
}

fn closed_day() -> Option<DayHours> {
    DayHours::new(0, 0, false, true).ok()
}

/// Weekly hours of one target (`None` = 24/7). Index 0 = Sunday.
fn hours(r: &mut Mix) -> Option<WeeklyHours> {
    let kind = r.below(100);
    if kind < 15 {
        return None; // 24/7
    }
    if kind < 22 {
        // night shift: open 20:00–08:00 every weekday, via inverted entries
        let night = DayHours::new(8 * 60, 20 * 60, true, false).ok();
        return Some(WeeklyHours::new([
            closed_day(),
            night,
            night,
            night,
            night,
            night,
            closed_day(),
        ]));
    }
    let open = 7 + r.below(3) as u16; // 07:00–09:00
    let close = 17 + r.below(5) as u16; // 17:00–21:00
    let weekday = day(open, close);
    let saturday = if r.pct(40) { day(10, 14) } else { closed_day() };
    Some(WeeklyHours::new([
        closed_day(),
        weekday,
        weekday,
        weekday,
        weekday,
        weekday,
        saturday,
    ]))
}

/// Caps and the usage imported with them; some targets are at a cap.
fn caps(r: &mut Mix) -> (Limits, Usage) {
    let mut l = Limits::default();
    let mut u = Usage::default();
    let at_cap = r.pct(17);
    let which = r.below(5);
    if r.pct(70) {
        let cap = 5 + r.below(16);
        l.hourly = Some(cap);
        u.hourly = if at_cap && which == 0 {
            cap
        } else {
            r.below(cap)
        };
    }
    if r.pct(80) {
        let cap = 50 + r.below(151);
        l.daily = Some(cap);
        u.daily = if at_cap && which == 1 {
            cap
        } else {
            r.below(cap)
        };
    }
    if r.pct(50) {
        let cap = 1000 + r.below(4001);
        l.monthly = Some(cap);
        u.monthly = if at_cap && which == 2 {
            cap + 3
        } else {
            r.below(cap)
        };
    }
    if r.pct(20) {
        let cap = 10_000 + r.below(90_000);
        l.total = Some(cap);
        u.total = if at_cap && which == 3 {
            cap
        } else {
            r.below(cap)
        };
    }
    if r.pct(30) {
        let cap = 50_000 + r.below(200_000) as i64; // cents
        l.daily_revenue = Some(Money(cap));
        u.daily_revenue = Money(if at_cap && which == 4 {
            cap
        } else {
            r.below(cap as u64) as i64
        });
    }
    if r.pct(60) {
        let cap = 3 + r.below(8);
        l.concurrency = Some(cap);
        u.live = r.below(cap); // below: concurrency refusals come from lifecycle benches
    }
    (l, u)
}

/// A campaign of `n` targets (see the module docs), deterministic in `seed`.
pub fn config(n: usize, seed: u64) -> Config {
    let mut r = Mix::new(seed);
    let mut zones = ZoneCache::new();
    let resolved: Vec<_> = ZONE_NAMES
        .iter()
        .map(|name| {
            let z = resolve(name).expect("fixture zone names resolve");
            (zones.name(name), zones.get(z.tz))
        })
        .collect();
    let targets = (0..n)
        .map(|i| {
            let (zone_name, zone) = resolved[r.below(resolved.len() as u64) as usize].clone();
            let (limits, usage) = caps(&mut r);
            let priority = match r.below(10) {
                0..=1 => 1,
                2..=6 => 2,
                _ => 3,
            };
            Target {
                id: format!("t{i}"),
                name: Some(format!("Buyer {i}")),
                priority,
                weight: if r.pct(5) { 0 } else { 1 + r.below(100) as u32 },
                paused: r.pct(3),
                zone,
                zone_name,
                trigger: Trigger::Connect,
                hours: hours(&mut r).map(|h| zones.hours(h)),
                caps: CapSettings::new(&limits, &usage),
                extras: Extras::default(),
            }
        })
        .collect();
    Config {
        as_of: None,
        targets,
        groups: Vec::new(),
        ..Config::default()
    }
}

/// The first decision instant of every bench: Tuesday 2026-03-03 15:00:00Z
/// (office hours in the Americas and Europe, night in Asia-Pacific).
pub fn start() -> Instant {
    Utc.with_ymd_and_hms(2026, 3, 3, 15, 0, 0)
        .single()
        .expect("valid instant")
}

/// Seconds between two decisions in the route benches: one call per second
/// on the campaign, so the instants sweep days, weeks and DST changes.
pub const STEP_SECS: i64 = 1;

/// Instants wrap after this many seconds (28 days) to keep runs comparable.
pub const WRAP_SECS: i64 = 28 * 86_400;

/// The decision instants of a bench run: [`start`], then every
/// [`STEP_SECS`], back to [`start`] after [`WRAP_SECS`]. Stepping costs an
/// addition, not a calendar conversion, so it stays out of the figures.
#[derive(Clone, Debug)]
pub struct Instants {
    at: Instant,
    left: i64,
}

impl Default for Instants {
    fn default() -> Self {
        Instants {
            at: start(),
            left: WRAP_SECS / STEP_SECS,
        }
    }
}

impl Iterator for Instants {
    type Item = Instant;
    fn next(&mut self) -> Option<Instant> {
        if self.left == 0 {
            *self = Instants::default();
        }
        self.left -= 1;
        let at = self.at;
        self.at += TimeDelta::seconds(STEP_SECS);
        Some(at)
    }
}

/// US states the filtered fixture's geo filters and calls draw from.
const STATES: [&str; 12] = [
    "us-nc", "us-sc", "us-tx", "us-ca", "us-fl", "us-ny", "us-ga", "us-oh", "us-pa", "us-az",
    "us-wa", "us-il",
];
const TOPICS: [&str; 5] = ["medicare", "auto", "home", "debt", "solar"];

/// [`config`] with a filter on every target, the way buyers write them:
/// state lists (sometimes with an age bound), topics, a negated state,
/// and two-rule filters over the topic prefix or the traffic source.
pub fn filtered_config(n: usize, seed: u64) -> Config {
    use routecap_core::filter::{Condition, Filter, Op, Rule};
    let mut config = config(n, seed);
    let mut r = Mix::new(seed ^ 0xf1f1);
    let states = |r: &mut Mix, k: u64| -> Vec<String> {
        (0..k)
            .map(|_| STATES[r.below(STATES.len() as u64) as usize].to_string())
            .collect()
    };
    for t in &mut config.targets {
        let k = 2 + r.below(4);
        let geo = Condition::new("geo", Op::In, states(&mut r, k));
        let rules = match r.below(20) {
            0..=7 => vec![Rule::all_of(vec![geo])],
            8..=11 => vec![Rule::all_of(vec![
                geo,
                Condition::new("age", Op::Gte, [(60 + r.below(10)).to_string()]).number(),
            ])],
            12..=14 => {
                let topic = TOPICS[r.below(TOPICS.len() as u64) as usize];
                vec![Rule::all_of(vec![Condition::new(
                    "calling_about",
                    Op::In,
                    [topic],
                )])]
            }
            15..=16 => vec![Rule::all_of(vec![Condition::new(
                "geo",
                Op::NotIn,
                states(&mut r, 1),
            )])],
            _ => vec![
                Rule::all_of(vec![Condition::new(
                    "calling_about",
                    Op::StartsWith,
                    ["medi"],
                )]),
                Rule::all_of(vec![Condition::new("source", Op::Contains, ["google"])]),
            ],
        };
        t.extras.get_mut().filter = Some(Filter::any_of(rules));
    }
    config
}

/// `k` calls with 10 tags each (geo with its four tokens, age, topic,
/// source and six more the filters do not read), drawn from `seed`.
pub fn filtered_calls(k: usize, seed: u64) -> Vec<routecap_core::filter::CallAttrs> {
    let mut r = Mix::new(seed);
    (0..k)
        .map(|i| {
            let state = STATES[r.below(STATES.len() as u64) as usize];
            routecap_core::filter::CallAttrs::new()
                .with_caller(&format!("+1919555{:04}", i % 10_000))
                .with_tag("geo", &format!("919,us,us-27601,{state}"))
                .with_tag("age", &(40 + r.below(40)).to_string())
                .with_tag(
                    "calling_about",
                    TOPICS[r.below(TOPICS.len() as u64) as usize],
                )
                .with_tag("source", if r.pct(50) { "google-ads" } else { "tv" })
                .with_tag("device", "mobile")
                .with_tag("language", "en")
                .with_tag("request_id", &format!("req-{i}"))
                .with_tag("publisher", "pub-7")
                .with_tag("landing_page", "/medicare-plans")
                .with_tag("time_of_day", "afternoon")
        })
        .collect()
}
