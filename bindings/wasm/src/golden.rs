//! Test-only hooks (cargo feature `test-hooks`, on in the node test build,
//! off in the published package): replays of the core's route golden files
//! (`crates/routecap-core/tests/golden/route_*.json`) inside the wasm build,
//! so the node tests can prove that native and WebAssembly plan identically.
//!
//! The goldens describe eligibility *reports* (including states no real
//! config produces, such as an "eligible" simultaneous group with no eligible
//! member), so they are rebuilt here exactly as the native golden test does
//! (`tests/route_golden.rs`) rather than going through a config file.

use std::num::NonZeroU64;

use rand_core::Rng;
use routecap_core::cap_settings::CapSettings;
use routecap_core::caps::{Limits, Trigger, Usage};
use routecap_core::eligibility::CandidateReport;
use routecap_core::model::{
    CandidateRef, Config, Extras, Group, GroupMode, Target, TargetExtras, DEFAULT_PRIORITY,
    DEFAULT_WEIGHT,
};
use routecap_core::route::{plan, rng_from_seed, uniform_below, Step};
use routecap_core::zone::Zone;
use serde::Serialize;
use serde_json::Value;
use tsify::Tsify;
use wasm_bindgen::prelude::*;

use crate::convert::{self, error, to_js};

/// Test hook for cross-platform determinism: the plan the core's planner
/// gives for a route golden file's `candidates` and `seed`, in the golden's
/// step shape. Used by the node tests to replay
/// `crates/routecap-core/tests/golden/route_plan_*.json`.
#[wasm_bindgen(js_name = goldenPlan, unchecked_return_type = "GoldenStep[]")]
pub fn golden_plan(
    #[wasm_bindgen(unchecked_param_type = "object[] | string")] candidates: JsValue,
    #[wasm_bindgen(unchecked_param_type = "number | bigint | string")] seed: JsValue,
) -> Result<JsValue, JsValue> {
    let text = convert::config_text(&candidates)?;
    let v: Value = serde_json::from_str(&text).map_err(|e| error(&e.to_string()))?;
    let (config, reports) = build(&v).map_err(|e| error(&e))?;
    let seed = convert::unsigned("seed", &seed)?;
    to_js(&plan_steps(&config, &reports, seed))
}

/// Test hook replaying `route_draws.json`: the first four raw generator
/// words for `seed`, then one unbiased draw per bound (decimal strings).
#[wasm_bindgen(js_name = goldenDraws, unchecked_return_type = "GoldenDraws")]
pub fn golden_draws(
    #[wasm_bindgen(unchecked_param_type = "number | bigint | string")] seed: JsValue,
    bounds: Vec<String>,
) -> Result<JsValue, JsValue> {
    let seed = convert::unsigned("seed", &seed)?;
    let bounds = bounds
        .iter()
        .map(|b| {
            b.parse::<u64>()
                .map_err(|_| error(&format!("bound {b:?} is not a u64")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    to_js(&draws(seed, &bounds).map_err(|e| error(&e))?)
}

/// A golden's `candidates` list, read leniently but without panicking.
fn build(candidates: &Value) -> Result<(Config, Vec<CandidateReport>), String> {
    let list = candidates
        .as_array()
        .ok_or("candidates: expected an array")?;
    let mut config = Config::default();
    let utc = Zone::utc();
    let field_i32 = |c: &Value, k: &str, default: i32| -> Result<i32, String> {
        match c.get(k) {
            None | Some(Value::Null) => Ok(default),
            Some(v) => v
                .as_i64()
                .and_then(|n| i32::try_from(n).ok())
                .ok_or_else(|| format!("{k}: {v} is not an i32")),
        }
    };
    let id_of = |c: &Value| -> Result<String, String> {
        c.get("id")
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| format!("candidate {c} has no string id"))
    };
    let target = |id: &str, priority: i32, weight: u32| Target {
        id: id.to_string(),
        name: None,
        priority,
        weight,
        paused: false,
        zone: utc.clone(),
        zone_name: "UTC".into(),
        trigger: Trigger::default(),
        hours: None,
        caps: CapSettings::default(),
        extras: Extras::new(TargetExtras {
            concurrency_matrix: None,
            filter: None,
            timeout_seconds: None,
            duplicates: None,
        }),
    };
    let field_u32 = |c: &Value, k: &str| -> Result<Option<u32>, String> {
        match c.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .map(Some)
                .ok_or_else(|| format!("{k}: {v} is not a u32")),
        }
    };
    let is_target = |c: &Value| c.get("kind").and_then(Value::as_str) == Some("target");
    for c in list.iter().filter(|c| is_target(c)) {
        let w = field_u32(c, "weight")?.unwrap_or(DEFAULT_WEIGHT);
        config.targets.push(target(
            &id_of(c)?,
            field_i32(c, "priority", DEFAULT_PRIORITY)?,
            w,
        ));
    }
    let mut reports = Vec::with_capacity(list.len());
    for c in list {
        let id = id_of(c)?;
        let eligible = c.get("eligible").and_then(Value::as_bool).unwrap_or(false);
        if is_target(c) {
            let t = config
                .target_index(&id)
                .ok_or_else(|| format!("target {id} lost"))?;
            reports.push(report(CandidateRef::Target(t), eligible, Vec::new()));
            continue;
        }
        let index_of = |config: &mut Config, m: &Value| -> Result<usize, String> {
            let m = m
                .as_str()
                .ok_or_else(|| format!("member {m} is not a string"))?;
            Ok(match config.target_index(m) {
                Some(i) => i,
                None => {
                    config
                        .targets
                        .push(target(m, DEFAULT_PRIORITY, DEFAULT_WEIGHT));
                    config.targets.len() - 1
                }
            })
        };
        let empty = Vec::new();
        let names = |k: &str| c.get(k).and_then(Value::as_array).unwrap_or(&empty);
        let mut members = Vec::new();
        for m in names("members") {
            members.push(index_of(&mut config, m)?);
        }
        let mut eligible_members = Vec::new();
        for m in names("eligible_members") {
            eligible_members.push(index_of(&mut config, m)?);
        }
        let opt = |k: &str| {
            c.get(k)
                .filter(|v| !v.is_null())
                .map(|_| field_i32(c, k, 0))
        };
        let weight = field_u32(c, "weight")?;
        config.groups.push(Group {
            id,
            name: None,
            members,
            mode: GroupMode::Simultaneous,
            priority: opt("priority").transpose()?,
            weight,
            zone: utc.clone(),
            zone_name: "UTC".into(),
            hours: None,
            limits: Limits::default(),
            concurrency_matrix: None,
            usage: Usage::default(),
            filter: None,
            timeout_seconds: None,
        });
        reports.push(report(
            CandidateRef::Group(config.groups.len() - 1),
            eligible,
            eligible_members,
        ));
    }
    Ok((config, reports))
}

fn report(
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

/// A plan step in the goldens' shape.
#[derive(Serialize, Tsify)]
#[serde(untagged)]
enum GoldenStep<'c> {
    Target {
        target: &'c str,
    },
    Group {
        group: &'c str,
        members: Vec<&'c str>,
    },
}

/// The plan for one seed in the goldens' step shape:
/// `[{"target": id} | {"group": id, "members": [ids]}]`.
fn plan_steps<'c>(
    config: &'c Config,
    reports: &[CandidateReport],
    seed: u64,
) -> Vec<GoldenStep<'c>> {
    let steps = plan(config, reports, &mut rng_from_seed(seed));
    steps
        .iter()
        .map(|s| match *s {
            Step::Target(t) => GoldenStep::Target {
                target: &config.targets[t].id,
            },
            Step::Group { group, members } => GoldenStep::Group {
                group: &config.groups[group].id,
                members: members
                    .iter()
                    .map(|&m| config.targets[m].id.as_str())
                    .collect(),
            },
        })
        .collect()
}

/// The generator's raw words and draws for `route_draws.json`.
#[derive(Serialize, Tsify)]
#[tsify(rename = "GoldenDraws")]
struct Draws {
    raw_next_u64: Vec<String>,
    values: Vec<String>,
}

/// `route_draws.json` replay: the first four raw words of the generator for
/// `seed`, then `uniform_below(bound)` for each bound, as decimal strings.
fn draws(seed: u64, bounds: &[u64]) -> Result<Draws, String> {
    let mut rng = rng_from_seed(seed);
    let raw: Vec<String> = (0..4).map(|_| rng.next_u64().to_string()).collect();
    let mut values = Vec::with_capacity(bounds.len());
    for &b in bounds {
        let bound = NonZeroU64::new(b).ok_or("bound 0 is not allowed")?;
        values.push(uniform_below(&mut rng, bound).to_string());
    }
    Ok(Draws {
        raw_next_u64: raw,
        values,
    })
}
