//! `routecap serve`: the engine as an HTTP/1.1 JSON service (axum on tokio).
//!
//! - [`app`]: the router, per-endpoint metrics and logs, panic and timeout guards;
//! - [`auth`]: bearer tokens and roles (`--auth`);
//! - [`handlers`]: one function per endpoint, answering the CLI's JSON;
//! - [`config_edit`]: reading and changing the running config (ETag, If-Match);
//! - [`extract`]: bodies and query strings, every bad value a 400 naming its path;
//! - [`error`]: statuses and the `{"error", "path"?}` shape;
//! - [`metrics`]: Prometheus text;
//! - [`listen`]: accepting connections (TLS, header deadline, bounded drain);
//! - [`tls`]: the certificate and key of `--tls-cert`/`--tls-key`;
//! - [`openapi`]: the document of this API, served as `/openapi.json`;
//! - [`signals`]: SIGTERM/SIGINT drain and exit, SIGHUP reloads the config
//!   and token files.
//!
//! Bodies mirror the replay events (`docs/openapi.json` describes them);
//! `at` defaults to the server clock everywhere.

pub mod app;
pub mod auth;
pub mod config_edit;
pub mod error;
pub mod extract;
pub mod handlers;
pub mod listen;
pub mod metrics;
pub mod openapi;
pub mod signals;
pub mod tls;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use routecap_core::formats::Format;

use crate::state::{Backend, StateError};

pub use self::error::ApiError;
pub use self::metrics::Metrics;

/// Limits of the service.
#[derive(Clone, Debug)]
pub struct ServeOptions {
    /// Largest request body accepted (413 above).
    pub body_limit: usize,
    /// Longest wait for one state-server call (503 past it).
    pub backend_timeout: Duration,
    /// Longest time to answer one request (503 past it).
    pub request_timeout: Duration,
    /// Longest time a request's header (or a TLS handshake) may take to
    /// arrive, and an idle keep-alive connection may stay open: the
    /// connection is closed past it.
    pub header_timeout: Duration,
    /// Longest pause in a request body (408 past it: a body shorter than
    /// its `Content-Length`, a client that stopped sending).
    pub body_timeout: Duration,
    /// Longest time shutting down waits for requests in flight.
    pub shutdown_grace: Duration,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            body_limit: 1 << 20,
            backend_timeout: Duration::from_secs(2),
            request_timeout: Duration::from_secs(30),
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(5),
            shutdown_grace: Duration::from_secs(10),
        }
    }
}

/// One service: its state, metrics and limits, shared by every request.
#[derive(Debug)]
pub struct Service {
    /// Where counters and calls live: memory (one process), Redis (many
    /// processes, one engine).
    pub backend: Arc<dyn Backend>,
    /// Request and decision metrics.
    pub metrics: Metrics,
    /// Limits.
    pub options: ServeOptions,
    /// `--format` of the config, applied to replacement configs too.
    pub format: Option<Format>,
    /// The config file SIGHUP re-reads (`None`: standard input, no reload).
    pub config_file: Option<String>,
    /// The tokens requests need (`--auth`); `None`: every request is let in.
    pub auth: Option<auth::Auth>,
    /// Held across a config change (check, change, log), so that this
    /// process's changes apply one at a time.
    pub config_changes: tokio::sync::Mutex<()>,
}

impl Service {
    /// A service over `backend`, without tokens.
    pub fn new(backend: Arc<dyn Backend>, options: ServeOptions) -> Service {
        Service {
            backend,
            metrics: Metrics::new(),
            options,
            format: None,
            config_file: None,
            auth: None,
            config_changes: tokio::sync::Mutex::new(()),
        }
    }

    /// The same service requiring the tokens of `auth`.
    pub fn with_auth(mut self, auth: auth::Auth) -> Service {
        self.auth = Some(auth);
        self
    }

    /// Run one call of the backend under the backend timeout: a slow or
    /// unreachable state server is a 503, never a hang and never a silent
    /// admit (memory answers at once).
    pub async fn state<T>(
        &self,
        call: impl Future<Output = Result<T, StateError>>,
    ) -> Result<T, StateError> {
        match tokio::time::timeout(self.options.backend_timeout, call).await {
            Ok(answer) => answer,
            Err(_) => Err(StateError::Unavailable {
                url: self.backend.location().first().map_or_else(
                    || self.backend.kind().to_string(),
                    |(_, place)| place.clone(),
                ),
                message: format!(
                    "no answer within {} ms",
                    self.options.backend_timeout.as_millis()
                ),
            }),
        }
    }
}

/// Serve `service` over HTTP on `listener` until `shutdown` resolves, then
/// finish the requests in flight (at most `shutdown_grace`) and return.
pub async fn run(
    service: Arc<Service>,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    listen::serve(service, listener, None, shutdown).await
}

/// [`run`] over HTTPS with `tls` (see [`tls::server_config`]).
pub async fn run_tls(
    service: Arc<Service>,
    listener: tokio::net::TcpListener,
    tls: Arc<rustls::ServerConfig>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    listen::serve(service, listener, Some(tls), shutdown).await
}
