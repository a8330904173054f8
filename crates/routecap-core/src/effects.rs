//! What a lifecycle event touches, computed without any state: the owners
//! (the target and every group containing it), each owner's effective
//! limits at the instant and the windows the event lands in.
//!
//! A shared-state backend applies an event in one atomic server-side step;
//! that step must not need time-zone rules, so everything zone-dependent
//! (window bounds in the owner's zone, the concurrency-matrix cell) is
//! computed here, exactly as the memory state places windows. Pause and
//! business hours are config-level: [`locally_refused`] tells whether the
//! event is refused before any counter is read.

use chrono::{Datelike, Timelike};

use crate::caps::{Limits, Period, Trigger};
use crate::model::{CandidateRef, Config};
use crate::money::Money;
use crate::window::{window, Window};
use crate::zone::Instant;

/// One owner an event on a target touches, as of the event's instant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OwnerEffect {
    /// The target itself or a group containing it.
    pub owner: CandidateRef,
    /// The hour, day and month windows containing the instant, in the
    /// owner's zone.
    pub windows: [Window; 3],
    /// The owner's count and revenue limits (concurrency excluded: see
    /// [`OwnerEffect::concurrency`]).
    pub limits: Limits,
    /// The concurrency limit in force at the instant: the matrix cell when
    /// the owner has a matrix, else its plain limit.
    pub concurrency: Option<u64>,
}

impl OwnerEffect {
    /// The window of `p`.
    pub fn window(&self, p: Period) -> Window {
        match p {
            Period::Hour => self.windows[0],
            Period::Day => self.windows[1],
            Period::Month => self.windows[2],
        }
    }
}

/// Every owner an event on target `t` at `at` touches: the target first,
/// then its groups in config order. Empty when `t` is not in the config.
pub fn owners(config: &Config, t: usize, at: Instant) -> Vec<OwnerEffect> {
    let Some(target) = config.targets.get(t) else {
        return Vec::new();
    };
    let mut out = Vec::with_capacity(1);
    let zone_windows = |zone| Period::ALL.map(|p| window(zone, p, at));
    let cell = |zone: &crate::zone::Zone| {
        let local = zone.local(at);
        (local.weekday().num_days_from_sunday(), local.hour())
    };
    let concurrency_of =
        |limits: &Limits, matrix: Option<&crate::caps::ConcurrencyMatrix>, zone| match matrix {
            Some(m) => {
                let (d, h) = cell(zone);
                m.limit(d, h)
            }
            None => limits.concurrency,
        };
    out.push(OwnerEffect {
        owner: CandidateRef::Target(t),
        windows: zone_windows(&target.zone),
        limits: target.limits(),
        concurrency: concurrency_of(&target.limits(), target.concurrency_matrix(), &target.zone),
    });
    for g in config.groups_of(t) {
        let group = &config.groups[g];
        out.push(OwnerEffect {
            owner: CandidateRef::Group(g),
            windows: zone_windows(&group.zone),
            limits: group.limits.clone(),
            concurrency: concurrency_of(
                &group.limits,
                group.concurrency_matrix.as_ref(),
                &group.zone,
            ),
        });
    }
    out
}

/// Whether target `t` is refused at `at` by config-level rules alone: it
/// is paused, closed by its hours, or a containing group is closed. Such
/// an event needs no counter to be refused (its reasons still list every
/// cap reached, which a backend reads afterwards).
pub fn locally_refused(config: &Config, t: usize, at: Instant) -> bool {
    let Some(target) = config.targets.get(t) else {
        return true;
    };
    if target.paused
        || target
            .hours
            .as_ref()
            .is_some_and(|h| !h.is_open(&target.zone, at))
    {
        return true;
    }
    config.groups_of(t).any(|g| {
        let group = &config.groups[g];
        group
            .hours
            .as_ref()
            .is_some_and(|h| !h.is_open(&group.zone, at))
    })
}

/// Whether a conversion with `revenue` counts the call toward count caps
/// under `trigger` (a `connect` trigger counts at connect instead).
pub fn convert_counts(trigger: Trigger, revenue: Money) -> bool {
    match trigger {
        Trigger::Connect => false,
        Trigger::Convert => true,
        Trigger::Revenue => revenue > Money::ZERO,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::parse_config;

    #[test]
    fn target_then_groups_with_windows_in_each_zone() {
        let cfg = r#"{"targets": [{"id": "a", "time_zone": "America/New_York", "caps": {"daily": 2}},
                                  {"id": "b"}],
                      "groups": [{"id": "g", "members": ["a"], "time_zone": "UTC", "caps": {"concurrency": 1}}]}"#;
        let config = parse_config(cfg.as_bytes(), "t.json", None).expect("config");
        let at: Instant = "2026-11-01T12:00:00Z".parse().expect("instant");
        let o = owners(&config, 0, at);
        assert_eq!(o.len(), 2);
        assert_eq!(o[0].owner, CandidateRef::Target(0));
        assert_eq!(o[0].limits.daily, Some(2));
        // the fall-back day in New York lasts 25 hours
        let d = o[0].window(Period::Day);
        assert_eq!((d.end - d.start).num_hours(), 25);
        assert_eq!(o[1].owner, CandidateRef::Group(0));
        assert_eq!(o[1].concurrency, Some(1));
        assert_eq!(
            (o[1].window(Period::Day).end - o[1].window(Period::Day).start).num_hours(),
            24
        );
        assert!(owners(&config, 5, at).is_empty());
        assert!(!locally_refused(&config, 0, at));
        assert!(convert_counts(Trigger::Convert, Money::ZERO));
        assert!(!convert_counts(Trigger::Revenue, Money::ZERO));
    }
}
