//! Who may do what (SPEC §16): bearer tokens from a file, each with a
//! role, checked before a request reaches its handler.
//!
//! - `read`: `GET /v1/check`, `/v1/usage`, `/v1/config` (and `/metrics`
//!   with `--auth-metrics`);
//! - `decide`: read, plus `POST /v1/route` and every lifecycle event;
//! - `admin`: decide, plus config changes (`PUT /v1/config`, `PATCH`).
//!
//! `/healthz` and `/openapi.json` are open (a load balancer and a client
//! generator need no secret); `/metrics` is open unless `--auth-metrics`.
//!
//! Tokens are kept only as SHA-256 digests and a presented token is
//! hashed and compared with every digest in constant time ([`subtle`]):
//! neither a token's length nor how much of it matched shows in the time
//! of an answer. No token is ever written to a log, a metric or an error
//! body; the file's entries are named (`NAME ROLE TOKEN`) so that logs can
//! say who did what.

use std::sync::{Arc, PoisonError, RwLock};

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use sha2::{Digest, Sha256};
use subtle::{ConditionallySelectable, ConstantTimeEq};

use super::Service;

/// What a token may do; each role may do everything the ones before it may.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// Check, usage, config read.
    Read,
    /// Read, route and every lifecycle event.
    Decide,
    /// Decide and config changes.
    Admin,
}

impl Role {
    /// `read`, `decide`, `admin`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Read => "read",
            Role::Decide => "decide",
            Role::Admin => "admin",
        }
    }

    fn parse(s: &str) -> Option<Role> {
        match s {
            "read" => Some(Role::Read),
            "decide" => Some(Role::Decide),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

/// Shortest plain token accepted: 16 characters (a guessable token is
/// worse than none, since it looks safe).
pub const MIN_TOKEN_LEN: usize = 16;

/// One named token.
#[derive(Clone)]
struct Entry {
    name: String,
    role: Role,
    digest: [u8; 32],
}

/// The tokens of one `--auth` file.
#[derive(Clone)]
pub struct Tokens {
    entries: Vec<Entry>,
}

impl std::fmt::Debug for Tokens {
    /// Names and roles only: a digest is as good as a token to whoever
    /// can hash guesses offline.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.entries.iter().map(|e| (&e.name, e.role.as_str())))
            .finish()
    }
}

fn digest(token: &[u8]) -> [u8; 32] {
    Sha256::digest(token).into()
}

/// The 32 bytes of 64 hex digits.
fn hex32(text: &str) -> Option<[u8; 32]> {
    if text.len() != 64 || !text.is_ascii() {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

/// A line's words before its comment: `#` at the start of a word starts
/// one (a `#` inside a token is part of it).
fn words(line: &str) -> Vec<&str> {
    line.split_whitespace()
        .take_while(|w| !w.starts_with('#'))
        .collect()
}

impl Tokens {
    /// Read `NAME ROLE TOKEN` lines from `text`; `file` names the file in
    /// errors, which never quote a token.
    pub fn parse(text: &str, file: &str) -> Result<Tokens, String> {
        let mut entries: Vec<Entry> = Vec::new();
        let mut lines_of: Vec<usize> = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let n = i + 1;
            let w = words(line);
            if w.is_empty() {
                continue;
            }
            let [name, role, token] = w[..] else {
                return Err(format!(
                    "{file} line {n}: expected NAME ROLE TOKEN (3 words), found {} words",
                    w.len()
                ));
            };
            let role = Role::parse(role).ok_or_else(|| {
                format!("{file} line {n} ({name}): unknown role {role:?} (read, decide or admin)")
            })?;
            let digest = match token.strip_prefix("sha256:") {
                Some(hex) => hex32(hex).ok_or_else(|| {
                    format!("{file} line {n} ({name}): a sha256: token must be 64 hex digits")
                })?,
                None if token.len() < MIN_TOKEN_LEN => {
                    return Err(format!(
                        "{file} line {n} ({name}): the token is too short (at least {MIN_TOKEN_LEN} characters)"
                    ))
                }
                None => digest(token.as_bytes()),
            };
            if let Some(j) = entries.iter().position(|e| e.name == name) {
                return Err(format!(
                    "{file} line {n}: the name {name:?} is already used on line {}",
                    lines_of[j]
                ));
            }
            if let Some(j) = entries.iter().position(|e| e.digest == digest) {
                return Err(format!(
                    "{file} line {n} ({name}): the same token as line {} ({})",
                    lines_of[j], entries[j].name
                ));
            }
            entries.push(Entry {
                name: name.to_string(),
                role,
                digest,
            });
            lines_of.push(n);
        }
        if entries.is_empty() {
            return Err(format!(
                "{file}: holds no token (one \"NAME ROLE TOKEN\" per line)"
            ));
        }
        Ok(Tokens { entries })
    }

    /// Read the file at `path`.
    pub fn load(path: &str) -> Result<Tokens, String> {
        let text =
            std::fs::read_to_string(path).map_err(|e| format!("{path}: cannot be read: {e}"))?;
        Tokens::parse(&text, path)
    }

    /// How many tokens there are.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are none (never, once parsed).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The name and role of `token`: compared with every entry, each
    /// comparison in constant time, whatever matches.
    pub fn find(&self, token: &str) -> Option<(&str, Role)> {
        let d = digest(token.as_bytes());
        let mut found = u64::MAX;
        for (i, e) in self.entries.iter().enumerate() {
            found = u64::conditional_select(&found, &(i as u64), e.digest.ct_eq(&d));
        }
        let e = self.entries.get(usize::try_from(found).ok()?)?;
        Some((e.name.as_str(), e.role))
    }
}

/// The service's tokens: the file they came from (SIGHUP reads it again)
/// and whether `/metrics` needs one.
#[derive(Debug)]
pub struct Auth {
    /// The `--auth` file.
    pub file: String,
    /// `--auth-metrics`.
    pub metrics_need_token: bool,
    tokens: RwLock<Arc<Tokens>>,
}

impl Auth {
    /// Tokens read from `file`.
    pub fn load(file: &str, metrics_need_token: bool) -> Result<Auth, String> {
        let tokens = Tokens::load(file)?;
        warn_if_readable_by_all(file);
        Ok(Auth {
            file: file.to_string(),
            metrics_need_token,
            tokens: RwLock::new(Arc::new(tokens)),
        })
    }

    /// The tokens in force.
    pub fn tokens(&self) -> Arc<Tokens> {
        self.tokens
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Read the file again; on error the tokens in force stay. The number
    /// of tokens now.
    pub fn reload(&self) -> Result<usize, String> {
        let tokens = Tokens::load(&self.file)?;
        let n = tokens.len();
        *self.tokens.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(tokens);
        warn_if_readable_by_all(&self.file);
        Ok(n)
    }
}

/// A token file every local user can read gives every token away.
fn warn_if_readable_by_all(file: &str) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(file) {
            if meta.permissions().mode() & 0o004 != 0 {
                tracing::warn!(
                    file,
                    "the token file is readable by every user (chmod 600 it)"
                );
            }
        }
    }
    #[cfg(not(unix))]
    let _ = file;
}

/// What a request needs: nothing, or a token of at least some role.
pub fn needs(method: &Method, path: &str, metrics_need_token: bool) -> Option<Role> {
    match (method.as_str(), path) {
        (_, "/healthz" | "/openapi.json") => None,
        (_, "/metrics") => metrics_need_token.then_some(Role::Read),
        (
            "POST",
            "/v1/route" | "/v1/connect" | "/v1/reserve" | "/v1/convert" | "/v1/end" | "/v1/touch"
            | "/v1/cancel",
        ) => Some(Role::Decide),
        ("PUT", "/v1/config") | ("PATCH", "/v1/targets/{id}" | "/v1/groups/{id}") => {
            Some(Role::Admin)
        }
        _ => Some(Role::Read),
    }
}

/// Who made a request, for logs and metrics (never the token itself).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    /// The token's name in the file; `anonymous` without one.
    pub name: String,
    /// The token's role; `None` without one.
    pub role: Option<Role>,
}

impl Caller {
    fn anonymous() -> Caller {
        Caller {
            name: "anonymous".to_string(),
            role: None,
        }
    }

    /// The role's name, `anonymous` without a token.
    pub fn role_name(&self) -> &'static str {
        self.role.map_or("anonymous", Role::as_str)
    }
}

/// The token of an `Authorization: Bearer TOKEN` header.
fn bearer(req: &Request) -> Option<&str> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// 401: no token, or one the file does not hold.
fn unauthorized() -> Response {
    let mut r = (
        StatusCode::UNAUTHORIZED,
        axum::Json(json!({"error": "unauthorized"})),
    )
        .into_response();
    r.headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    r
}

/// 403: a token whose role is too small.
fn forbidden(needs: Role) -> Response {
    (
        StatusCode::FORBIDDEN,
        axum::Json(json!({"error": "forbidden", "needs": needs.as_str()})),
    )
        .into_response()
}

/// Let a request through when its token's role suffices (or it needs
/// none), recording who made it for the handlers' logs; else 401 or 403.
pub async fn authorize(
    State(s): State<Arc<Service>>,
    matched: Option<MatchedPath>,
    mut req: Request,
    next: Next,
) -> Response {
    let path = matched.as_ref().map_or("", MatchedPath::as_str);
    let caller = match &s.auth {
        None => Caller::anonymous(),
        Some(auth) => {
            let needed = needs(req.method(), path, auth.metrics_need_token);
            let tokens = auth.tokens();
            let found = bearer(&req).and_then(|t| tokens.find(t));
            match (needed, found) {
                (_, Some((name, role))) => {
                    if let Some(n) = needed.filter(|&n| role < n) {
                        tracing::info!(
                            token = name,
                            role = role.as_str(),
                            needs = n.as_str(),
                            endpoint = path,
                            "forbidden"
                        );
                        s.metrics.by_role.with_label_values(&[role.as_str()]).inc();
                        return forbidden(n);
                    }
                    Caller {
                        name: name.to_string(),
                        role: Some(role),
                    }
                }
                (None, None) => Caller::anonymous(),
                (Some(_), None) => {
                    tracing::info!(endpoint = path, "unauthorized: no token, or an unknown one");
                    s.metrics.by_role.with_label_values(&["anonymous"]).inc();
                    return unauthorized();
                }
            }
        }
    };
    s.metrics
        .by_role
        .with_label_values(&[caller.role_name()])
        .inc();
    req.extensions_mut().insert(caller.clone());
    let mut response = next.run(req).await;
    // for the request log (`app::observe`)
    response.extensions_mut().insert(caller);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "s3cret-token-0123456789";

    #[test]
    fn reads_names_roles_plain_and_digest_tokens_and_comments() {
        let hex: String = digest(b"another-token-abcdef")
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let text = format!(
            "# operators\n\nops admin {TOKEN}   # the on-call team\nswitch decide sha256:{}\n",
            hex.to_uppercase()
        );
        let t = Tokens::parse(&text, "tokens").unwrap();
        assert_eq!(t.find(TOKEN), Some(("ops", Role::Admin)));
        assert_eq!(
            t.find("another-token-abcdef"),
            Some(("switch", Role::Decide))
        );
        assert_eq!(t.find("another-token-abcdeg"), None);
        assert_eq!(t.find(""), None);
        assert!(!format!("{t:?}").contains(TOKEN));
    }

    #[test]
    fn bad_files_are_refused_without_quoting_a_token() {
        let cases = [
            (format!("ops {TOKEN}"), "line 1: expected NAME ROLE TOKEN"),
            (format!("ops root {TOKEN}"), "unknown role \"root\""),
            ("ops read short".to_string(), "too short"),
            ("ops read sha256:abc".to_string(), "64 hex digits"),
            (
                format!("a read {TOKEN}\na admin {TOKEN}x"),
                "the name \"a\" is already used on line 1",
            ),
            (
                format!("a read {TOKEN}\nb admin {TOKEN}"),
                "line 2 (b): the same token as line 1 (a)",
            ),
            ("# nothing\n".to_string(), "holds no token"),
        ];
        for (text, want) in cases {
            let e = Tokens::parse(&text, "tokens").unwrap_err();
            assert!(e.contains(want), "{e}");
            assert!(e.starts_with("tokens"), "{e}");
            assert!(!e.contains(TOKEN), "{e}");
        }
    }

    #[test]
    fn roles_nest_and_each_endpoint_needs_its_own() {
        assert!(Role::Read < Role::Decide && Role::Decide < Role::Admin);
        let get = Method::GET;
        assert_eq!(needs(&get, "/healthz", true), None);
        assert_eq!(needs(&get, "/openapi.json", true), None);
        assert_eq!(needs(&get, "/metrics", false), None);
        assert_eq!(needs(&get, "/metrics", true), Some(Role::Read));
        assert_eq!(needs(&get, "/v1/config", false), Some(Role::Read));
        assert_eq!(needs(&Method::POST, "/v1/end", false), Some(Role::Decide));
        assert_eq!(needs(&Method::PUT, "/v1/config", false), Some(Role::Admin));
        assert_eq!(
            needs(&Method::PATCH, "/v1/groups/{id}", false),
            Some(Role::Admin)
        );
    }
}
