//! Builders and statistics shared by the `route_*` tests.
#![allow(dead_code)]

use std::sync::OnceLock;

use routecap_core::cap_settings::CapSettings;
use routecap_core::caps::{Limits, Trigger, Usage};
use routecap_core::eligibility::CandidateReport;
use routecap_core::model::Extras;
use routecap_core::model::{CandidateRef, Config, Group, GroupMode, Target};
use routecap_core::route::Step;
use routecap_core::zone::Zone;

fn utc() -> Zone {
    static UTC: OnceLock<Zone> = OnceLock::new();
    UTC.get_or_init(Zone::utc).clone()
}

/// A target with the given id, priority and weight, otherwise defaults.
pub fn target(id: &str, priority: i32, weight: u32) -> Target {
    Target {
        id: id.to_string(),
        name: None,
        priority,
        weight,
        paused: false,
        zone: utc(),
        zone_name: "UTC".into(),
        trigger: Trigger::default(),
        hours: None,
        caps: CapSettings::new(&Limits::default(), &Usage::default()),
        extras: Extras::default(),
    }
}

/// A simultaneous group over target indices.
pub fn group(id: &str, members: Vec<usize>, priority: Option<i32>, weight: Option<u32>) -> Group {
    Group {
        id: id.to_string(),
        name: None,
        members,
        mode: GroupMode::Simultaneous,
        priority,
        weight,
        zone: utc(),
        zone_name: "UTC".into(),
        hours: None,
        limits: Limits::default(),
        concurrency_matrix: None,
        usage: Usage::default(),
        filter: Default::default(),
        timeout_seconds: Default::default(),
    }
}

/// A report with no reasons (the planner only reads `eligible`).
pub fn report(
    candidate: CandidateRef,
    eligible: bool,
    eligible_members: Vec<usize>,
) -> CandidateReport {
    CandidateReport {
        candidate,
        eligible,
        reasons: Vec::new(),
        eligible_members,
    }
}

/// One tier-or-more of plain targets `(priority, weight, eligible)`, ids `t0`,
/// `t1`, …, every target a candidate in config order.
pub fn targets(spec: &[(i32, u32, bool)]) -> (Config, Vec<CandidateReport>) {
    let mut config = Config::default();
    let mut reports = Vec::new();
    for (i, &(p, w, eligible)) in spec.iter().enumerate() {
        config.targets.push(target(&format!("t{i}"), p, w));
        reports.push(report(CandidateRef::Target(i), eligible, Vec::new()));
    }
    (config, reports)
}

/// The candidate a step stands for.
pub fn step_ref(step: &Step<'_>) -> CandidateRef {
    match *step {
        Step::Target(t) => CandidateRef::Target(t),
        Step::Group { group, .. } => CandidateRef::Group(group),
    }
}

/// Priority of a step's candidate.
pub fn step_priority(config: &Config, step: &Step<'_>) -> i32 {
    match *step {
        Step::Target(t) => config.targets[t].priority,
        Step::Group { group, .. } => config.groups[group].effective_priority(),
    }
}

/// Weight of a step's candidate.
pub fn step_weight(config: &Config, step: &Step<'_>) -> u32 {
    match *step {
        Step::Target(t) => config.targets[t].weight,
        Step::Group { group, .. } => config.groups[group].effective_weight(),
    }
}

/// Pearson's χ² statistic of observed counts against expected probabilities.
pub fn chi2(observed: &[u64], probabilities: &[f64]) -> f64 {
    assert_eq!(observed.len(), probabilities.len());
    let n: u64 = observed.iter().sum();
    observed
        .iter()
        .zip(probabilities)
        .map(|(&o, &p)| {
            let e = p * n as f64;
            assert!(e >= 5.0, "expected count {e} too small for χ²");
            (o as f64 - e).powi(2) / e
        })
        .sum()
}

/// Upper critical value of χ² at p = 0.001 for the degrees of freedom used
/// in these tests (standard tables, e.g. NIST/SEMATECH e-Handbook 1.3.6.7.4).
pub fn chi2_critical_001(df: usize) -> f64 {
    match df {
        1 => 10.828,
        2 => 13.816,
        3 => 16.266,
        4 => 18.467,
        5 => 20.515,
        6 => 22.458,
        7 => 24.322,
        8 => 26.124,
        9 => 27.877,
        10 => 29.588,
        11 => 31.264,
        19 => 43.820,
        23 => 49.728,
        _ => panic!("no χ² critical value tabled for df = {df}"),
    }
}

/// Assert χ² goodness of fit at p = 0.001 (df = categories − 1).
pub fn assert_fits(what: &str, observed: &[u64], probabilities: &[f64]) {
    let stat = chi2(observed, probabilities);
    let crit = chi2_critical_001(observed.len() - 1);
    assert!(
        stat < crit,
        "{what}: χ² = {stat:.3} >= {crit} (df {}), observed {observed:?}, p {probabilities:?}",
        observed.len() - 1
    );
}
