//! One shared copy per config of what many owners have in common: a
//! [`Zone`] (with its decoded transition table) per IANA zone, each zone
//! name as written, each weekly schedule. Its own module because it knows
//! both zones and hours, which know each other only one way (hours read
//! zones).

use std::collections::HashMap;
use std::sync::Arc;

use chrono_tz::Tz;

use crate::hours::WeeklyHours;
use crate::zone::Zone;

/// Shares one [`Zone`] (and its transition table) per distinct IANA zone,
/// and one copy of each zone name as written and of each weekly schedule:
/// what many owners of one config have in common.
#[derive(Default, Debug)]
pub struct ZoneCache {
    zones: HashMap<Tz, Zone>,
    /// Zone names as written, one shared copy each.
    names: HashMap<String, Arc<str>>,
    /// Weekly schedules, one shared copy each.
    hours: HashMap<WeeklyHours, Arc<WeeklyHours>>,
}

impl ZoneCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// The zone for `tz`, built on first use.
    pub fn get(&mut self, tz: Tz) -> Zone {
        self.zones
            .entry(tz)
            .or_insert_with(|| Zone::new(tz))
            .clone()
    }

    /// `hours`, shared with every owner that has the same schedule.
    pub fn hours(&mut self, hours: WeeklyHours) -> Arc<WeeklyHours> {
        self.hours
            .entry(hours)
            .or_insert_with_key(|h| Arc::new(h.clone()))
            .clone()
    }

    /// `written`, shared with every owner that writes its zone the same way.
    pub fn name(&mut self, written: &str) -> Arc<str> {
        if let Some(n) = self.names.get(written) {
            return n.clone();
        }
        let n: Arc<str> = Arc::from(written);
        self.names.insert(written.to_string(), n.clone());
        n
    }
}
