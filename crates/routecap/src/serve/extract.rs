//! Reading requests: JSON bodies and query strings, every bad value a 400
//! that names its path.
//!
//! Axum's own `Json`/`Query` rejections answer in plain text; the API
//! promises `{"error", "path"?}`, so bodies are read here: whole (up to the
//! service's limit, else 413), parsed as JSON, then field by field.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use routecap_core::filter::CallAttrs;
use routecap_core::money::Money;
use routecap_core::zone::Instant;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::error::ApiError;
use super::Service;

/// A request body read whole, within the service's size limit.
#[derive(Debug)]
pub struct RawBody(pub Bytes);

impl FromRequest<Arc<Service>> for RawBody {
    type Rejection = ApiError;

    /// The whole body, within the size limit (413), each part arriving
    /// within the body timeout of the one before (408: the client stopped
    /// sending, e.g. a body shorter than its `Content-Length`); a body the
    /// client broke off is a 400. Both are the client's doing, answered at
    /// once, never a 503.
    async fn from_request(req: Request, service: &Arc<Service>) -> Result<Self, ApiError> {
        let limit = service.options.body_limit;
        let pause = service.options.body_timeout;
        let mut body = Limited::new(req.into_body(), limit);
        let mut bytes = Vec::new();
        loop {
            let frame = match tokio::time::timeout(pause, body.frame()).await {
                Err(_) => return Err(ApiError::body_timeout(pause)),
                Ok(None) => return Ok(RawBody(Bytes::from(bytes))),
                Ok(Some(frame)) => frame,
            };
            match frame {
                Ok(f) => {
                    if let Ok(data) = f.into_data() {
                        bytes.extend_from_slice(&data);
                    }
                }
                Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => {
                    return Err(ApiError::status(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        format!("request body is larger than the limit of {limit} bytes"),
                    ))
                }
                Err(e) => {
                    return Err(ApiError::bad(
                        "$",
                        format!("request body could not be read: {e}"),
                    ))
                }
            }
        }
    }
}

/// A JSON object body.
#[derive(Debug)]
pub struct JsonObject(pub Map<String, Value>);

impl FromRequest<Arc<Service>> for JsonObject {
    type Rejection = ApiError;

    async fn from_request(req: Request, service: &Arc<Service>) -> Result<Self, ApiError> {
        let RawBody(bytes) = RawBody::from_request(req, service).await?;
        match parse_json(&bytes)? {
            Value::Object(m) => Ok(JsonObject(m)),
            other => Err(ApiError::bad(
                "$",
                format!("the body must be a JSON object, not {}", short(&other)),
            )),
        }
    }
}

/// Any JSON value; a syntax error names its line and column.
pub fn parse_json(bytes: &[u8]) -> Result<Value, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad(
            "$",
            "the body is empty; a JSON object is expected",
        ));
    }
    // no JSON value yet, so no JSON path: the whole body (`$`), with the
    // line and column in the message
    serde_json::from_slice(bytes)
        .map_err(|e| ApiError::bad("$", format!("the body is not valid JSON: {e}")))
}

/// A JSON value for messages, cut at 60 characters.
pub fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 60 {
        format!("{}…", s.chars().take(60).collect::<String>())
    } else {
        s
    }
}

/// An RFC 3339 instant ([`routecap_core::instant::parse_instant`]); `path`
/// names it in errors.
pub fn instant(path: &str, text: &str) -> Result<Instant, ApiError> {
    routecap_core::instant::parse_instant(text).map_err(|e| ApiError::bad(path, e.to_string()))
}

/// The server clock, in whole seconds (answers print the instant).
pub fn now() -> Instant {
    chrono::SubsecRound::trunc_subsecs(DateTime::<Utc>::from(std::time::SystemTime::now()), 0)
}

/// The fields of a JSON object body, read with paths in errors.
pub struct Fields<'a>(pub &'a Map<String, Value>);

impl Fields<'_> {
    /// A required string.
    pub fn str(&self, name: &str) -> Result<&str, ApiError> {
        match self.0.get(name) {
            Some(Value::String(s)) => Ok(s),
            Some(other) => Err(ApiError::bad(
                name,
                format!("{} is not a string", short(other)),
            )),
            None => Err(ApiError::bad(name, format!("missing \"{name}\""))),
        }
    }

    /// The call id: a non-empty string.
    pub fn call(&self) -> Result<&str, ApiError> {
        let call = self.str("call")?;
        if call.is_empty() {
            return Err(ApiError::bad("call", "the call id must not be empty"));
        }
        Ok(call)
    }

    /// `at` if given, else the server clock.
    pub fn at(&self) -> Result<Instant, ApiError> {
        match self.0.get("at") {
            None | Some(Value::Null) => Ok(now()),
            Some(Value::String(s)) => instant("at", s),
            Some(other) => Err(ApiError::bad(
                "at",
                format!("{} is not an RFC 3339 instant string", short(other)),
            )),
        }
    }

    /// An optional whole number ≥ 0.
    pub fn opt_u64(&self, name: &str) -> Result<Option<u64>, ApiError> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v.as_u64().map(Some).ok_or_else(|| {
                ApiError::bad(name, format!("{} is not a whole number 0..2^64", short(v)))
            }),
        }
    }

    /// A reservation's time to live: whole seconds > 0.
    pub fn ttl(&self) -> Result<u64, ApiError> {
        match self.opt_u64("ttl")? {
            Some(n) if n > 0 => Ok(n),
            Some(_) => Err(ApiError::bad("ttl", "0 is not a ttl: whole seconds > 0")),
            None => Err(ApiError::bad("ttl", "missing \"ttl\": whole seconds > 0")),
        }
    }

    /// Revenue: a decimal string or number; absent or null = 0.
    pub fn revenue(&self) -> Result<Money, ApiError> {
        match self.0.get("revenue") {
            None | Some(Value::Null) => Ok(Money::ZERO),
            Some(Value::String(s)) => {
                Money::parse(s).map_err(|e| ApiError::bad("revenue", format!("{s:?} {e}")))
            }
            Some(Value::Number(n)) => Money::parse(&n.to_string())
                .map_err(|e| ApiError::bad("revenue", format!("{n} {e}"))),
            Some(other) => Err(ApiError::bad(
                "revenue",
                format!(
                    "{} is not an amount (a decimal string or number)",
                    short(other)
                ),
            )),
        }
    }

    /// The call attributes `caller`, `tags` and `campaign` (all optional).
    pub fn attrs(&self) -> Result<CallAttrs, ApiError> {
        // each alone first, so that an error names the field it is in
        for name in ["caller", "tags", "campaign"] {
            if let Some(v) = self.0.get(name) {
                let mut one = Map::new();
                one.insert(name.to_string(), v.clone());
                CallAttrs::deserialize(&Value::Object(one))
                    .map_err(|e| ApiError::bad(name, e.to_string()))?;
            }
        }
        let mut all = Map::new();
        for name in ["caller", "tags", "campaign"] {
            if let Some(v) = self.0.get(name) {
                all.insert(name.to_string(), v.clone());
            }
        }
        CallAttrs::deserialize(&Value::Object(all)).map_err(|e| ApiError::bad("$", e.to_string()))
    }
}

/// A query string's `key=value` pairs, percent-decoded, in order. Only
/// `allowed` keys are accepted: a misspelt parameter is an error, not a
/// silent default.
pub fn query_pairs(
    query: Option<&str>,
    allowed: &[&str],
) -> Result<Vec<(String, String)>, ApiError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query.unwrap_or(""))
        .map_err(|e| ApiError::bad("query", format!("the query string cannot be decoded: {e}")))?;
    for (k, _) in &pairs {
        if !allowed.contains(&k.as_str()) {
            return Err(ApiError::bad(
                format!("query.{k}"),
                format!(
                    "unknown query parameter {k:?} (allowed: {})",
                    allowed.join(", ")
                ),
            ));
        }
    }
    Ok(pairs)
}

/// `at` from a query (the last one given), else the server clock.
pub fn query_at(pairs: &[(String, String)]) -> Result<Instant, ApiError> {
    match pairs.iter().rev().find(|(k, _)| k == "at") {
        Some((_, v)) => instant("query.at", v),
        None => Ok(now()),
    }
}

/// Call attributes from a query: `caller=N`, `campaign=ID`, repeated
/// `tag=KEY=VALUE`.
pub fn query_attrs(pairs: &[(String, String)]) -> Result<CallAttrs, ApiError> {
    let mut attrs = CallAttrs::new();
    for (k, v) in pairs {
        match k.as_str() {
            "caller" => attrs.set_caller(Some(v)),
            "campaign" => attrs.set_campaign(Some(v)),
            "tag" => attrs
                .add_tag_arg(v)
                .map_err(|e| ApiError::bad("query.tag", e))?,
            _ => {}
        }
    }
    Ok(attrs)
}
