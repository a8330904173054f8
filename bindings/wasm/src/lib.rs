//! # routecap-wasm
//!
//! The WebAssembly face of routecap for JavaScript and TypeScript: an
//! [`Engine`] class over the core's `routecap_core::engine::Engine`, and
//! [`zones`]. Each method converts its JS arguments, delegates, and returns
//! the core's typed view as a plain object.
//!
//! Answers are the CLI's `--json` shapes (the core's `render` views):
//! `check`/`route` return plain objects, `checkJson`/`routeJson` the exact
//! text `routecap check|route --json` prints. Errors are thrown as JS
//! `Error`s with the CLI's messages (config errors carry `file`, `path`,
//! `value` and `expected` properties too).
//!
//! Nothing here reads a clock or an OS random source: instants and seeds
//! come from the caller, so the wasm build has no `getrandom` at all and
//! plans are identical to native ones for the same seed.
//!
//! Two builds of this crate: the main module `routecap_wasm` (default
//! features) evaluates a config — check, route, chances, usage, summaries,
//! hours grids, zones — and is what the web demo loads; with the `full`
//! feature (`routecap_wasm_full`) the same `Engine` also has the stateful
//! methods of `full.rs`: the call lifecycle, live changes and snapshots.

mod convert;
#[cfg(feature = "full")]
mod full;
#[cfg(feature = "test-hooks")]
mod golden;
mod time;

use routecap_core::engine::{Engine as Core, EngineError};
#[cfg(not(feature = "full"))]
use routecap_core::formats::parse_config;
use routecap_core::formats::Format;
use routecap_core::render::{self, ZoneRow};
use routecap_core::route::Draws;
use routecap_core::zone::{self, Zone};
use routecap_core::Call;
use wasm_bindgen::prelude::*;

use convert::{cli_text, config_error, error, instant, to_js};

/// The file name config errors show (the CLI shows the path given).
const CONFIG_NAME: &str = "config";

// The views' declarations come from the core's types (its `typescript`
// feature: `#[derive(Tsify)]`); what no Rust type says is the extra
// properties of a refused config's `Error` (`convert::config_error`).
#[wasm_bindgen(typescript_custom_section)]
const CONFIG_ERROR: &str = r#"
/** A refused config's `Error`: the CLI's message, and where the problem is. */
export interface ConfigError extends Error {
  /** The file name the message shows (`config`). */
  file: string;
  /** JSON path such as `targets[0].hours[1].open`, `$`, or `line L column C`. */
  path: string;
  /** The value found there. */
  value: string;
  /** What was expected instead. */
  expected: string;
}
"#;

/// One config and its counters: eligibility and route plans, as in
/// `routecap check/route`; with the `full` feature also the call lifecycle,
/// live changes and snapshots (`full.rs`), as in `routecap replay`.
#[wasm_bindgen]
pub struct Engine {
    core: Core,
}

impl Engine {
    /// `check` for optional call attributes (a campaign's candidates when
    /// they name one).
    fn check_view(&self, at: &str, attrs: &Option<JsValue>) -> Result<render::CheckView, JsValue> {
        let at = instant("at", at)?;
        let call = Call::with_attrs("", convert::attrs(attrs)?);
        self.core.check(&call, at).map_err(fail)
    }

    /// `route` for optional call attributes.
    fn route_view(
        &mut self,
        at: &str,
        seed: u64,
        attrs: &Option<JsValue>,
    ) -> Result<render::RouteView, JsValue> {
        let at = instant("at", at)?;
        let call = Call::with_attrs("", convert::attrs(attrs)?);
        (self.core)
            .route(&call, at, &mut Draws::new(seed))
            .map_err(fail)
    }
}

/// An engine error as a JS `Error` with the CLI's message.
fn fail(e: EngineError) -> JsValue {
    error(&e.to_string())
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
        // the full build keeps the document, so that targets and groups can
        // be patched; the main module cannot patch, so it only parses
        #[cfg(feature = "full")]
        let core = Core::parse(text.as_bytes(), CONFIG_NAME, format);
        #[cfg(not(feature = "full"))]
        let core = parse_config(text.as_bytes(), CONFIG_NAME, format).map(Core::new);
        Ok(Engine {
            core: core.map_err(|e| config_error(&e))?,
        })
    }
}

#[wasm_bindgen]
impl Engine {
    /// Eligibility of every candidate at `at` (RFC 3339) for a call with
    /// optional `attrs` (`{caller, tags, campaign}`): `routecap check --json`.
    #[wasm_bindgen(unchecked_return_type = "CheckView")]
    pub fn check(
        &self,
        at: &str,
        #[wasm_bindgen(unchecked_optional_param_type = "CallAttrs | null")] attrs: Option<JsValue>,
    ) -> Result<JsValue, JsValue> {
        to_js(&self.check_view(at, &attrs)?)
    }

    /// The exact text `routecap check CONFIG --at AT --json` prints.
    #[wasm_bindgen(js_name = checkJson)]
    pub fn check_json(
        &self,
        at: &str,
        #[wasm_bindgen(unchecked_optional_param_type = "CallAttrs | null")] attrs: Option<JsValue>,
    ) -> Result<String, JsValue> {
        Ok(cli_text(&self.check_view(at, &attrs)?))
    }

    /// The failover plan for one call at `at` with `seed` (number, BigInt or
    /// decimal string) and optional `attrs`: `routecap route --json`.
    /// Changes no counter.
    #[wasm_bindgen(unchecked_return_type = "RouteView")]
    pub fn route(
        &mut self,
        at: &str,
        #[wasm_bindgen(unchecked_param_type = "number | bigint | string")] seed: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "CallAttrs | null")] attrs: Option<JsValue>,
    ) -> Result<JsValue, JsValue> {
        let seed = convert::unsigned("seed", &seed)?;
        to_js(&self.route_view(at, seed, &attrs)?)
    }

    /// The exact text `routecap route CONFIG --at AT --seed SEED --json` prints.
    #[wasm_bindgen(js_name = routeJson)]
    pub fn route_json(
        &mut self,
        at: &str,
        #[wasm_bindgen(unchecked_param_type = "number | bigint | string")] seed: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "CallAttrs | null")] attrs: Option<JsValue>,
    ) -> Result<String, JsValue> {
        let seed = convert::unsigned("seed", &seed)?;
        Ok(cli_text(&self.route_view(at, seed, &attrs)?))
    }

    /// Route `n` calls at `at` with seeds `seed, seed+1, …` (wrapping) and
    /// count where each would ring first: `{n, first: {id: count}, none}`.
    /// Same answers as `n` calls of `route`, with eligibility checked once.
    #[wasm_bindgen(js_name = routeMany, unchecked_return_type = "FirstCountsView")]
    pub fn route_many(
        &self,
        at: &str,
        #[wasm_bindgen(unchecked_param_type = "number | bigint | string")] seed: JsValue,
        n: u32,
        #[wasm_bindgen(unchecked_optional_param_type = "CallAttrs | null")] attrs: Option<JsValue>,
    ) -> Result<JsValue, JsValue> {
        let seed = convert::unsigned("seed", &seed)?;
        let call = Call::with_attrs("", convert::attrs(&attrs)?);
        let at = instant("at", at)?;
        to_js(&(self.core).first_counts(&call, at, seed, n).map_err(fail)?)
    }

    /// Chance of each eligible candidate at `at` to be rung first, by id:
    /// `w / W` within the lowest priority tier, 0 for later tiers.
    #[wasm_bindgen(js_name = firstPlaceChances, unchecked_return_type = "ChancesView")]
    pub fn first_place_chances(
        &self,
        at: &str,
        #[wasm_bindgen(unchecked_optional_param_type = "CallAttrs | null")] attrs: Option<JsValue>,
    ) -> Result<JsValue, JsValue> {
        let call = Call::with_attrs("", convert::attrs(&attrs)?);
        let at = instant("at", at)?;
        to_js(&self.core.chances(&call, at).map_err(fail)?)
    }

    /// Every target for display: id, name, zone, priority, weight, paused,
    /// trigger, limits, groups.
    #[wasm_bindgen(unchecked_return_type = "TargetSummary[]")]
    pub fn targets(&self) -> Result<JsValue, JsValue> {
        to_js(&self.core.targets())
    }

    /// Every group for display: id, name, mode, members, zone, limits.
    #[wasm_bindgen(unchecked_return_type = "GroupSummary[]")]
    pub fn groups(&self) -> Result<JsValue, JsValue> {
        to_js(&self.core.groups())
    }

    /// Every cap of every target and group at `at`, with window bounds:
    /// `routecap usage --json`.
    #[wasm_bindgen(unchecked_return_type = "UsageView")]
    pub fn usage(&self, at: &str) -> Result<JsValue, JsValue> {
        to_js(&self.core.usage(instant("at", at)?))
    }

    /// Weekly hours heatmap of a target or group: 7 local days from
    /// `weekStart` (`YYYY-MM-DD`) × 24 local hours, each the share of the
    /// hour that is open, in the owner's zone (`own`) and in `viewerZone`
    /// (any accepted zone name; default UTC) (`viewer`).
    #[wasm_bindgen(js_name = hoursGrid, unchecked_return_type = "Heatmap")]
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
        to_js(&self.core.hours_grid(id, start, &viewer).map_err(fail)?)
    }
}

/// One reason of `check`, `route` or `connect` for people, on one line,
/// exactly as the CLI prints it: `daily_cap 40/40 until
/// 2026-11-23T05:00:00Z`, `group_daily_cap 9/9 [east] until …`,
/// `filter_mismatch (geo in [us-nc]: call has geo = [us-tx])` (the core's
/// `render::reason_text`, which the web demo shows too).
#[wasm_bindgen(js_name = formatReason)]
pub fn format_reason(
    #[wasm_bindgen(unchecked_param_type = "ReasonView")] reason: JsValue,
) -> Result<String, JsValue> {
    Ok(render::reason_text(&convert::reason(&reason)?))
}

/// Resolve zone names (Rails, Windows, IANA) as `routecap zones --json`:
/// `[{input, iana, kind}]`; with no names, every accepted name. Unknown
/// names throw one `Error` listing each with suggestions.
#[wasm_bindgen(unchecked_return_type = "ZoneRow[]")]
pub fn zones(names: Vec<String>) -> Result<JsValue, JsValue> {
    let row = |input: &str, r: &zone::ResolvedZone| ZoneRow {
        input: input.to_string(),
        iana: r.tz.name().to_string(),
        kind: r.kind.as_str(),
    };
    if names.is_empty() {
        let rows: Vec<ZoneRow> = zone::known_names()
            .iter()
            .map(|k| ZoneRow {
                input: k.name.to_string(),
                iana: k.tz.name().to_string(),
                kind: k.kind.as_str(),
            })
            .collect();
        return to_js(&rows);
    }
    let mut rows = Vec::with_capacity(names.len());
    let mut errors = Vec::new();
    for n in &names {
        match zone::resolve(n) {
            Ok(r) => rows.push(row(n, &r)),
            Err(e) => errors.push(e.to_string()),
        }
    }
    if !errors.is_empty() {
        return Err(error(&errors.join("\n")));
    }
    to_js(&rows)
}

/// Check a config without deciding anything, as `routecap validate --json`:
/// `{ok, shape, errors: [{path, message}], warnings: [{code, path,
/// message}]}`. A refused config is an answer here (`ok: false`), not an
/// exception; only a bad `format` throws.
#[wasm_bindgen(unchecked_return_type = "ValidationReport")]
pub fn validate(
    #[wasm_bindgen(unchecked_param_type = "object | string")] config: JsValue,
    format: Option<String>,
) -> Result<JsValue, JsValue> {
    let format = match format.as_deref() {
        None | Some("") => None,
        Some(f) => Some(f.parse::<Format>().map_err(|_| {
            error(&format!(
                "{f:?} is not a config format (routecap, retreaver, ringba)"
            ))
        })?),
    };
    let text = convert::config_text(&config)?;
    to_js(&routecap_core::validate::validate(
        text.as_bytes(),
        CONFIG_NAME,
        format,
    ))
}
