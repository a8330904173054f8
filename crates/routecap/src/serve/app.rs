//! The router: endpoints, per-endpoint metrics and logs, panic and
//! timeout guards.

use std::sync::Arc;
use std::time::Instant as Clock;

use axum::extract::{MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;

use super::auth::{self, Caller};
use super::config_edit as edit;
use super::error::ApiError;
use super::handlers as h;
use super::{openapi, Service};

/// Every endpoint of the API over `service`.
pub fn router(service: Arc<Service>) -> Router {
    Router::new()
        .route("/v1/route", post(h::route))
        .route("/v1/connect", post(h::connect))
        .route("/v1/convert", post(h::convert))
        .route("/v1/end", post(h::end))
        .route("/v1/reserve", post(h::reserve))
        .route("/v1/cancel", post(h::cancel))
        .route("/v1/touch", post(h::touch))
        .route("/v1/check", get(h::check))
        .route("/v1/usage", get(h::usage))
        .route("/v1/config", get(edit::get_config).put(edit::put_config))
        .route("/v1/targets/{id}", patch(edit::patch_target))
        .route("/v1/groups/{id}", patch(edit::patch_group))
        .route("/healthz", get(h::healthz))
        .route("/metrics", get(h::metrics))
        .route("/openapi.json", get(openapi::document))
        // tokens are checked inside the request metrics, so that refusals
        // are counted and logged like any answer
        .route_layer(middleware::from_fn_with_state(
            service.clone(),
            auth::authorize,
        ))
        .route_layer(middleware::from_fn_with_state(service.clone(), observe))
        .fallback(h::fallback)
        .method_not_allowed_fallback(h::method_not_allowed)
        .layer(CatchPanicLayer::custom(
            |_: Box<dyn std::any::Any + Send>| {
                ApiError::status(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal error (this is a bug; please report it with the request)",
                )
                .into_response()
            },
        ))
        .with_state(service)
}

/// Count, time and log every request of a known endpoint; answer 503 in
/// the error shape when it takes longer than the request timeout.
async fn observe(
    State(s): State<Arc<Service>>,
    matched: Option<MatchedPath>,
    req: Request,
    next: Next,
) -> Response {
    let endpoint = format!(
        "{} {}",
        req.method(),
        matched.as_ref().map_or("unmatched", |m| m.as_str())
    );
    let start = Clock::now();
    let limit = s.options.request_timeout;
    let response = match tokio::time::timeout(limit, next.run(req)).await {
        Ok(r) => r,
        Err(_) => ApiError::status(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("no answer within {} ms", limit.as_millis()),
        )
        .into_response(),
    };
    let elapsed = start.elapsed();
    let status = response.status();
    let token = response
        .extensions()
        .get::<Caller>()
        .map_or("anonymous", |c| c.name.as_str());
    s.metrics
        .requests
        .with_label_values(&[endpoint.as_str(), status.as_str()])
        .inc();
    s.metrics
        .latency
        .with_label_values(&[endpoint.as_str()])
        .observe(elapsed.as_secs_f64());
    if status == StatusCode::SERVICE_UNAVAILABLE {
        s.metrics
            .backend_errors
            .with_label_values(&[endpoint.as_str()])
            .inc();
    }
    if status.is_server_error() {
        tracing::warn!(
            endpoint,
            token,
            status = status.as_u16(),
            micros = elapsed.as_micros() as u64,
            "request failed"
        );
    } else {
        tracing::debug!(
            endpoint,
            token,
            status = status.as_u16(),
            micros = elapsed.as_micros() as u64,
            "request"
        );
    }
    response
}
