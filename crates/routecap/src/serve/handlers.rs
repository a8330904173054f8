//! One handler per endpoint: read the request, ask the state, answer with
//! the same JSON the CLI prints for the same decision.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::error::ApiError;
use super::extract::{now, query_at, query_attrs, query_pairs, Fields, JsonObject};
use super::Service;
use crate::state::redis::new_op_id;
use routecap_core::render::{self, OutcomeView};
use routecap_core::route::Draws;
use routecap_core::Call;

type Answer = Result<Json<Value>, ApiError>;

/// A call carried by a write request, keyed by the client's
/// `Idempotency-Key` (a retry with the same key is answered as the first
/// time and never applies twice on shared state), else by a fresh key.
fn request_call(headers: &HeaderMap, call: Call) -> Result<Call, ApiError> {
    match headers.get("idempotency-key") {
        None => Ok(call.request(&new_op_id())),
        Some(v) => match v.to_str() {
            Ok(s) if !s.is_empty() && s.len() <= 200 => Ok(call.request(s)),
            _ => Err(ApiError::bad(
                "header.Idempotency-Key",
                "Idempotency-Key must be 1..200 visible ASCII characters",
            )),
        },
    }
}

/// A seed drawn from the clock when the request gives none (always in
/// the answer, so any decision can be repeated).
fn random_seed() -> u64 {
    let nanos = now().timestamp_nanos_opt().unwrap_or(0) as u64;
    // splitmix64 finaliser, as the CLI draws its seeds
    let mut z = nanos.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    (z ^ (z >> 31)) % 1_000_000
}

fn ok() -> Json<Value> {
    Json(json!({"ok": true}))
}

/// `POST /v1/route`: the failover plan, as `routecap route --json`, plus `"call"`.
pub async fn route(State(s): State<Arc<Service>>, JsonObject(body): JsonObject) -> Answer {
    let f = Fields(&body);
    let call = f.call()?;
    let at = f.at()?;
    let seed = f.opt_u64("seed")?.unwrap_or_else(random_seed);
    let request = Call::with_attrs(call, f.attrs()?);
    let view = (s.state(s.backend.route(&request, at, &mut Draws::new(seed)))).await?;
    let outcome = if view.plan.is_empty() {
        "no_target"
    } else {
        "planned"
    };
    s.metrics
        .decisions
        .with_label_values(&["route", outcome])
        .inc();
    tracing::info!(call, steps = view.plan.len(), seed, "route");
    let mut v = serde_json::to_value(&view)
        .map_err(|e| ApiError::status(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    if let Value::Object(m) = &mut v {
        m.insert("call".into(), json!(call));
    }
    Ok(Json(v))
}

/// `POST /v1/connect`: `{"ok": true}` or `{"ok": false, "reasons": [...]}`.
pub async fn connect(
    State(s): State<Arc<Service>>,
    headers: HeaderMap,
    JsonObject(body): JsonObject,
) -> Answer {
    let f = Fields(&body);
    let (call, target, at, attrs) = (f.call()?, f.str("target")?, f.at()?, f.attrs()?);
    let request = request_call(&headers, Call::with_attrs(call, attrs))?;
    let out = s.state(s.backend.connect(&request, target, at)).await?;
    let out = render::outcome(&s.backend.config(), &out);
    decided(&s, "connect", &out);
    tracing::info!(call, target, ok = out.ok, "connect");
    Ok(Json(json!(out)))
}

/// `POST /v1/reserve`: like connect, holding capacity for `ttl` seconds.
pub async fn reserve(
    State(s): State<Arc<Service>>,
    headers: HeaderMap,
    JsonObject(body): JsonObject,
) -> Answer {
    let f = Fields(&body);
    let (call, target, ttl, at) = (f.call()?, f.str("target")?, f.ttl()?, f.at()?);
    let request = request_call(&headers, Call::new(call))?;
    let out = s
        .state(s.backend.reserve(&request, target, ttl, at))
        .await?;
    let out = render::outcome(&s.backend.config(), &out);
    decided(&s, "reserve", &out);
    tracing::info!(call, target, ttl, ok = out.ok, "reserve");
    Ok(Json(json!(out)))
}

fn decided(s: &Service, decision: &str, out: &OutcomeView) {
    let outcome = if out.ok { "admitted" } else { "refused" };
    s.metrics
        .decisions
        .with_label_values(&[decision, outcome])
        .inc();
    for code in out.reasons.iter().flatten().map(|r| r.code.as_str()) {
        s.metrics.refusals.with_label_values(&[code]).inc();
    }
}

/// `POST /v1/convert`.
pub async fn convert(
    State(s): State<Arc<Service>>,
    headers: HeaderMap,
    JsonObject(body): JsonObject,
) -> Answer {
    let f = Fields(&body);
    let (call, revenue, at) = (f.call()?, f.revenue()?, f.at()?);
    let request = request_call(&headers, Call::new(call))?;
    s.state(s.backend.convert(&request, revenue, at)).await?;
    tracing::info!(call, revenue = %revenue, "convert");
    Ok(ok())
}

/// `POST /v1/end`.
pub async fn end(s: State<Arc<Service>>, headers: HeaderMap, body: JsonObject) -> Answer {
    call_step(s, headers, body, CallStep::End).await
}

/// `POST /v1/touch`: a lease heartbeat.
pub async fn touch(s: State<Arc<Service>>, headers: HeaderMap, body: JsonObject) -> Answer {
    call_step(s, headers, body, CallStep::Touch).await
}

/// `POST /v1/cancel`: drop a reservation.
pub async fn cancel(s: State<Arc<Service>>, headers: HeaderMap, body: JsonObject) -> Answer {
    call_step(s, headers, body, CallStep::Cancel).await
}

/// A lifecycle step that names only a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CallStep {
    End,
    Touch,
    Cancel,
}

impl CallStep {
    /// The step's name in logs: `end`, `touch`, `cancel`.
    fn name(self) -> &'static str {
        match self {
            CallStep::End => "end",
            CallStep::Touch => "touch",
            CallStep::Cancel => "cancel",
        }
    }
}

/// The endpoints whose body is `{"call", "at"?}`.
async fn call_step(
    State(s): State<Arc<Service>>,
    headers: HeaderMap,
    JsonObject(body): JsonObject,
    step: CallStep,
) -> Answer {
    let f = Fields(&body);
    let (call, at) = (f.call()?, f.at()?);
    let request = request_call(&headers, Call::new(call))?;
    let b = &s.backend;
    s.state(async {
        match step {
            CallStep::End => b.end(&request, at).await,
            CallStep::Touch => b.touch(&request, at).await,
            CallStep::Cancel => b.cancel(&request, at).await,
        }
    })
    .await?;
    tracing::info!(call, "{}", step.name());
    Ok(ok())
}

/// `GET /v1/check?at=T&tag=k=v&caller=N&campaign=ID`: as `routecap check --json`.
pub async fn check(State(s): State<Arc<Service>>, uri: Uri) -> Answer {
    let pairs = query_pairs(uri.query(), &["at", "tag", "caller", "campaign"])?;
    let (at, attrs) = (query_at(&pairs)?, query_attrs(&pairs)?);
    let view = s
        .state(s.backend.check(&Call::with_attrs("", attrs), at))
        .await?;
    Ok(Json(json!(view)))
}

/// `GET /v1/usage?at=T`: as `routecap usage --json`.
pub async fn usage(State(s): State<Arc<Service>>, uri: Uri) -> Answer {
    let pairs = query_pairs(uri.query(), &["at"])?;
    let view = s.state(s.backend.usage(query_at(&pairs)?)).await?;
    Ok(Json(json!(view)))
}

/// `GET /healthz`: 200 when the state can be used now (a state server
/// answers and holds the namespace), else 503; with the kind of state,
/// the config version and the numbers of targets and groups.
pub async fn healthz(State(s): State<Arc<Service>>) -> Response {
    let config = s.backend.config();
    let mut v = json!({
        "status": "ok",
        "state": s.backend.kind(),
        "targets": config.targets.len(),
        "groups": config.groups.len(),
        // the last version read; replaced by the state's own below
        "config_version": s.metrics.config_version.get().max(1),
    });
    let location = s.backend.location();
    // an SQLite store has a location but belongs to this process alone
    v["shared"] = json!(s.backend.kind() == "redis");
    if location.is_empty() {
        v["note"] = json!("single-process state: counters live in this process only and are lost when it exits; run several processes only with --state redis://…");
    }
    for (field, value) in location {
        v[field] = json!(value);
    }
    let b = &s.backend;
    let health = s.state(async {
        b.health().await?;
        b.versioned_config().await
    });
    match health.await {
        Ok(current) => {
            v["config_version"] = json!(current.version);
            v["targets"] = json!(current.config.targets.len());
            v["groups"] = json!(current.config.groups.len());
            s.metrics.config_version.set(current.version as i64);
            (StatusCode::OK, Json(v)).into_response()
        }
        Err(e) => {
            v["status"] = json!("unavailable");
            v["error"] = json!(e.to_string());
            (StatusCode::SERVICE_UNAVAILABLE, Json(v)).into_response()
        }
    }
}

/// `GET /metrics`: Prometheus text format; live calls and the config
/// version read from the state.
pub async fn metrics(State(s): State<Arc<Service>>) -> Response {
    match s.state(s.backend.usage(now())).await {
        Ok(view) => {
            let targets = view.owners.iter().filter(|o| o.kind == "target");
            let (live, reserved) =
                targets.fold((0u64, 0u64), |(l, r), o| (l + o.live, r + o.reserved));
            s.metrics
                .live
                .with_label_values(&["connected"])
                .set(live as i64);
            s.metrics
                .live
                .with_label_values(&["reserved"])
                .set(reserved as i64);
        }
        Err(e) => {
            s.metrics
                .backend_errors
                .with_label_values(&["GET /metrics"])
                .inc();
            tracing::warn!(error = %e, "metrics: live calls not read");
        }
    }
    if let Ok(current) = s.state(s.backend.versioned_config()).await {
        s.metrics.config_version.set(current.version as i64);
    }
    let reseeds = s.backend.reseeds();
    let counted = s.metrics.reseeds.get();
    if reseeds > counted {
        s.metrics.reseeds.inc_by(reseeds - counted);
    }
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        s.metrics.render(),
    )
        .into_response()
}

/// Any other path or method: 404 (405 for a known path) in the error shape.
pub async fn fallback(State(s): State<Arc<Service>>, method: Method, uri: Uri) -> Response {
    s.metrics
        .requests
        .with_label_values(&["unmatched", "404"])
        .inc();
    ApiError::no_route(method.as_str(), uri.path()).into_response()
}

/// A known path with a method it does not take.
pub async fn method_not_allowed(method: Method, uri: Uri) -> Response {
    ApiError::status(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("{} does not take {method}", uri.path()),
    )
    .into_response()
}
