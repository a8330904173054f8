//! # routecap-wasm-sim
//!
//! `simulate(config, options)`: the core's simulator for JavaScript, so the
//! demo's "Play a day" gives the same numbers as `routecap simulate --seed`.
//! A module of its own (loaded when Play a day starts) because with the
//! simulator the main `routecap-wasm` module would pass its 200 KB gzip
//! budget.

use routecap_core::formats::{self, Format};
use routecap_core::instant::parse_instant;
use routecap_core::model::Config;
use routecap_core::money::Money;
use routecap_core::simulate::{self as sim, Profile, ReportJson, SimParams, SimReport};
use routecap_core::zone::Instant;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use wasm_bindgen::prelude::*;

fn fail(message: &str) -> JsValue {
    js_sys::Error::new(message).into()
}

/// Options of a run: the `routecap simulate` flags, snake_case.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Options {
    from: String,
    to: String,
    seed: u64,
    calls_per_hour: Option<f64>,
    answer_rate: Option<f64>,
    convert_rate: Option<f64>,
    /// Exact decimal text or a number.
    revenue: Option<Value>,
    mean_duration: Option<f64>,
    /// Any shape `--profile` takes: JSON, or 24/168 comma-separated weights.
    profile: Option<Value>,
    #[serde(default)]
    fresh: bool,
    /// Config shape, overriding detection.
    format: Option<String>,
    /// Add per-hour counts (`hours`) for animating the run.
    #[serde(default)]
    hours: bool,
}

/// Usage of one owner at the end of an hour.
#[derive(Serialize)]
struct OwnerHour {
    /// Calls connected to it (a group: to its members) during the hour.
    connected: u64,
    hourly: u64,
    daily: u64,
    monthly: u64,
    live: u64,
    peak_live: u64,
}

/// One UTC hour of the run.
#[derive(Serialize)]
struct HourJson {
    start: String,
    calls: u64,
    connected: u64,
    no_eligible: u64,
    unanswered: u64,
    /// Targets, then groups, config order.
    owners: Vec<OwnerHour>,
}

#[derive(Serialize)]
struct Answer {
    #[serde(flatten)]
    report: ReportJson,
    #[serde(skip_serializing_if = "Option::is_none")]
    hours: Option<Vec<HourJson>>,
}

/// `--from` / `--to` as the CLI reads them ([`parse_instant`]).
fn instant(flag: &str, text: &str) -> Result<Instant, JsValue> {
    parse_instant(text).map_err(|e| fail(&format!("{flag} {e}")))
}

fn hours(config: &Config, report: &SimReport) -> Vec<HourJson> {
    let nt = config.targets.len();
    report
        .hours
        .iter()
        .map(|h| HourJson {
            start: routecap_core::render::instant(h.start),
            calls: h.calls,
            connected: h.connected.iter().sum(),
            no_eligible: h.no_eligible,
            unanswered: h.unanswered,
            owners: h
                .usage
                .iter()
                .zip(h.peak_live.iter().chain(std::iter::repeat(&0)))
                .enumerate()
                .map(|(o, (u, &peak_live))| OwnerHour {
                    connected: if o < nt {
                        h.connected[o]
                    } else {
                        config.groups[o - nt]
                            .members
                            .iter()
                            .map(|&m| h.connected[m])
                            .sum()
                    },
                    hourly: u.hourly,
                    daily: u.daily,
                    monthly: u.monthly,
                    live: u.live,
                    peak_live,
                })
                .collect(),
        })
        .collect()
}

/// Simulate synthetic traffic through a config, as `routecap simulate
/// --json` does: `config` is a JSON string or object in any of the three
/// shapes; `options` holds `from`, `to` (RFC 3339) and `seed`, and may hold
/// `calls_per_hour`, `answer_rate`, `convert_rate`, `revenue`,
/// `mean_duration`, `profile`, `fresh`, `format`, and `hours: true` for
/// per-hour counts. The answer is the CLI's JSON report as an object.
#[wasm_bindgen(js_name = simulate)]
pub fn simulate(
    #[wasm_bindgen(unchecked_param_type = "object | string")] config: JsValue,
    options: JsValue,
) -> Result<JsValue, JsValue> {
    let opts_text = js_sys::JSON::stringify(&options)
        .ok()
        .and_then(|s| s.as_string())
        .ok_or_else(|| fail("options must be a JSON-serialisable object"))?;
    let o: Options =
        serde_json::from_str(&opts_text).map_err(|e| fail(&format!("options: {e}")))?;
    let format = match o.format.as_deref() {
        None | Some("") => None,
        Some(f) => Some(f.parse::<Format>().map_err(|_| {
            fail(&format!(
                "{f:?} is not a config format (routecap, retreaver, ringba)"
            ))
        })?),
    };
    let config_text = match config.as_string() {
        Some(s) => s,
        None => js_sys::JSON::stringify(&config)
            .ok()
            .and_then(|s| s.as_string())
            .ok_or_else(|| fail("config must be a JSON string or a JSON-serialisable object"))?,
    };
    let config = formats::parse_config(config_text.as_bytes(), "config", format)
        .map_err(|e| fail(&e.to_string()))?;
    let mut params = SimParams::new(instant("--from", &o.from)?, instant("--to", &o.to)?, o.seed);
    if let Some(v) = o.calls_per_hour {
        params.calls_per_hour = v;
    }
    if let Some(v) = o.answer_rate {
        params.answer_rate = v;
    }
    if let Some(v) = o.convert_rate {
        params.convert_rate = v;
    }
    if let Some(v) = o.mean_duration {
        params.mean_duration_secs = v;
    }
    if let Some(v) = &o.revenue {
        let text = match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        params.revenue =
            Money::parse(&text).map_err(|e| fail(&format!("--revenue {text:?} {e}")))?;
    }
    if let Some(v) = &o.profile {
        let p = match v {
            Value::String(s) => Profile::parse(s),
            other => Profile::from_json(other),
        };
        params.profile = Some(p.map_err(|e| fail(&format!("--profile: {e}")))?);
    }
    params.fresh = o.fresh;
    let report = sim::simulate(&config, &params, &mut |_| {}).map_err(|e| fail(&e.to_string()))?;
    let answer = Answer {
        report: sim::report_json(&config, &report),
        hours: o.hours.then(|| hours(&config, &report)),
    };
    let text = serde_json::to_string(&answer).map_err(|e| fail(&e.to_string()))?;
    js_sys::JSON::parse(&text)
}
