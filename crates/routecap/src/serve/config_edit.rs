//! Reading and changing the running config, optimistically (SPEC §16).
//!
//! `GET /v1/config` answers the config in force in the native shape with
//! `ETag: "VERSION"`; `PUT /v1/config` and `PATCH /v1/targets/{id}`,
//! `/v1/groups/{id}` change it, and with `If-Match: "VERSION"` only while
//! that version is still in force (412 otherwise, nothing changed). The
//! version is the state's own (the same number in every process sharing
//! a Redis namespace), so an edit made from an old read of any process is
//! refused. Every change is logged with who made it (the token's name),
//! the versions before and after and the owners it touched.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, Uri};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use routecap_core::formats::source::{refuse_empty, OwnerKind};
use routecap_core::formats::to_native;
use routecap_core::model::Config;
use serde_json::{json, Value};

use super::auth::Caller;
use super::error::ApiError;
use super::extract::{parse_json, query_at, query_pairs, RawBody};
use super::Service;
use crate::state::ConfigChange;

type Answer = Result<Response, ApiError>;

/// `"VERSION"`, as `ETag` gives it and `If-Match` takes it.
fn etag(version: u64) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{version}\"")).unwrap_or(HeaderValue::from_static("\"0\""))
}

const IF_MATCH: &str = "is not a config version: give If-Match: \"VERSION\" as GET /v1/config's ETag answers it (or * for any)";

/// The version `If-Match` requires (`None`: no header, or `*`).
pub fn if_match(headers: &HeaderMap) -> Result<Option<u64>, ApiError> {
    let Some(value) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    let bad = |shown: &str| ApiError::bad("header.If-Match", format!("{shown} {IF_MATCH}"));
    let text = value.to_str().map_err(|_| bad("the value"))?.trim();
    if text == "*" {
        return Ok(None);
    }
    let digits = text
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or(text);
    if digits.is_empty() || digits.len() > 19 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad(&format!("{text:?}")));
    }
    digits
        .parse()
        .map(Some)
        .map_err(|_| bad(&format!("{text:?}")))
}

/// `GET /v1/config`: the config in force, native shape, with its `ETag`.
pub async fn get_config(State(s): State<Arc<Service>>) -> Answer {
    let current = s.state(s.backend.versioned_config()).await?;
    s.metrics.config_version.set(current.version as i64);
    let mut response = Json(to_native(&current.config)).into_response();
    response
        .headers_mut()
        .insert(header::ETAG, etag(current.version));
    Ok(response)
}

/// `PUT /v1/config?at=T&allow_empty=true`: a whole config in any shape;
/// counters kept by id, windows of a changed zone moved at `at` (default:
/// the clock). A config with no target and no group is refused unless
/// `allow_empty=true`.
pub async fn put_config(
    State(s): State<Arc<Service>>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    uri: Uri,
    RawBody(bytes): RawBody,
) -> Answer {
    let expected = if_match(&headers)?;
    let pairs = query_pairs(uri.query(), &["at", "allow_empty"])?;
    let at = query_at(&pairs)?;
    let allow_empty = match pairs.iter().rev().find(|(k, _)| k == "allow_empty") {
        None => false,
        Some((_, v)) => match v.as_str() {
            "true" => true,
            "false" => false,
            other => {
                return Err(ApiError::bad(
                    "query.allow_empty",
                    format!("{other:?} is not true or false"),
                ))
            }
        },
    };
    let doc = parse_json(&bytes)?;
    let request = "PUT /v1/config";
    if !allow_empty {
        refuse_empty(&doc, request, s.format, "add ?allow_empty=true")
            .map_err(|e| ApiError::engine(e.into()))?;
    }
    let _one_at_a_time = s.config_changes.lock().await;
    let replace = s
        .backend
        .replace_config_if(&doc, request, s.format, at, expected);
    let change = s.state(replace).await?;
    Ok(changed(&s, &caller.name, request, &change))
}

fn path_id(p: Result<Path<String>, PathRejection>) -> Result<String, ApiError> {
    p.map(|Path(id)| id)
        .map_err(|e| ApiError::bad("id", format!("the id in the path cannot be read: {e}")))
}

/// `PATCH /v1/targets/{id}?at=T` and `/v1/groups/{id}`: a JSON Merge
/// Patch of the owner, applied at `at` (default: the clock).
async fn patch(
    s: Arc<Service>,
    caller: &Caller,
    (headers, uri): (&HeaderMap, &Uri),
    kind: OwnerKind,
    id: String,
    bytes: &[u8],
) -> Answer {
    let expected = if_match(headers)?;
    let pairs = query_pairs(uri.query(), &["at"])?;
    let at = query_at(&pairs)?;
    let doc = parse_json(bytes)?;
    let request = format!("PATCH /v1/{}s/{id}", kind.as_str());
    let _one_at_a_time = s.config_changes.lock().await;
    let patch = (s.backend).patch_if(kind, &id, &doc, &request, at, expected);
    let change = s.state(patch).await?;
    Ok(changed(&s, &caller.name, &request, &change))
}

/// `PATCH /v1/targets/{id}`.
pub async fn patch_target(
    State(s): State<Arc<Service>>,
    Extension(caller): Extension<Caller>,
    id: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    uri: Uri,
    RawBody(bytes): RawBody,
) -> Answer {
    patch(
        s,
        &caller,
        (&headers, &uri),
        OwnerKind::Target,
        path_id(id)?,
        &bytes,
    )
    .await
}

/// `PATCH /v1/groups/{id}`.
pub async fn patch_group(
    State(s): State<Arc<Service>>,
    Extension(caller): Extension<Caller>,
    id: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    uri: Uri,
    RawBody(bytes): RawBody,
) -> Answer {
    let id = path_id(id)?;
    patch(s, &caller, (&headers, &uri), OwnerKind::Group, id, &bytes).await
}

/// Log an accepted change (who, versions, owners touched) and answer it
/// with the new version, also as `ETag`.
pub fn changed(s: &Service, who: &str, request: &str, change: &ConfigChange) -> Response {
    let touched = touched(&change.before.config, &change.after.config);
    s.metrics.config_version.set(change.after.version as i64);
    tracing::info!(
        token = who,
        request,
        version_before = change.before.version,
        version_after = change.after.version,
        touched = %touched.join(", "),
        dropped_calls = change.dropped.calls.len(),
        "config changed"
    );
    let mut v = json!({"ok": true, "config_version": change.after.version});
    if !change.dropped.is_empty() {
        v["dropped"] = json!(change.dropped);
    }
    let mut response = Json(v).into_response();
    response
        .headers_mut()
        .insert(header::ETAG, etag(change.after.version));
    response
}

/// What a change touched, as `target a (changed)`, `group g (added)`,
/// `call_lease_seconds (changed)`…: the owners and settings whose native
/// rendering differs.
pub fn touched(before: &Config, after: &Config) -> Vec<String> {
    let (a, b) = (to_native(before), to_native(after));
    let mut out = Vec::new();
    for (list, kind) in [
        ("targets", "target"),
        ("groups", "group"),
        ("campaigns", "campaign"),
    ] {
        let (old, new) = (by_id(&a[list]), by_id(&b[list]));
        for (id, v) in &old {
            match new.get(id) {
                None => out.push(format!("{kind} {id} (removed)")),
                Some(w) if w != v => out.push(format!("{kind} {id} (changed)")),
                Some(_) => {}
            }
        }
        for id in new.keys().filter(|id| !old.contains_key(*id)) {
            out.push(format!("{kind} {id} (added)"));
        }
    }
    for key in [
        "as_of",
        "call_lease_seconds",
        "call_retention_seconds",
        "repeat_callers",
    ] {
        if a.get(key) != b.get(key) {
            out.push(format!("{key} (changed)"));
        }
    }
    out
}

/// The items of a rendered list by their `id`.
fn by_id(list: &Value) -> BTreeMap<String, &Value> {
    list.as_array()
        .into_iter()
        .flatten()
        .filter_map(|item| Some((item.get("id")?.as_str()?.to_string(), item)))
        .collect()
}
