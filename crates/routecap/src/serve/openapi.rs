//! `GET /openapi.json`: the OpenAPI 3.1 document of this API, the one in
//! `docs/openapi.json` (the crate's `openapi.json` links to it, so there is
//! one document), built into the binary.

use axum::http::header;
use axum::response::{IntoResponse, Response};

/// The document, as `docs/openapi.json` holds it.
pub const DOCUMENT: &str = include_str!("../../openapi.json");

/// `GET /openapi.json`.
pub async fn document() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], DOCUMENT).into_response()
}
