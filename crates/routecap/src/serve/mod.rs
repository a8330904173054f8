//! `routecap serve`: the engine as an HTTP/1.1 JSON service (axum on tokio).
//!
//! - [`app`]: the router, per-endpoint metrics and logs, panic and timeout guards;
//! - [`handlers`]: one function per endpoint, answering the CLI's JSON;
//! - [`extract`]: bodies and query strings, every bad value a 400 naming its path;
//! - [`error`]: statuses and the `{"error", "path"?}` shape;
//! - [`metrics`]: Prometheus text;
//! - [`signals`]: SIGTERM/SIGINT drain and exit, SIGHUP reloads the config file.
//!
//! Bodies mirror the replay events (`docs/openapi.json` describes them);
//! `at` defaults to the server clock everywhere.

pub mod app;
pub mod error;
pub mod extract;
pub mod handlers;
pub mod metrics;
pub mod signals;

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
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
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            body_limit: 1 << 20,
            backend_timeout: Duration::from_secs(2),
            request_timeout: Duration::from_secs(30),
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
    config_version: AtomicU64,
}

impl Service {
    /// A service over `backend` at config version 1.
    pub fn new(backend: Arc<dyn Backend>, options: ServeOptions) -> Service {
        Service {
            backend,
            metrics: Metrics::new(),
            options,
            format: None,
            config_file: None,
            config_version: AtomicU64::new(1),
        }
    }

    /// The config version of this process: 1 at start, +1 per change.
    pub fn config_version(&self) -> u64 {
        self.config_version.load(Ordering::SeqCst)
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

    /// Count one accepted config change; the new version.
    pub fn bump_config_version(&self) -> u64 {
        self.config_version.fetch_add(1, Ordering::SeqCst) + 1
    }
}

/// Serve `service` on `listener` until `shutdown` resolves, then finish the
/// requests in flight and return.
pub async fn run(
    service: Arc<Service>,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, app::router(service))
        .with_graceful_shutdown(shutdown)
        .await
}
