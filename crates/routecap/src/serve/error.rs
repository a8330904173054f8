//! Error answers: every failure is a status code and `{"error", "path"?}`.
//!
//! The status says whose fault it is: 400 bad input, 404 an unknown
//! target/group/call, 408 a body that stopped arriving, 409 a lifecycle
//! conflict, 412 a config change against a version no longer in force,
//! 413 a body over the limit, 501 what this backend cannot do yet, 503 the
//! state server is unreachable or slow. A 500 is only ever our own bug,
//! never the client's input. (401 and 403 have shapes of their own, see
//! [`super::auth`].)

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use routecap_core::engine::EngineError;
use routecap_core::lifecycle::LifecycleError;
use serde_json::json;

use crate::state::StateError;

/// One error answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// What went wrong and what is allowed.
    pub error: String,
    /// Where in the request: a JSON path in the body (`tags.geo`), a
    /// query parameter (`query.at`) or a path segment (`id`).
    pub path: Option<String>,
}

impl ApiError {
    /// 400 with the path of the bad value.
    pub fn bad(path: impl Into<String>, error: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            error: error.into(),
            path: Some(path.into()),
        }
    }

    /// An error with any status and no path.
    pub fn status(status: StatusCode, error: impl Into<String>) -> ApiError {
        ApiError {
            status,
            error: error.into(),
            path: None,
        }
    }

    /// The same error naming `path` (kept if it already names one).
    pub fn at_path(mut self, path: &str) -> ApiError {
        if self.path.is_none() {
            self.path = Some(path.to_string());
        }
        self
    }

    /// An engine error, its status by whose fault it is.
    pub fn engine(e: EngineError) -> ApiError {
        use LifecycleError as L;
        let (status, path) = match &e {
            EngineError::UnknownTarget(_) => (StatusCode::NOT_FOUND, Some("target")),
            EngineError::UnknownGroup(_) => (StatusCode::NOT_FOUND, Some("group")),
            EngineError::UnknownCampaign(_) => (StatusCode::NOT_FOUND, Some("campaign")),
            EngineError::UnknownOwner(_) => (StatusCode::NOT_FOUND, None),
            EngineError::UnsupportedWeek(_) => (StatusCode::BAD_REQUEST, Some("at")),
            EngineError::Lifecycle(l) => match l {
                L::UnknownTarget(_) => (StatusCode::NOT_FOUND, Some("target")),
                L::UnknownGroup(_) => (StatusCode::NOT_FOUND, Some("group")),
                L::UnknownCall(_) => (StatusCode::NOT_FOUND, Some("call")),
                L::UnsupportedInstant(_) => (StatusCode::BAD_REQUEST, Some("at")),
                L::NegativeRevenue(_) => (StatusCode::BAD_REQUEST, Some("revenue")),
                L::InvalidTtl(_) => (StatusCode::BAD_REQUEST, Some("ttl")),
                L::AlreadyConnected(_)
                | L::AlreadyExists(_)
                | L::ReservedForOtherTarget { .. }
                | L::NotConnected(_)
                | L::LeaseExpired { .. }
                | L::NotReserved(_)
                | L::AlreadyEnded(_)
                | L::AlreadyConverted(_)
                | L::TargetRemoved(_) => (StatusCode::CONFLICT, Some("call")),
            },
            EngineError::Config(c) => {
                return ApiError::bad(c.path().to_string(), e.to_string());
            }
            EngineError::Usage(_) => (StatusCode::BAD_REQUEST, None),
            EngineError::Snapshot(_) | EngineError::NoSource => {
                (StatusCode::INTERNAL_SERVER_ERROR, None)
            }
        };
        ApiError {
            status,
            error: e.to_string(),
            path: path.map(str::to_string),
        }
    }

    /// A state error: the engine's verdict, or the server's trouble (503).
    pub fn state(e: StateError) -> ApiError {
        match e {
            StateError::Engine(e) => ApiError::engine(e),
            StateError::Unsupported(..) => {
                ApiError::status(StatusCode::NOT_IMPLEMENTED, e.to_string())
            }
            StateError::StaleConfig { .. } => ApiError {
                status: StatusCode::PRECONDITION_FAILED,
                error: e.to_string(),
                path: Some("header.If-Match".to_string()),
            },
            StateError::Unavailable { .. } | StateError::Ambiguous { .. } => {
                ApiError::status(StatusCode::SERVICE_UNAVAILABLE, e.to_string())
            }
        }
    }

    /// 408: the body stopped arriving for `pause`.
    pub fn body_timeout(pause: std::time::Duration) -> ApiError {
        ApiError {
            status: StatusCode::REQUEST_TIMEOUT,
            error: format!(
                "the request body stopped arriving for {} ms (a body shorter than its Content-Length?)",
                pause.as_millis()
            ),
            path: Some("$".to_string()),
        }
    }

    /// 404 for a route the API does not have.
    pub fn no_route(method: &str, path: &str) -> ApiError {
        ApiError::status(
            StatusCode::NOT_FOUND,
            format!(
                "no endpoint {method} {path}; see GET /openapi.json (POST /v1/route, /v1/connect, /v1/convert, /v1/end, /v1/reserve, /v1/cancel, /v1/touch; GET /v1/check, /v1/usage, /v1/config, /healthz, /metrics, /openapi.json; PUT /v1/config; PATCH /v1/targets/{{id}}, /v1/groups/{{id}})"
            ),
        )
    }
}

impl From<StateError> for ApiError {
    fn from(e: StateError) -> ApiError {
        ApiError::state(e)
    }
}

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> ApiError {
        ApiError::engine(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = match &self.path {
            Some(p) => json!({"error": self.error, "path": p}),
            None => json!({"error": self.error}),
        };
        let mut response = (self.status, axum::Json(body)).into_response();
        if self.status == StatusCode::REQUEST_TIMEOUT {
            // the rest of the body may still come: this connection is done
            response.headers_mut().insert(
                axum::http::header::CONNECTION,
                axum::http::HeaderValue::from_static("close"),
            );
        }
        response
    }
}
