//! # routecap-wasm
//!
//! The WebAssembly face of routecap for JavaScript and TypeScript: an
//! [`Engine`] class holding one config and its counters, and [`zones`].
//!
//! Answers are the CLI's `--json` shapes, built by the same
//! `routecap_core::render` functions: `check`/`route` return plain objects,
//! `checkJson`/`routeJson` the exact text `routecap check|route --json`
//! prints. Errors are thrown as JS `Error`s with the CLI's messages (config
//! errors carry `file`, `path`, `value` and `expected` properties too).
//!
//! Nothing here reads a clock or an OS random source: instants and seeds
//! come from the caller, so the wasm build has no `getrandom` at all and
//! plans are identical to native ones for the same seed.

mod convert;
mod golden;
mod grid;
mod time;

use routecap_core::eligibility::{self, CandidateReport};
use routecap_core::formats::{self, Format};
use routecap_core::model::{CandidateRef, Config};
use routecap_core::render;
use routecap_core::route;
use routecap_core::state::{ConnectOutcome, LifecycleError, Snapshot, State};
use routecap_core::zone::{self, Instant, Zone};
use serde_json::{json, Map, Value};
use wasm_bindgen::prelude::*;

use convert::{cli_text, config_error, error, instant, to_js};

/// The file name config errors show (the CLI shows the path given).
const CONFIG_NAME: &str = "config";

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &str = include_str!("types.d.ts");

/// One config and its counters: eligibility, route plans and the call
/// lifecycle, as in `routecap check/route/replay`.
#[wasm_bindgen]
pub struct Engine {
    config: Config,
    state: State,
}

fn lifecycle(e: LifecycleError) -> JsValue {
    error(&e.to_string())
}

fn ok() -> Value {
    json!({ "ok": true })
}

#[wasm_bindgen]
impl Engine {
    /// Load a config in any of the three shapes (routecap, Retreaver,
    /// Ringba), given as a JSON string or a JS object; `format` overrides
    /// detection.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "object | string")] config: JsValue,
        format: Option<String>,
    ) -> Result<Engine, JsValue> {
        let format = match format.as_deref() {
            None | Some("") => None,
            Some(f) => Some(f.parse::<Format>().map_err(|_| {
                error(&format!(
                    "{f:?} is not a config format (routecap, retreaver, ringba)"
                ))
            })?),
        };
        let text = convert::config_text(&config)?;
        let config = formats::parse_config(text.as_bytes(), CONFIG_NAME, format)
            .map_err(|e| config_error(&e))?;
        let state = State::new(&config);
        Ok(Engine { config, state })
    }

    fn reports(&self, at: Instant) -> Vec<CandidateReport> {
        eligibility::check(&self.config, &self.state, at)
    }

    fn check_value(&self, at: &str) -> Result<Value, JsValue> {
        let at = instant("at", at)?;
        Ok(render::check(&self.config, &self.reports(at), at))
    }

    fn route_value(&self, at: &str, seed: &JsValue) -> Result<Value, JsValue> {
        let at = instant("at", at)?;
        let seed = convert::unsigned("seed", seed)?;
        let reports = self.reports(at);
        let steps = route::plan(&self.config, &reports, &mut route::rng_from_seed(seed));
        Ok(render::route(&self.config, at, seed, &steps, &reports))
    }

    /// Eligibility of every candidate at `at` (RFC 3339): `routecap check --json`.
    #[wasm_bindgen(unchecked_return_type = "CheckResult")]
    pub fn check(&self, at: &str) -> Result<JsValue, JsValue> {
        to_js(&self.check_value(at)?)
    }

    /// The exact text `routecap check CONFIG --at AT --json` prints.
    #[wasm_bindgen(js_name = checkJson)]
    pub fn check_json(&self, at: &str) -> Result<String, JsValue> {
        Ok(cli_text(&self.check_value(at)?))
    }

    /// The failover plan for one call at `at` with `seed` (number, BigInt or
    /// decimal string): `routecap route --json`. Read-only.
    #[wasm_bindgen(unchecked_return_type = "RouteResult")]
    pub fn route(
        &self,
        at: &str,
        #[wasm_bindgen(unchecked_param_type = "number | bigint | string")] seed: JsValue,
    ) -> Result<JsValue, JsValue> {
        to_js(&self.route_value(at, &seed)?)
    }

    /// The exact text `routecap route CONFIG --at AT --seed SEED --json` prints.
    #[wasm_bindgen(js_name = routeJson)]
    pub fn route_json(
        &self,
        at: &str,
        #[wasm_bindgen(unchecked_param_type = "number | bigint | string")] seed: JsValue,
    ) -> Result<String, JsValue> {
        Ok(cli_text(&self.route_value(at, &seed)?))
    }

    /// Route `n` calls at `at` with seeds `seed, seed+1, …` (wrapping) and
    /// count where each would ring first: `{n, first: {id: count}, none}`.
    /// Same answers as `n` calls of `route`, with eligibility checked once.
    #[wasm_bindgen(js_name = routeMany, unchecked_return_type = "RouteManyResult")]
    pub fn route_many(
        &self,
        at: &str,
        #[wasm_bindgen(unchecked_param_type = "number | bigint | string")] seed: JsValue,
        n: u32,
    ) -> Result<JsValue, JsValue> {
        let at = instant("at", at)?;
        let seed = convert::unsigned("seed", &seed)?;
        let reports = self.reports(at);
        let ids: Vec<&str> = reports
            .iter()
            .filter(|r| r.eligible)
            .map(|r| render::candidate_id(&self.config, r.candidate))
            .collect();
        let mut counts = vec![0u64; ids.len()];
        let mut none = 0u64;
        let mut planner = route::Planner::new();
        for i in 0..u64::from(n) {
            let mut rng = route::rng_from_seed(seed.wrapping_add(i));
            let step = planner.lazy(&self.config, &reports, &mut rng).next();
            let id = match step {
                Some(route::Step::Target(t)) => self.config.targets.get(t).map(|t| t.id.as_str()),
                Some(route::Step::Group { group, .. }) => {
                    self.config.groups.get(group).map(|g| g.id.as_str())
                }
                None => None,
            };
            match id.and_then(|id| ids.iter().position(|&x| x == id)) {
                Some(k) => counts[k] += 1,
                None => none += 1,
            }
        }
        let first: Map<String, Value> = ids
            .iter()
            .zip(counts)
            .map(|(id, c)| ((*id).to_string(), json!(c)))
            .collect();
        to_js(&json!({ "n": n, "first": first, "none": none }))
    }

    /// Connect `call` to target `target` at `at`: `{ok: true}`, or
    /// `{ok: false, reasons}` when the target is not eligible (nothing changes).
    #[wasm_bindgen(unchecked_return_type = "ConnectResult")]
    pub fn connect(&mut self, call: &str, target: &str, at: &str) -> Result<JsValue, JsValue> {
        let t = self.target(target)?;
        let at = instant("at", at)?;
        let out = self
            .state
            .connect(&self.config, call, t, at)
            .map_err(lifecycle)?;
        to_js(&self.outcome(out))
    }

    /// Hold capacity on `target` for `call` for `ttlSeconds` (Retreaver RTB
    /// reservations); confirmed by `connect`, released at expiry.
    #[wasm_bindgen(unchecked_return_type = "ConnectResult")]
    pub fn reserve(
        &mut self,
        call: &str,
        target: &str,
        #[wasm_bindgen(js_name = ttlSeconds, unchecked_param_type = "number | bigint")]
        ttl_seconds: JsValue,
        at: &str,
    ) -> Result<JsValue, JsValue> {
        let t = self.target(target)?;
        let ttl = convert::unsigned("ttlSeconds", &ttl_seconds)?;
        let at = instant("at", at)?;
        let out = self
            .state
            .reserve(&self.config, call, t, ttl, at)
            .map_err(lifecycle)?;
        to_js(&self.outcome(out))
    }

    /// Convert `call` with `revenue` (decimal string or number, exact cents).
    #[wasm_bindgen(unchecked_return_type = "{ ok: true }")]
    pub fn convert(
        &mut self,
        call: &str,
        #[wasm_bindgen(unchecked_param_type = "string | number")] revenue: JsValue,
        at: &str,
    ) -> Result<JsValue, JsValue> {
        let revenue = convert::money("revenue", &revenue)?;
        let at = instant("at", at)?;
        self.state
            .convert(&self.config, call, revenue, at)
            .map_err(lifecycle)?;
        to_js(&ok())
    }

    /// End `call`: releases its concurrency.
    #[wasm_bindgen(unchecked_return_type = "{ ok: true }")]
    pub fn end(&mut self, call: &str, at: &str) -> Result<JsValue, JsValue> {
        let at = instant("at", at)?;
        self.state.end(&self.config, call, at).map_err(lifecycle)?;
        to_js(&ok())
    }

    /// Reset the total (hard) counters of a target.
    #[wasm_bindgen(js_name = resetTarget, unchecked_return_type = "{ ok: true }")]
    pub fn reset_target(&mut self, id: &str) -> Result<JsValue, JsValue> {
        let t = self.target(id)?;
        self.state
            .reset_target(&self.config, t)
            .map_err(lifecycle)?;
        to_js(&ok())
    }

    /// Reset the total counters of a group and of its members.
    #[wasm_bindgen(js_name = resetGroup, unchecked_return_type = "{ ok: true }")]
    pub fn reset_group(&mut self, id: &str) -> Result<JsValue, JsValue> {
        let g = self.group(id)?;
        self.state.reset_group(&self.config, g).map_err(lifecycle)?;
        to_js(&ok())
    }

    /// The counters and calls as a JSON-friendly object (ids, RFC 3339, decimal money).
    #[wasm_bindgen(unchecked_return_type = "Snapshot")]
    pub fn snapshot(&self) -> Result<JsValue, JsValue> {
        let snap = self.state.snapshot(&self.config);
        let v = serde_json::to_value(&snap).map_err(|e| error(&e.to_string()))?;
        to_js(&v)
    }

    /// Replace the counters with a snapshot taken from an engine of the same config.
    pub fn restore(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "Snapshot | string")] snapshot: JsValue,
    ) -> Result<(), JsValue> {
        let text = convert::config_text(&snapshot)?;
        let snap: Snapshot =
            serde_json::from_str(&text).map_err(|e| error(&format!("snapshot: {e}")))?;
        self.state = State::restore(&self.config, &snap).map_err(|e| error(&e.to_string()))?;
        Ok(())
    }

    /// Every target for display: id, name, zone, priority, weight, paused,
    /// trigger, limits, groups.
    #[wasm_bindgen(unchecked_return_type = "TargetSummary[]")]
    pub fn targets(&self) -> Result<JsValue, JsValue> {
        let c = &self.config;
        let list: Vec<Value> = c
            .targets
            .iter()
            .enumerate()
            .map(|(i, t)| {
                json!({
                    "id": t.id,
                    "name": t.name,
                    "zone": t.zone_name,
                    "iana": t.zone.name(),
                    "priority": t.priority,
                    "weight": t.weight,
                    "paused": t.paused,
                    "trigger": t.trigger.as_str(),
                    "has_hours": t.hours.is_some(),
                    "limits": limits(&t.limits),
                    "groups": c.groups_of(i).map(|g| c.groups[g].id.as_str()).collect::<Vec<_>>(),
                })
            })
            .collect();
        to_js(&Value::Array(list))
    }

    /// Every group for display: id, name, mode, members, zone, limits.
    #[wasm_bindgen(unchecked_return_type = "GroupSummary[]")]
    pub fn groups(&self) -> Result<JsValue, JsValue> {
        let c = &self.config;
        let list: Vec<Value> = c
            .groups
            .iter()
            .map(|g| {
                json!({
                    "id": g.id,
                    "name": g.name,
                    "mode": g.mode.as_str(),
                    "members": g.members.iter().filter_map(|&m| c.targets.get(m)).map(|t| t.id.as_str()).collect::<Vec<_>>(),
                    "zone": g.zone_name,
                    "iana": g.zone.name(),
                    "priority": g.effective_priority(),
                    "weight": g.effective_weight(),
                    "has_hours": g.hours.is_some(),
                    "limits": limits(&g.limits),
                })
            })
            .collect();
        to_js(&Value::Array(list))
    }

    /// Usage of every target and group as caps see it at `at` (counts,
    /// live calls, revenue sums of the windows containing `at`).
    #[wasm_bindgen(unchecked_return_type = "UsageRow[]")]
    pub fn usage(&self, at: &str) -> Result<JsValue, JsValue> {
        let at = instant("at", at)?;
        let c = &self.config;
        let owners = (0..c.targets.len())
            .map(CandidateRef::Target)
            .chain((0..c.groups.len()).map(CandidateRef::Group));
        let list: Vec<Value> = owners
            .map(|o| {
                let u = self.state.usage(c, o, at);
                json!({
                    "id": render::candidate_id(c, o),
                    "kind": render::candidate_kind(o),
                    "hourly": u.hourly, "daily": u.daily, "monthly": u.monthly,
                    "total": u.total, "live": u.live,
                    "hourly_revenue": u.hourly_revenue.to_string(),
                    "daily_revenue": u.daily_revenue.to_string(),
                    "monthly_revenue": u.monthly_revenue.to_string(),
                    "total_revenue": u.total_revenue.to_string(),
                })
            })
            .collect();
        to_js(&Value::Array(list))
    }

    /// Weekly hours heatmap of a target or group: 7 local days from
    /// `weekStart` (`YYYY-MM-DD`) × 24 local hours, each the share of the
    /// hour that is open, in the owner's zone (`own`) and in `viewerZone`
    /// (any accepted zone name; default UTC) (`viewer`).
    #[wasm_bindgen(js_name = hoursGrid, unchecked_return_type = "HoursGrid")]
    pub fn hours_grid(
        &self,
        id: &str,
        #[wasm_bindgen(js_name = weekStart)] week_start: &str,
        #[wasm_bindgen(js_name = viewerZone)] viewer_zone: Option<String>,
    ) -> Result<JsValue, JsValue> {
        let start = convert::date("weekStart", week_start)?;
        let viewer = match viewer_zone.as_deref() {
            None | Some("") => Zone::utc(),
            Some(name) => Zone::new(zone::resolve(name).map_err(|e| error(&e.to_string()))?.tz),
        };
        let c = &self.config;
        let v = if let Some(t) = c.target_index(id).and_then(|i| c.targets.get(i)) {
            grid::grid(id, "target", t.hours.as_ref(), &t.zone, &viewer, start)
        } else if let Some(g) = c.group_index(id).and_then(|i| c.groups.get(i)) {
            grid::grid(id, "group", g.hours.as_ref(), &g.zone, &viewer, start)
        } else {
            return Err(error(&format!("unknown target or group {id:?}")));
        };
        to_js(&v)
    }
}

impl Engine {
    fn target(&self, id: &str) -> Result<usize, JsValue> {
        self.config
            .target_index(id)
            .ok_or_else(|| error(&format!("target: unknown target {id:?}")))
    }

    fn group(&self, id: &str) -> Result<usize, JsValue> {
        self.config
            .group_index(id)
            .ok_or_else(|| error(&format!("group: unknown group {id:?}")))
    }

    fn outcome(&self, out: ConnectOutcome) -> Value {
        match out {
            ConnectOutcome::Connected => ok(),
            ConnectOutcome::Refused(reasons) => json!({
                "ok": false,
                "reasons": render::reasons(&self.config, &reasons),
            }),
        }
    }
}

fn limits(l: &routecap_core::caps::Limits) -> Value {
    let mut m = Map::new();
    let count = |m: &mut Map<String, Value>, k: &str, v: Option<u64>| {
        m.insert(k.into(), v.map_or(Value::Null, Value::from));
    };
    let money = |m: &mut Map<String, Value>, k: &str, v: Option<routecap_core::money::Money>| {
        m.insert(
            k.into(),
            v.map_or(Value::Null, |x| Value::from(x.to_string())),
        );
    };
    count(&mut m, "hourly", l.hourly);
    count(&mut m, "daily", l.daily);
    count(&mut m, "monthly", l.monthly);
    count(&mut m, "total", l.total);
    count(&mut m, "concurrency", l.concurrency);
    money(&mut m, "hourly_revenue", l.hourly_revenue);
    money(&mut m, "daily_revenue", l.daily_revenue);
    money(&mut m, "monthly_revenue", l.monthly_revenue);
    money(&mut m, "total_revenue", l.total_revenue);
    Value::Object(m)
}

/// Resolve zone names (Rails, Windows, IANA) as `routecap zones --json`:
/// `[{input, iana, kind}]`; with no names, every accepted name. Unknown
/// names throw one `Error` listing each with suggestions.
#[wasm_bindgen(unchecked_return_type = "ZoneRow[]")]
pub fn zones(names: Vec<String>) -> Result<JsValue, JsValue> {
    let rows: Vec<Value> = if names.is_empty() {
        zone::known_names()
            .iter()
            .map(|k| json!({"input": k.name, "iana": k.tz.name(), "kind": k.kind.as_str()}))
            .collect()
    } else {
        let mut rows = Vec::with_capacity(names.len());
        let mut errors = Vec::new();
        for n in &names {
            match zone::resolve(n) {
                Ok(r) => {
                    rows.push(json!({"input": n, "iana": r.tz.name(), "kind": r.kind.as_str()}))
                }
                Err(e) => errors.push(e.to_string()),
            }
        }
        if !errors.is_empty() {
            return Err(error(&errors.join("\n")));
        }
        rows
    };
    to_js(&Value::Array(rows))
}

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
    let (config, reports) = golden::build(&v).map_err(|e| error(&e))?;
    let seed = convert::unsigned("seed", &seed)?;
    to_js(&golden::plan_json(&config, &reports, seed))
}

/// Test hook replaying `route_draws.json`: the first four raw generator
/// words for `seed`, then one unbiased draw per bound (decimal strings).
#[wasm_bindgen(js_name = goldenDraws, unchecked_return_type = "{ raw_next_u64: string[]; values: string[] }")]
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
    to_js(&golden::draws(seed, &bounds).map_err(|e| error(&e))?)
}
