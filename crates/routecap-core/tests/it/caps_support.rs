//! Builders for cap tests: configs written directly in Rust (no parser).
#![allow(dead_code)]

use std::sync::OnceLock;

use chrono::{TimeZone, Utc};
use routecap_core::cap_settings::CapSettings;
use routecap_core::caps::{Limits, Trigger, Usage};
use routecap_core::hours::{DayHours, WeeklyHours};
use routecap_core::model::Extras;
use routecap_core::model::{Config, Group, GroupMode, Target};
use routecap_core::money::Money;
use routecap_core::zone::{Instant, Zone};

pub fn utc(y: i32, m: u32, d: u32, h: u32, mi: u32) -> Instant {
    Utc.with_ymd_and_hms(y, m, d, h, mi, 0).unwrap()
}

pub fn new_york() -> Zone {
    static Z: OnceLock<Zone> = OnceLock::new();
    Z.get_or_init(|| Zone::new(chrono_tz::America::New_York))
        .clone()
}

pub fn utc_zone() -> Zone {
    static Z: OnceLock<Zone> = OnceLock::new();
    Z.get_or_init(Zone::utc).clone()
}

pub fn money(s: &str) -> Money {
    Money::parse(s).unwrap()
}

pub fn target(id: &str) -> Target {
    Target {
        id: id.to_string(),
        name: None,
        priority: 1,
        weight: 1,
        paused: false,
        zone: utc_zone(),
        zone_name: "UTC".into(),
        trigger: Trigger::Connect,
        hours: None,
        caps: CapSettings::new(&Limits::default(), &Usage::default()),
        extras: Extras::default(),
    }
}

pub fn group(id: &str, members: &[usize]) -> Group {
    Group {
        id: id.to_string(),
        name: None,
        members: members.to_vec(),
        mode: GroupMode::Separate,
        priority: None,
        weight: None,
        zone: utc_zone(),
        zone_name: "UTC".into(),
        hours: None,
        limits: Limits::default(),
        concurrency_matrix: None,
        usage: Usage::default(),
        filter: Default::default(),
        timeout_seconds: Default::default(),
    }
}

pub fn config(targets: Vec<Target>, groups: Vec<Group>) -> Config {
    Config {
        as_of: None,
        targets,
        groups,
        ..Config::default()
    }
}

/// Open `open..close` (minutes) every day.
pub fn daily_hours(open: u16, close: u16) -> WeeklyHours {
    WeeklyHours::new([Some(DayHours::new(open, close, false, false).unwrap()); 7])
}
