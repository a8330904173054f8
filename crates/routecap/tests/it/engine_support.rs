//! Builders for engine tests: configs written directly in Rust.
#![allow(dead_code)]

use chrono::{TimeZone, Utc};
use routecap::core::cap_settings::CapSettings;
use routecap::core::caps::{Limits, Trigger, Usage};
use routecap::core::model::{Config, Extras, Group, GroupMode, Target, TargetExtras};
use routecap::core::zone::{Instant, Zone};

pub fn utc(y: i32, m: u32, d: u32, h: u32, mi: u32) -> Instant {
    Utc.with_ymd_and_hms(y, m, d, h, mi, 0).unwrap()
}

pub fn target(id: &str, zone: &Zone, limits: Limits) -> Target {
    Target {
        id: id.to_string(),
        name: None,
        priority: 1,
        weight: 1,
        paused: false,
        zone: zone.clone(),
        zone_name: zone.name().into(),
        trigger: Trigger::Connect,
        hours: None,
        caps: CapSettings::new(&limits, &Usage::default()),
        extras: Extras::new(TargetExtras {
            concurrency_matrix: None,
            filter: None,
            timeout_seconds: None,
            duplicates: None,
        }),
    }
}

pub fn group(id: &str, members: &[usize], zone: &Zone, limits: Limits) -> Group {
    Group {
        id: id.to_string(),
        name: None,
        members: members.to_vec(),
        mode: GroupMode::Separate,
        priority: None,
        weight: None,
        zone: zone.clone(),
        zone_name: zone.name().into(),
        hours: None,
        limits,
        concurrency_matrix: None,
        usage: Usage::default(),
        filter: None,
        timeout_seconds: None,
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
