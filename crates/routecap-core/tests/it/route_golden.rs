//! Golden route plans: self-describing JSON inputs with exact expected plans
//! per seed (`tests/golden/route_plan_*.json`) and exact generator draws
//! (`tests/golden/route_draws.json`). The same files are meant to be replayed
//! by the wasm build to prove native == wasm.
//!
//! `ROUTECAP_BLESS=1 cargo test -p routecap-core --test route_golden`
//! rewrites the expected outputs from the current code.

use crate::route_util;

use std::num::NonZeroU64;
use std::path::{Path, PathBuf};

use rand_core::Rng;
use route_util::{group, report, target};
use routecap_core::eligibility::CandidateReport;
use routecap_core::model::{CandidateRef, Config, DEFAULT_PRIORITY, DEFAULT_WEIGHT};
use routecap_core::route::{plan, rng_from_seed, uniform_below, Step};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PlanGolden {
    about: String,
    format: String,
    generator: String,
    candidates: Vec<Candidate>,
    cases: Vec<Case>,
}

#[derive(Serialize, Deserialize, Clone, Copy, PartialEq)]
#[serde(rename_all = "lowercase")]
enum Kind {
    Target,
    Group,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Candidate {
    id: String,
    kind: Kind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    priority: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    weight: Option<u32>,
    eligible: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    members: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    eligible_members: Option<Vec<String>>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    seed: u64,
    plan: Option<Vec<GoldenStep>>,
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
#[serde(untagged)]
enum GoldenStep {
    Target { target: String },
    Group { group: String, members: Vec<String> },
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct DrawGolden {
    about: String,
    generator: String,
    seed: u64,
    raw_next_u64: Option<Vec<String>>,
    draws: Vec<Draw>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Draw {
    bound: String,
    value: Option<String>,
}

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

fn blessing() -> bool {
    std::env::var("ROUTECAP_BLESS").is_ok_and(|v| v == "1")
}

fn write_json(path: &Path, value: &impl Serialize) {
    let text = serde_json::to_string_pretty(value).unwrap() + "\n";
    std::fs::write(path, text).unwrap();
}

/// Rebuild config and reports from a golden input.
fn build(candidates: &[Candidate]) -> (Config, Vec<CandidateReport>) {
    let mut config = Config::default();
    for c in candidates.iter().filter(|c| c.kind == Kind::Target) {
        let p = c.priority.unwrap_or(DEFAULT_PRIORITY);
        config
            .targets
            .push(target(&c.id, p, c.weight.unwrap_or(DEFAULT_WEIGHT)));
    }
    let index_of = |config: &mut Config, id: &str| match config.target_index(id) {
        Some(i) => i,
        None => {
            config
                .targets
                .push(target(id, DEFAULT_PRIORITY, DEFAULT_WEIGHT));
            config.targets.len() - 1
        }
    };
    let mut reports = Vec::new();
    for c in candidates {
        let rep = match c.kind {
            Kind::Target => report(
                CandidateRef::Target(config.target_index(&c.id).unwrap()),
                c.eligible,
                vec![],
            ),
            Kind::Group => {
                let members = c.members.iter().map(|m| index_of(&mut config, m)).collect();
                let eligible_members = c
                    .eligible_members
                    .iter()
                    .flatten()
                    .map(|m| index_of(&mut config, m))
                    .collect();
                config
                    .groups
                    .push(group(&c.id, members, c.priority, c.weight));
                report(
                    CandidateRef::Group(config.groups.len() - 1),
                    c.eligible,
                    eligible_members,
                )
            }
        };
        reports.push(rep);
    }
    (config, reports)
}

fn to_golden(config: &Config, step: &Step<'_>) -> GoldenStep {
    match *step {
        Step::Target(t) => GoldenStep::Target {
            target: config.targets[t].id.clone(),
        },
        Step::Group { group, members } => GoldenStep::Group {
            group: config.groups[group].id.clone(),
            members: members
                .iter()
                .map(|&m| config.targets[m].id.clone())
                .collect(),
        },
    }
}

fn golden_files(prefix: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(golden_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            name.starts_with(prefix) && name.ends_with(".json")
        })
        .collect();
    files.sort();
    files
}

#[test]
fn golden_plans() {
    let files = golden_files("route_plan_");
    assert!(files.len() >= 5, "golden plan files missing: {files:?}");
    let mut failures = Vec::new();
    for path in files {
        let mut golden: PlanGolden = serde_json::from_str(&std::fs::read_to_string(&path).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(golden.cases.len() >= 3, "{}: too few seeds", path.display());
        let (config, reports) = build(&golden.candidates);
        for case in &mut golden.cases {
            let steps = plan(&config, &reports, &mut rng_from_seed(case.seed));
            let got: Vec<GoldenStep> = steps.iter().map(|s| to_golden(&config, s)).collect();
            if blessing() {
                case.plan = Some(got);
            } else if case.plan.as_ref() != Some(&got) {
                failures.push(format!(
                    "{} seed {}: expected {:?}, got {got:?}",
                    path.display(),
                    case.seed,
                    case.plan
                ));
            }
        }
        if blessing() {
            write_json(&path, &golden);
        }
    }
    assert!(
        failures.is_empty(),
        "golden mismatches (ROUTECAP_BLESS=1 to rewrite):\n{}",
        failures.join("\n")
    );
}

#[test]
fn golden_draws() {
    let path = golden_dir().join("route_draws.json");
    let mut golden: DrawGolden =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let mut rng = rng_from_seed(golden.seed);
    let raw: Vec<String> = (0..4).map(|_| rng.next_u64().to_string()).collect();
    let values: Vec<String> = golden
        .draws
        .iter()
        .map(|d| {
            let bound = NonZeroU64::new(d.bound.parse().unwrap()).unwrap();
            uniform_below(&mut rng, bound).to_string()
        })
        .collect();
    if blessing() {
        golden.raw_next_u64 = Some(raw);
        for (d, v) in golden.draws.iter_mut().zip(values) {
            d.value = Some(v);
        }
        write_json(&path, &golden);
        return;
    }
    assert_eq!(golden.raw_next_u64, Some(raw), "raw ChaCha8 words");
    for (d, v) in golden.draws.iter().zip(values) {
        assert_eq!(
            d.value.as_deref(),
            Some(v.as_str()),
            "uniform_below({})",
            d.bound
        );
    }
}
