//! The stateful methods of [`Engine`], only in the `full` build
//! (`routecap_wasm_full`): the call lifecycle, live config changes, usage
//! imports and snapshots. The main module (`routecap_wasm`, which the demo
//! loads) evaluates a config without them and so stays under its 200 KiB
//! gzip budget; both share every other method.

use routecap_core::engine::EngineError;
use routecap_core::formats::source::OwnerKind;
use routecap_core::lifecycle::ConnectOutcome;
use routecap_core::render::{self, OutcomeView};
use routecap_core::snapshot::Snapshot;
use routecap_core::Call;
use wasm_bindgen::prelude::*;

use crate::convert::{self, cli_text, error, instant, to_js};
use crate::{fail, Engine, CONFIG_NAME};

/// `"target"` or `"group"`.
fn owner_kind(kind: &str) -> Result<OwnerKind, JsValue> {
    match kind {
        "target" => Ok(OwnerKind::Target),
        "group" => Ok(OwnerKind::Group),
        _ => Err(error(&format!(
            "kind: {kind:?} is not \"target\" or \"group\""
        ))),
    }
}

/// Live changes.
#[wasm_bindgen]
impl Engine {
    /// Replace the whole config (any shape, JSON string or object),
    /// keeping counters, live calls and reservations by id: `{targets,
    /// groups, calls}` that were dropped. On error nothing changes.
    #[wasm_bindgen(unchecked_return_type = "Dropped")]
    pub fn update(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "object | string")] config: JsValue,
    ) -> Result<JsValue, JsValue> {
        let doc = convert::json_value("config", &config)?;
        to_js(
            &self
                .core
                .replace_config(&doc, CONFIG_NAME, None)
                .map_err(fail)?,
        )
    }

    /// Patch one target (`kind` = `"target"`) or group (`"group"`) in the
    /// config's own shape; what was dropped. On error nothing changes.
    #[wasm_bindgen(unchecked_return_type = "Dropped")]
    pub fn patch(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "\"target\" | \"group\"")] kind: &str,
        id: &str,
        #[wasm_bindgen(unchecked_param_type = "object | string")] patch: JsValue,
    ) -> Result<JsValue, JsValue> {
        let doc = convert::json_value("patch", &patch)?;
        to_js(
            &self
                .core
                .patch(owner_kind(kind)?, id, &doc, "patch")
                .map_err(fail)?,
        )
    }

    /// Merge a usage import taken at `at` (native `{"id": {"daily": 3}}`,
    /// Retreaver targets or Ringba `stats`): all or nothing.
    #[wasm_bindgen(js_name = importUsage)]
    pub fn import_usage(
        &mut self,
        at: &str,
        #[wasm_bindgen(unchecked_param_type = "object | string")] usage: JsValue,
    ) -> Result<(), JsValue> {
        let doc = convert::json_value("usage", &usage)?;
        self.core
            .import_usage(instant("at", at)?, &doc, "usage")
            .map_err(fail)
    }

    /// The exact text `routecap usage CONFIG --at AT --json` prints.
    #[wasm_bindgen(js_name = usageJson)]
    pub fn usage_json(&self, at: &str) -> Result<String, JsValue> {
        Ok(cli_text(&self.core.usage(instant("at", at)?)))
    }
}

/// The call lifecycle, resets and snapshots.
#[wasm_bindgen]
impl Engine {
    /// Connect `call` to target `target` at `at`: `{ok: true}`, or
    /// `{ok: false, reasons}` when the target is not eligible (nothing changes).
    #[wasm_bindgen(unchecked_return_type = "OutcomeView")]
    pub fn connect(
        &mut self,
        call: &str,
        target: &str,
        at: &str,
        #[wasm_bindgen(unchecked_optional_param_type = "CallAttrs | null")] attrs: Option<JsValue>,
    ) -> Result<JsValue, JsValue> {
        let call = Call::with_attrs(call, convert::attrs(&attrs)?);
        let out = (self.core).connect(&call, target, instant("at", at)?);
        self.outcome(out)
    }

    /// Hold capacity on `target` for `call` for `ttlSeconds` (Retreaver RTB
    /// reservations); confirmed by `connect`, released at expiry.
    #[wasm_bindgen(unchecked_return_type = "OutcomeView")]
    pub fn reserve(
        &mut self,
        call: &str,
        target: &str,
        #[wasm_bindgen(js_name = ttlSeconds, unchecked_param_type = "number | bigint")]
        ttl_seconds: JsValue,
        at: &str,
    ) -> Result<JsValue, JsValue> {
        let ttl = convert::unsigned("ttlSeconds", &ttl_seconds)?;
        let out = (self.core).reserve(&Call::new(call), target, ttl, instant("at", at)?);
        self.outcome(out)
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
        ok(self
            .core
            .convert(&Call::new(call), revenue, instant("at", at)?))
    }

    /// End `call`: releases its concurrency (nothing more once its lease
    /// ran out: the end is still accepted).
    #[wasm_bindgen(unchecked_return_type = "{ ok: true }")]
    pub fn end(&mut self, call: &str, at: &str) -> Result<JsValue, JsValue> {
        ok(self.core.end(&Call::new(call), instant("at", at)?))
    }

    /// Heartbeat of connected `call`: it holds its concurrency slot until
    /// `at` + the config's `call_lease_seconds`. Throws for an unknown,
    /// reserved-only or ended call, and once the lease has run out
    /// (`call "c1": lease expired at …`); nothing changes then.
    #[wasm_bindgen(unchecked_return_type = "{ ok: true }")]
    pub fn touch(&mut self, call: &str, at: &str) -> Result<JsValue, JsValue> {
        ok(self.core.touch(&Call::new(call), instant("at", at)?))
    }

    /// Cancel the reservation of `call`: its capacity is freed at once.
    /// Throws (changing nothing) for a connected or unknown call.
    #[wasm_bindgen(unchecked_return_type = "{ ok: true }")]
    pub fn cancel(&mut self, call: &str, at: &str) -> Result<JsValue, JsValue> {
        ok(self.core.cancel(&Call::new(call), instant("at", at)?))
    }

    /// Reset the total (hard) counters of a target.
    #[wasm_bindgen(js_name = resetTarget, unchecked_return_type = "{ ok: true }")]
    pub fn reset_target(&mut self, id: &str) -> Result<JsValue, JsValue> {
        ok(self.core.reset(OwnerKind::Target, id))
    }

    /// Reset the total counters of a group and of its members.
    #[wasm_bindgen(js_name = resetGroup, unchecked_return_type = "{ ok: true }")]
    pub fn reset_group(&mut self, id: &str) -> Result<JsValue, JsValue> {
        ok(self.core.reset(OwnerKind::Group, id))
    }

    /// The counters and calls as a JSON-friendly object (ids, RFC 3339, decimal money).
    #[wasm_bindgen(unchecked_return_type = "Snapshot")]
    pub fn snapshot(&self) -> Result<JsValue, JsValue> {
        to_js(&self.core.snapshot())
    }

    /// Replace the counters with a snapshot taken from an engine of the same config.
    pub fn restore(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "Snapshot | string")] snapshot: JsValue,
    ) -> Result<(), JsValue> {
        let text = convert::config_text(&snapshot)?;
        let snap: Snapshot =
            serde_json::from_str(&text).map_err(|e| error(&format!("snapshot: {e}")))?;
        self.core.restore_snapshot(&snap).map_err(fail)
    }
}

impl Engine {
    fn outcome(&self, out: Result<ConnectOutcome, EngineError>) -> Result<JsValue, JsValue> {
        to_js(&render::outcome(self.core.config(), &out.map_err(fail)?))
    }
}

/// `{ok: true}`, or the error thrown.
fn ok(r: Result<(), EngineError>) -> Result<JsValue, JsValue> {
    r.map_err(fail)?;
    to_js(&OutcomeView::OK)
}
