//! Reaching the server: the options, connecting and checking it answers
//! as Redis, and how client errors read.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{ErrorKind, RedisError, Script};
use routecap_core::formats::source::Source;
use routecap_core::formats::Format;
use routecap_core::model::Config;

use super::config_store::Loaded;
use super::scripts;
use super::RedisState;
use crate::state::StateError;

/// How to reach the server and how the state behaves.
#[derive(Clone, Debug)]
pub struct RedisOptions {
    /// `redis://[:PASSWORD@]HOST:PORT[/DB]`, `rediss://…` or `unix://…`.
    pub url: String,
    /// Names the state inside the server (no `{` or `}`).
    pub namespace: String,
    /// Oldest counters `check`/`route` may read from the local cache.
    pub refresh: Duration,
    /// How long one reply may take before the operation errors.
    pub response_timeout: Duration,
    /// How long establishing a connection may take.
    pub connect_timeout: Duration,
}

impl RedisOptions {
    /// Defaults for `url` with namespace `routecap`.
    pub fn new(url: impl Into<String>) -> RedisOptions {
        RedisOptions {
            url: url.into(),
            namespace: "routecap".to_string(),
            refresh: Duration::from_millis(200),
            response_timeout: Duration::from_secs(2),
            connect_timeout: Duration::from_secs(2),
        }
    }
}

/// `url` with any password replaced by `***`, for messages.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    match rest.rsplit_once('@') {
        Some((auth, host)) => match auth.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
            None => format!("{scheme}://***@{host}"),
        },
        None => url.to_string(),
    }
}

/// A readable message for a client error (never containing the password:
/// redis-rs does not echo URLs).
pub(super) fn describe(e: &RedisError) -> String {
    match e.kind() {
        ErrorKind::AuthenticationFailed => format!("authentication failed: {e}"),
        ErrorKind::IoError if e.is_connection_refusal() => format!("connection refused: {e}"),
        ErrorKind::ResponseError | ErrorKind::TypeError | ErrorKind::ParseError => {
            format!("not a Redis server, or an unexpected reply: {e}")
        }
        _ => e.to_string(),
    }
}

impl RedisState {
    /// Connect, check the server answers as Redis, and join the namespace
    /// with `config` (no document: patches are refused). An empty
    /// namespace stores the config's imported usage; otherwise owners the
    /// server does not hold yet are added with theirs, and a document the
    /// namespace holds is adopted. Scripts load on first use and reload
    /// after a server restart.
    pub async fn open(
        config: impl Into<Arc<Config>>,
        opts: RedisOptions,
    ) -> Result<RedisState, StateError> {
        let state = RedisState::connect(config.into(), None, opts).await?;
        state.join(false).await?;
        Ok(state)
    }

    /// [`RedisState::open`] with the config's document (`bytes` in any
    /// shape, `file` naming it in errors), so that patches work and every
    /// process sharing the namespace runs the same config: a namespace
    /// holding another document switches to this one (a config change,
    /// counters kept by id).
    pub async fn open_document(
        bytes: &[u8],
        file: &str,
        format: Option<Format>,
        opts: RedisOptions,
    ) -> Result<RedisState, StateError> {
        let (source, config) =
            Source::parse(bytes, file, format).map_err(|e| StateError::Engine(e.into()))?;
        let state = RedisState::connect(Arc::new(config), Some(source), opts).await?;
        state.join(true).await?;
        Ok(state)
    }

    /// [`RedisState::open_document`] with a document already parsed (e.g.
    /// `routecap_core::engine::Engine::source`) and its config.
    pub async fn open_source(
        source: Source,
        config: impl Into<Arc<Config>>,
        opts: RedisOptions,
    ) -> Result<RedisState, StateError> {
        let state = RedisState::connect(config.into(), Some(source), opts).await?;
        state.join(true).await?;
        Ok(state)
    }

    async fn connect(
        config: Arc<Config>,
        source: Option<Source>,
        opts: RedisOptions,
    ) -> Result<RedisState, StateError> {
        let shown_url = redact_url(&opts.url);
        let unavailable = |message: String| StateError::Unavailable {
            url: shown_url.clone(),
            message,
        };
        if opts.namespace.is_empty() || opts.namespace.contains(['{', '}']) {
            return Err(unavailable(format!(
                "namespace {:?} must be non-empty without braces",
                opts.namespace
            )));
        }
        let client = redis::Client::open(opts.url.as_str())
            .map_err(|e| unavailable(format!("invalid URL: {e}")))?;
        let cfg = ConnectionManagerConfig::new()
            .set_number_of_retries(1)
            .set_max_delay(200)
            .set_connection_timeout(opts.connect_timeout)
            .set_response_timeout(opts.response_timeout);
        let mut conn = tokio::time::timeout(
            opts.connect_timeout * 3,
            ConnectionManager::new_with_config(client, cfg),
        )
        .await
        .map_err(|_| unavailable("timed out connecting".to_string()))?
        .map_err(|e| unavailable(describe(&e)))?;
        let pong: String = redis::cmd("PING")
            .query_async(&mut conn)
            .await
            .map_err(|e| unavailable(describe(&e)))?;
        if pong != "PONG" {
            return Err(unavailable(format!(
                "not a Redis server (PING answered {pong:?})"
            )));
        }
        let (library, fn_prefix) = scripts::library();
        let loaded = RwLock::new(Loaded::new(config, source, String::new(), &opts.namespace));
        Ok(RedisState {
            opts,
            shown_url,
            conn,
            library,
            fn_prefix,
            read: Script::new(scripts::READ),
            anchor_script: Script::new(scripts::ANCHOR),
            import_script: Script::new(scripts::IMPORT),
            config_script: Script::new(scripts::CONFIG),
            loaded,
            anchor: Mutex::new(None),
            maybe_pending: AtomicBool::new(true),
            cache: Mutex::new(None),
            hints: Mutex::new(HashMap::new()),
            reseeds: AtomicU64::new(0),
        })
    }

    /// The options.
    pub fn options(&self) -> &RedisOptions {
        &self.opts
    }

    pub(super) fn ns(&self) -> &str {
        &self.opts.namespace
    }

    pub(super) fn unavailable(&self, message: String) -> StateError {
        StateError::Unavailable {
            url: self.shown_url.clone(),
            message,
        }
    }

    pub(super) fn io(&self, e: &RedisError) -> StateError {
        self.unavailable(describe(e))
    }

    /// An error of a call that may have reached the server.
    pub(super) fn classify(&self, op: &str, e: &RedisError) -> StateError {
        if e.is_io_error()
            || e.is_timeout()
            || e.is_connection_dropped()
            || e.is_connection_refusal()
        {
            StateError::Ambiguous {
                url: self.shown_url.clone(),
                op: op.to_string(),
                message: describe(e),
            }
        } else {
            self.io(e)
        }
    }

    /// Whether the server answers (for health checks).
    pub async fn ping(&self) -> Result<(), StateError> {
        let mut conn = self.conn.clone();
        let pong: String = redis::cmd("PING")
            .query_async(&mut conn)
            .await
            .map_err(|e| self.io(&e))?;
        if pong == "PONG" {
            Ok(())
        } else {
            Err(self.unavailable(format!("PING answered {pong:?}")))
        }
    }
}
