//! The Redis backend: counters, live calls, reservations, call records
//! and the config itself in a Redis-compatible server (Redis ≥ 7, Valkey),
//! shared by every process of a service.
//!
//! ```no_run
//! # async fn service() -> Result<(), routecap::state::StateError> {
//! use routecap::core::route::Draws;
//! use routecap::state::redis::{RedisOptions, RedisState};
//! use routecap::state::Backend;
//! use routecap::Call;
//!
//! let doc = std::fs::read("buyers.json").expect("config");
//! let mut opts = RedisOptions::new("redis://127.0.0.1:6379");
//! opts.namespace = "acme-prod".to_string();
//! // every process of the service opens the same namespace
//! let state = RedisState::open_document(&doc, "buyers.json", None, opts).await?;
//! let at = "2026-11-23T15:00:00Z".parse().expect("instant");
//! let call = Call::new("call-1").request(&routecap::state::redis::new_op_id());
//! let plan = state.route(&call, at, &mut Draws::new(7)).await?;
//! // the request key makes a retry safe: it is answered as the first time
//! let _outcome = state.connect(&call, "east", at).await?;
//! # let _ = plan; Ok(()) }
//! ```
//!
//! On the command line: `routecap replay CONFIG EVENTS --state
//! redis://HOST:PORT --namespace NS` (also `check`, `route`, `usage`).
//!
//! # Guarantees
//!
//! Each lifecycle step runs as one server-side Lua function (one `FCALL`
//! of routecap's library, named after a hash of its source, loaded whenever
//! the server lacks it: first use, a restart without persistence,
//! `FUNCTION FLUSH`) that checks every cap of the target and of
//! every group containing it and then writes: no two processes can both
//! take the last unit of a cap, and no step is ever half-applied. Windows
//! and effective limits are computed by the caller
//! ([`routecap_core::effects`]) from the event's instant in each owner's
//! zone, never from the server clock, so replays are deterministic and
//! decisions equal the memory backend's (the CLI tests check this byte for
//! byte under `scripts/with-redis`).
//!
//! Every write carries an operation id; the call record keeps the last
//! operation applied to it and its reply, in the same write. Retrying an operation after an ambiguous
//! failure ([`StateError::Ambiguous`]) with the same id returns the first
//! answer and never applies twice. A connection failure is never read as
//! success or failure; an unreachable server is an error, never an admit.
//!
//! # Limits
//!
//! - Durability is the server's: run it with `appendonly yes`
//!   (`appendfsync everysec` loses at most a second on a crash). Replication
//!   is asynchronous: a failover can lose the last writes acknowledged by
//!   the old primary (counts lost means caps may be overrun by that much);
//!   `WAIT 1 0` after a step narrows this at a latency cost.
//! - Instants come from the callers: keep the clocks of every node in step
//!   (NTP). A node running ahead prunes leases and reservations early for
//!   everyone; one running behind counts in a window that already closed
//!   until some node counts in the next one, and then in the totals only.
//! - Money and counts must stay below 2^53 (Lua numbers).
//! - An event whose instant lies in the window before the owner's latest
//!   counted one counts there (memory drops it from the periodic counts:
//!   a slower node must not escape its window's caps); one of an older
//!   window counts in the totals only, as in memory. Events of one call
//!   are expected in time order.
//! - Caller history: a window lengthened by a config change beyond the
//!   config's former longest window may see events memory has already
//!   swept (memory's sweep depends on when events came; the server keeps
//!   a caller's fields until the key expires). Two `original` connects at
//!   the same instant tie by the order the server's hash lists targets. A
//!   target removed and re-added finds its callers' history (memory
//!   forgets it).
//!
//! # Sync and async
//!
//! [`RedisState`] is async (tokio, a multiplexed auto-reconnecting
//! connection) and implements [`Backend`](crate::state::Backend);
//! [`Blocking`](crate::state::Blocking) drives it with a small runtime of
//! its own for synchronous callers such as the CLI. Do not call `Blocking`
//! from inside an async task: await the backend there.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::{Arc, Mutex, RwLock};

use chrono::DateTime;
use redis::aio::ConnectionManager;
use redis::Script;
use routecap_core::caps::Usage;
use routecap_core::engine::EngineError;
use routecap_core::lifecycle::LifecycleError;
use routecap_core::model::{CandidateRef, Config};
use routecap_core::Instant;

use super::StateError;

// the synchronous wrapper, for callers outside an async runtime
mod backend;
// reads: the counters rebuilt from the server, their cache, call hints
mod cache;
// what a step sends of a caller's history, and reading it back
mod caller_history;
// the config the namespace holds, and changing it
mod config_store;
// options, connecting, client errors
mod connection;
// anchoring imported usage, usage imports
mod imported_usage;
// the key schema
mod keys;
// the lifecycle operations (connect … reset)
mod operations;
// the Lua scripts and how a step calls them
mod scripts;

pub use connection::{redact_url, RedisOptions};
pub use operations::new_op_id;
pub use scripts::connect_script_len;

use cache::Cached;
use config_store::Loaded;

/// The async Redis state. See the module docs.
pub struct RedisState {
    opts: RedisOptions,
    shown_url: String,
    conn: ConnectionManager,
    /// The step functions' library (see `scripts::library`) and the prefix
    /// of their names.
    library: String,
    fn_prefix: String,
    read: Script,
    anchor_script: Script,
    import_script: Script,
    config_script: Script,
    /// Swapped whole by a config change: a decision sees one config.
    loaded: RwLock<Arc<Loaded>>,
    /// The anchor the server holds, as far as we know (`None`: not yet).
    anchor: Mutex<Option<i64>>,
    /// Whether some owner's imported usage may still be unanchored.
    maybe_pending: AtomicBool,
    cache: Mutex<Option<Cached>>,
    /// Target id of calls this process connected or reserved: spares
    /// reading the call record before `end`/`convert`/`touch`/`cancel`
    /// (the script still checks it and names the right one when wrong).
    hints: Mutex<HashMap<String, String>>,
    /// How many times the namespace was found emptied and seeded again.
    reseeds: AtomicU64,
}

/// How often a step is retried when the config or the anchor moved.
const RETRIES: usize = 8;

impl std::fmt::Debug for RedisState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisState")
            .field("url", &self.shown_url)
            .field("namespace", &self.opts.namespace)
            .finish()
    }
}

fn lifecycle(e: LifecycleError) -> StateError {
    StateError::Engine(EngineError::Lifecycle(e))
}

fn owners_of(c: &Config) -> Vec<CandidateRef> {
    (0..c.targets.len())
        .map(CandidateRef::Target)
        .chain((0..c.groups.len()).map(CandidateRef::Group))
        .collect()
}

fn owner_zone(c: &Config, owner: CandidateRef) -> &routecap_core::zone::Zone {
    match owner {
        CandidateRef::Target(t) => &c.targets[t].zone,
        CandidateRef::Group(g) => &c.groups[g].zone,
    }
}

fn owner_usage(c: &Config, owner: CandidateRef) -> Usage {
    match owner {
        CandidateRef::Target(t) => c.targets[t].usage(),
        CandidateRef::Group(g) => c.groups[g].usage.clone(),
    }
}

fn owner_id(c: &Config, owner: CandidateRef) -> &str {
    match owner {
        CandidateRef::Target(t) => &c.targets[t].id,
        CandidateRef::Group(g) => &c.groups[g].id,
    }
}

fn ts(t: i64) -> Option<Instant> {
    DateTime::from_timestamp(t, 0)
}
