//! The Redis backend: counters, live calls, reservations, call records
//! and the config itself in a Redis-compatible server (Redis ≥ 7, Valkey),
//! shared by every process of a service.
//!
//! ```no_run
//! # async fn service() -> Result<(), routecap::state::StateError> {
//! use routecap::core::filter::CallAttrs;
//! use routecap::state::redis::{RedisOptions, RedisState};
//!
//! let doc = std::fs::read("buyers.json").expect("config");
//! let mut opts = RedisOptions::new("redis://127.0.0.1:6379");
//! opts.namespace = "acme-prod".to_string();
//! // every process of the service opens the same namespace
//! let state = RedisState::open_document(&doc, "buyers.json", None, opts).await?;
//! let at = "2026-11-23T15:00:00Z".parse().expect("instant");
//! let plan = state.route_view(at, 7, &CallAttrs::new()).await?;
//! let op = routecap::state::redis::new_op_id(); // keep it to retry safely
//! let _outcome = state.connect_op(&op, "call-1", "east", at).await?;
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
//! # Key schema
//!
//! Every key of namespace `NS` starts with the hash tag `{NS}`, so a whole
//! namespace lives in one cluster slot and every script may touch it.
//! An owner is `{NS}:t:<len>:<id>` (target) or `{NS}:g:<len>:<id>` (group),
//! `<len>` the id's byte length so that no two ids share keys:
//!
//! | key | type | content |
//! |---|---|---|
//! | `{NS}:config` | hash | `ver` (config version), `doc`/`format`/`file` (the config document; empty for a state opened from a bare `Config`), `anchor` (first instant imported usage was anchored to), `pending` (owners whose imported usage is not anchored yet) |
//! | `OWNER:o` | hash | `h`, `d`, `m`: start (Unix s) of the latest hour, day and month window counted, with `nh`, `nd`, `nm` its calls and `rh`, `rd`, `rm` its revenue in minor units (one slot per period, as memory keeps them); `h0`…`rm0`: the same for the window before (an event of a node running a little behind still counts against its window's caps there); `n`, `r`: total count and revenue since the last reset; `il`, `ilu`: imported live calls and until when they hold (absent: until anchored + lease); `hx`: the latest expiry of its reservations (absent: none; connects skip the held set once it has passed); `lp`: when a connect next prunes lapsed calls from the live set of an owner without a concurrency cap (at most once a lease: reads count by score, so pruning only bounds the set's size; an owner with a concurrency cap is pruned by every connect, so its set never holds more than the cap); `p`, `ph`…`prm`: imported periodic usage not anchored yet |
//! | `OWNER:live` | sorted set | connected calls scored by lease expiry |
//! | `OWNER:held` | sorted set | reservations scored by expiry |
//! | `{NS}:call:<len>:<id>` | hash | call record: `phase` (`r` reserved, `c` connected, `x` cancelled), `target`, `exp`, `lease`, `ended`, `conv`, `gone` (when it is forgotten), `caller` (a known caller's number), `op`/`rep` (the last operation applied to it and its reply) |
//! | `{NS}:caller:<len>:<number>` | hash | a known caller's history (`docs/semantics.md`, "Repeat and duplicate callers"): `c:<target>` / `v:<target>` the last connect / conversion there (Unix s), `last` the latest of them |
//! | `{NS}:op:<op>` | string | reply of an applied reset, for `call_retention_seconds` |
//!
//! Window counters are slots of the owner hash, keyed by their window's
//! start: the caller sends the starts of the windows containing the
//! event's instant (in the owner's zone), and a slot counts only when its
//! start is that window's, so a window stops counting exactly when the
//! event instant leaves it (the server clock never decides, and a replay
//! of past instants reads what it wrote). A count in a later window
//! takes the slot, the former one staying as the previous window's, so an
//! owner holds six slots whatever the time span, with no key and no `EXPIRE` per window: one
//! hash read and one hash write per owner and step (the server's cost is
//! per command). A call record is
//! forgotten exactly `call_retention_seconds` after it settles (its end,
//! or its lease running out; a reservation at its expiry): `gone` is
//! compared with event instants, so answers never depend on when the
//! server drops the key (it drops it then too, relative to the event).
//! A caller's history lives until its `last` event + the config's longest
//! caller-rule window + the same hour, relative to the event instant.
//! Sorted sets are counted by score inside the scripts: a call whose
//! process died frees its concurrency when its lease (`call_lease_seconds`
//! after connect or last touch) runs out. Lapsed entries are removed by
//! a connect: at once from an owner with a concurrency cap, at most one
//! lease later from another (`lp`: one command less per connect).
//!
//! # Imported usage and usage imports
//!
//! A namespace's first use stores every owner's imported usage in its
//! `OWNER:o` hash (totals and live calls at once; periodic amounts as
//! pending until anchored, or in the `as_of` windows when the config has
//! `as_of`). As in memory, pending usage is anchored to the windows of the
//! first accepted event or route decision: a step that would apply while
//! anything is pending answers `anchor`, the client runs the anchor script
//! at that instant for every owner, and the step runs again. A refusal
//! anchors nothing, as in memory.
//!
//! A usage import ([`RedisState::import_usage`]) is one atomic script: it
//! anchors first (as memory does), then each kind it names replaces the
//! counter of the window containing its instant (and the totals, and the
//! imported live calls, held until the import + lease). Every process sees
//! it at its next step or read: nothing of the import lives in a process.
//!
//! # Config changes
//!
//! The namespace holds the config document and its version. Every step
//! and read sends the version it runs; a script seeing another answers
//! `stale`, the process reloads the document (one `HMGET`) and asks again,
//! so every process switches at its next step, and a decision runs
//! against one config, never a mix. A change ([`RedisState::update_document`],
//! [`RedisState::patch`], [`RedisState::set_paused`]) is one script that
//! checks the version it was computed from (retried on a race), adds the
//! owners the server does not hold yet with their imported usage, deletes
//! the removed ones with their reservations (reported as dropped), and
//! rebuilds each group's live calls and reservations as the union of its
//! current members' (live calls move with members; counts stay). A
//! process opened with a document that differs from the namespace's makes
//! that change; one opened from a bare `Config` adopts the namespace's.
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
//! # Caller history
//!
//! When some rule of the config reads history (a target's `duplicates`, a
//! `repeat_callers` mode other than `normal`), a connect of a known caller
//! passes the caller's hash to the connect script, which refuses a
//! duplicate (the target's basis and window) or a `different` repeat (the
//! call's campaign's rule, else the config's) and records the connect in
//! the same script: of two concurrent connects of one caller to one
//! target under such a rule, at most one is admitted. The call record
//! keeps the caller, so the convert script records the conversion in the
//! caller's hash (built inside the script from the record: same hash tag,
//! same slot). `check` and `route` for a known caller read that caller's
//! hash in the same read script, and the cache serves them only when it
//! was read with that caller. Reasons (`duplicate_caller`,
//! `repeat_caller`, their `until` and detail) come from the core judging
//! the rebuilt history, as memory's.
//!
//! # Reads
//!
//! `check` and `route` read a core state rebuilt from one read-only
//! script, cached for at most `refresh` and only while no window, lease
//! or reservation it saw has ended. A step this process applies is applied
//! to the cache too, by memory's own rules, so reads see the process's
//! own writes at once (other processes' within `refresh`); when the cache
//! disagrees (a call it never saw, a refusal the server did not make) or a
//! write is ambiguous, it is dropped. `connect` and `reserve` never read
//! it; a refusal reads the server again to list every reason.
//!
//! # Sync and async
//!
//! [`RedisState`] is async (tokio, a multiplexed auto-reconnecting
//! connection); [`RedisBackend`] wraps it with its own small runtime for
//! synchronous callers such as the CLI. Do not call [`RedisBackend`] from
//! inside an async task: use [`RedisState`] there.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

use chrono::DateTime;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{ErrorKind, RedisError, Script};
use routecap_core::callers::{self, Basis, RepeatMode};
use routecap_core::caps::{ImportedUsage, Period, Trigger, Usage};
use routecap_core::effects::{self, OwnerEffect};
use routecap_core::eligibility::{self, CandidateReport, ReasonCode};
use routecap_core::engine::EngineError;
use routecap_core::filter::CallAttrs;
use routecap_core::formats::live::{parse_usage, OwnerKind, Source};
use routecap_core::formats::Format;
use routecap_core::lifecycle::{ConnectOutcome, LifecycleError, State};
use routecap_core::live::{Dropped, UsageImport, UsageImportError};
use routecap_core::model::{CandidateRef, Config};
use routecap_core::money::Money;
use routecap_core::render::{CheckView, RouteView, UsageView};
use routecap_core::route::RouteRng;
use routecap_core::snapshot::{
    CallSnapshot, CallerSnapshot, OwnerSnapshot, SlotSnapshot, Snapshot,
};
use routecap_core::window::window_start;
use routecap_core::Instant;

use super::{lua, StateError};

mod backend;
use crate::Engine;
pub use backend::RedisBackend;

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

/// A fresh operation id: unique across processes and hosts in practice.
pub fn new_op_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(n);
    h.write_u32(std::process::id());
    format!(
        "{:x}-{:x}-{:x}-{:016x}",
        std::process::id(),
        nanos,
        n,
        h.finish()
    )
}

/// The counters of every owner at one instant, rebuilt as a core engine.
struct Cached {
    fetched: std::time::Instant,
    ver: String,
    /// The caller whose whole history was read with it (others' history
    /// in it may be partial: this process's own writes only).
    caller: Option<String>,
    at: i64,
    valid_until: i64,
    engine: Arc<Engine>,
}

/// The config in force, as this process knows it.
struct Loaded {
    config: Arc<Config>,
    /// The document, when the namespace holds one (patches need it).
    source: Option<Source>,
    /// The namespace's config version this is (`""`: none yet).
    ver: String,
    /// The config's own usage with nothing counted: filters are judged
    /// against it before a connect (only their reasons are read).
    blank: State,
    /// Each owner's keys (hash, live, held), targets then groups in
    /// config order: built once per config, not per step.
    keys: Vec<[String; 3]>,
}

impl Loaded {
    fn new(config: Arc<Config>, source: Option<Source>, ver: String, ns: &str) -> Arc<Loaded> {
        let blank = State::new(&config);
        let keys = owners_of(&config)
            .into_iter()
            .map(|o| owner_keys(&prefix_in(ns, &config, o)))
            .collect();
        Arc::new(Loaded {
            config,
            source,
            ver,
            blank,
            keys,
        })
    }

    /// The keys of `owner` (hash, live, held).
    fn keys_of(&self, owner: CandidateRef) -> &[String; 3] {
        let i = match owner {
            CandidateRef::Target(t) => t,
            CandidateRef::Group(g) => self.config.targets.len() + g,
        };
        &self.keys[i]
    }
}

/// The key prefix of an owner: `{NS}:t:<len>:<id>` or `{NS}:g:<len>:<id>`.
fn owner_prefix_in(ns: &str, kind: &str, id: &str) -> String {
    format!("{{{ns}}}:{kind}:{}:{id}", id.len())
}

fn prefix_in(ns: &str, c: &Config, owner: CandidateRef) -> String {
    match owner {
        CandidateRef::Target(t) => owner_prefix_in(ns, "t", &c.targets[t].id),
        CandidateRef::Group(g) => owner_prefix_in(ns, "g", &c.groups[g].id),
    }
}

/// The 3 keys of an owner with prefix `p`: its hash (totals, window
/// slots, imported usage), live calls, reservations.
fn owner_keys(p: &str) -> [String; 3] {
    [format!("{p}:o"), format!("{p}:live"), format!("{p}:held")]
}

/// The async Redis state. See the module docs.
pub struct RedisState {
    opts: RedisOptions,
    shown_url: String,
    conn: ConnectionManager,
    /// The step functions' library (see `lua::library`) and the prefix
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
}

/// Most call-target hints kept; past it they are all dropped.
const MAX_HINTS: usize = 100_000;

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

/// A lifecycle step as the scripts name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    Connect,
    Reserve,
    Convert,
    End,
    Touch,
    Cancel,
    Reset,
}

impl Step {
    fn name(self) -> &'static str {
        match self {
            Step::Connect => "connect",
            Step::Reserve => "reserve",
            Step::Convert => "convert",
            Step::End => "end",
            Step::Touch => "touch",
            Step::Cancel => "cancel",
            Step::Reset => "reset",
        }
    }
}

/// What a step script answered, once the retries are sorted out.
enum Reply {
    /// `ok`, `refused` or `err:…`.
    Done(String),
    /// The call is on this other target: ask again there.
    OtherTarget(String),
    /// The config or anchor moved (already reloaded): ask again.
    Again,
}

/// The keys and arguments of one step function call (`FCALL`).
#[derive(Default)]
struct StepCall {
    keys: Vec<String>,
    args: Vec<String>,
}

impl StepCall {
    fn key(&mut self, k: impl ToString) -> &mut Self {
        self.keys.push(k.to_string());
        self
    }

    fn arg(&mut self, a: impl ToString) -> &mut Self {
        self.args.push(a.to_string());
        self
    }
}

/// The caller-rule part of a step script's call (see `lua.rs`): the
/// caller's history key, when the script reads or writes it, and the
/// arguments after the owners'.
#[derive(Default)]
struct CallerArgs {
    key: Option<String>,
    args: Vec<String>,
}

fn lifecycle(e: LifecycleError) -> StateError {
    StateError::Engine(EngineError::Lifecycle(e))
}

/// An `Option<u64>`/`Option<Money>` limit as a script argument.
fn lim<T: ToString>(v: Option<T>) -> String {
    v.map_or_else(String::new, |v| v.to_string())
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
        let (library, fn_prefix) = lua::library();
        let loaded = RwLock::new(Loaded::new(config, source, String::new(), &opts.namespace));
        Ok(RedisState {
            opts,
            shown_url,
            conn,
            library,
            fn_prefix,
            read: Script::new(lua::READ),
            anchor_script: Script::new(lua::ANCHOR),
            import_script: Script::new(lua::IMPORT),
            config_script: Script::new(lua::CONFIG),
            loaded,
            anchor: Mutex::new(None),
            maybe_pending: AtomicBool::new(true),
            cache: Mutex::new(None),
            hints: Mutex::new(HashMap::new()),
        })
    }

    /// Join the namespace: store or adopt the config (see `open*`).
    async fn join(&self, with_document: bool) -> Result<(), StateError> {
        for _ in 0..RETRIES {
            let stored = self.stored_config().await?;
            let mine = self.loaded();
            match (&stored, with_document) {
                // the namespace runs a document and we bring none: adopt it
                (Some((_, Some(_))), false) => {
                    self.reload_from(stored.clone()).await?;
                    return self.refresh_anchor().await;
                }
                // the same document: continue with it
                (Some((ver, Some(src))), true)
                    if mine.source.as_ref().map(Source::document) == Some(src.document()) =>
                {
                    self.set_loaded(Loaded::new(
                        mine.config.clone(),
                        mine.source.clone(),
                        ver.clone(),
                        self.ns(),
                    ));
                    return self.refresh_anchor().await;
                }
                _ => {}
            }
            let expected = stored.as_ref().map_or(String::new(), |(v, _)| v.clone());
            let old = match &stored {
                Some((_, Some(src))) => {
                    Source::from_value(src.document().clone(), "stored", Some(src.format()))
                        .ok()
                        .map(|(_, c)| c)
                }
                _ => None,
            };
            let bump = with_document || stored.is_none();
            match self
                .apply_config(
                    &mine.config,
                    mine.source.as_ref(),
                    old.as_ref(),
                    &expected,
                    bump,
                )
                .await?
            {
                Some((ver, _)) => {
                    self.set_loaded(Loaded::new(
                        mine.config.clone(),
                        mine.source.clone(),
                        ver,
                        self.ns(),
                    ));
                    return self.refresh_anchor().await;
                }
                None => continue,
            }
        }
        Err(self.unavailable("the namespace's config kept changing".to_string()))
    }

    /// The config in force.
    pub fn config(&self) -> Arc<Config> {
        self.loaded().config.clone()
    }

    fn loaded(&self) -> Arc<Loaded> {
        self.loaded
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn set_loaded(&self, l: Arc<Loaded>) {
        *self.loaded.write().unwrap_or_else(PoisonError::into_inner) = l;
        self.maybe_pending.store(true, Ordering::Relaxed);
        self.invalidate();
    }

    /// The options.
    pub fn options(&self) -> &RedisOptions {
        &self.opts
    }

    fn ns(&self) -> &str {
        &self.opts.namespace
    }

    fn unavailable(&self, message: String) -> StateError {
        StateError::Unavailable {
            url: self.shown_url.clone(),
            message,
        }
    }

    fn io(&self, e: &RedisError) -> StateError {
        self.unavailable(describe(e))
    }

    fn owner_prefix(&self, kind: &str, id: &str) -> String {
        owner_prefix_in(self.ns(), kind, id)
    }

    fn prefix_of(&self, c: &Config, owner: CandidateRef) -> String {
        prefix_in(self.ns(), c, owner)
    }

    /// Pass owner `o`'s hash as a key; returns the starts of the hour, day
    /// and month windows containing `at` (Unix s) for `ARGV`. Without an
    /// instant, 0 (nothing to anchor).
    fn window_keys(
        &self,
        inv: &mut redis::ScriptInvocation<'_>,
        c: &Config,
        o: CandidateRef,
        at: Option<Instant>,
    ) -> [i64; 3] {
        inv.key(format!("{}:o", self.prefix_of(c, o)));
        let zone = owner_zone(c, o);
        at.map_or([0; 3], |a| {
            Period::ALL.map(|per| window_start(zone, per, a))
        })
    }

    fn config_key(&self) -> String {
        format!("{{{}}}:config", self.ns())
    }

    fn call_prefix(&self) -> String {
        format!("{{{}}}:call:", self.ns())
    }

    fn call_key(&self, call: &str) -> String {
        format!("{}{}:{call}", self.call_prefix(), call.len())
    }

    fn caller_prefix(&self) -> String {
        format!("{{{}}}:caller:", self.ns())
    }

    /// The hash of a known caller's history (`duplicates`, `repeat_callers`).
    fn caller_key(&self, caller: &str) -> String {
        format!("{}{}:{caller}", self.caller_prefix(), caller.len())
    }

    /// The caller part of a connect to target `t`: the caller is kept in
    /// the call record; its history is read and written only when some
    /// rule of the config reads it.
    fn connect_callers(&self, c: &Config, t: usize, attrs: &CallAttrs) -> CallerArgs {
        let Some(caller) = attrs.caller() else {
            return CallerArgs::default();
        };
        let keep = c.caller_window();
        if keep == 0 {
            return CallerArgs {
                key: None,
                args: vec![caller.to_string()],
            };
        }
        let (basis, dw) = match c.targets[t].duplicates() {
            Some(d) => (
                match d.basis {
                    Basis::Connect => "c",
                    Basis::Convert => "v",
                },
                d.window.to_string(),
            ),
            None => ("", String::new()),
        };
        let different = callers::repeat_rule(c, attrs)
            .filter(|r| r.mode == RepeatMode::Different)
            .map_or_else(String::new, |r| r.window.to_string());
        CallerArgs {
            key: Some(self.caller_key(caller)),
            args: vec![
                caller.to_string(),
                keep.to_string(),
                basis.to_string(),
                dw,
                different,
            ],
        }
    }

    fn op_key(&self, op: &str) -> String {
        format!("{{{}}}:op:{op}", self.ns())
    }

    fn known_anchor(&self) -> Option<i64> {
        *self.anchor.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn set_anchor(&self, a: Option<i64>) {
        *self.anchor.lock().unwrap_or_else(PoisonError::into_inner) = a;
    }

    fn invalidate(&self) {
        *self.cache.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }

    /// Apply a step the server just applied to the cached state too (the
    /// same rules as memory), so reads see this process's own writes at
    /// once; `apply` answers whether the cache took it the same way, else
    /// the cache is dropped (e.g. a call it never saw).
    fn cache_apply(&self, apply: impl FnOnce(&Engine) -> bool) {
        let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(c) = &*cache {
            if !apply(&c.engine) {
                *cache = None;
            }
        }
    }

    /// The namespace's version and document (`None`: an empty namespace;
    /// an inner `None`: a namespace without a document).
    async fn stored_config(&self) -> Result<Option<(String, Option<Source>)>, StateError> {
        let mut conn = self.conn.clone();
        let (ver, doc, format, file): (
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
        ) = redis::cmd("HMGET")
            .arg(self.config_key())
            .arg("ver")
            .arg("doc")
            .arg("format")
            .arg("file")
            .query_async(&mut conn)
            .await
            .map_err(|e| self.io(&e))?;
        let Some(ver) = ver else { return Ok(None) };
        let source = match doc.filter(|d| !d.is_empty()) {
            None => None,
            Some(doc) => {
                let bad = |m: String| self.unavailable(format!("stored config document: {m}"));
                let value: serde_json::Value =
                    serde_json::from_str(&doc).map_err(|e| bad(e.to_string()))?;
                let format = format.and_then(|f| f.parse::<Format>().ok());
                let file = file.unwrap_or_else(|| "config".to_string());
                let (source, _) =
                    Source::from_value(value, &file, format).map_err(|e| bad(e.to_string()))?;
                Some(source)
            }
        };
        Ok(Some((ver, source)))
    }

    /// Switch to the config the namespace holds now.
    async fn reload(&self) -> Result<(), StateError> {
        let stored = self.stored_config().await?;
        self.reload_from(stored).await
    }

    async fn reload_from(
        &self,
        stored: Option<(String, Option<Source>)>,
    ) -> Result<(), StateError> {
        let mine = self.loaded();
        match stored {
            None => Err(self.unavailable(format!(
                "namespace {:?} was emptied while in use (FLUSHDB?)",
                self.ns()
            ))),
            Some((ver, None)) => {
                self.set_loaded(Loaded::new(mine.config.clone(), None, ver, self.ns()));
                Ok(())
            }
            Some((ver, Some(source))) => {
                let (source, config) =
                    Source::from_value(source.document().clone(), "stored", Some(source.format()))
                        .map_err(|e| self.unavailable(format!("stored config document: {e}")))?;
                self.set_loaded(Loaded::new(Arc::new(config), Some(source), ver, self.ns()));
                Ok(())
            }
        }
    }

    async fn refresh_anchor(&self) -> Result<(), StateError> {
        let mut conn = self.conn.clone();
        let a: Option<i64> = redis::cmd("HGET")
            .arg(self.config_key())
            .arg("anchor")
            .query_async(&mut conn)
            .await
            .map_err(|e| self.io(&e))?;
        self.set_anchor(a);
        Ok(())
    }

    /// The `ver:anchor` a script expects.
    fn expect(&self, l: &Loaded) -> String {
        let a = self.known_anchor().map_or(String::new(), |a| a.to_string());
        format!("{}:{a}", l.ver)
    }

    /// After a `stale:VER:ANCHOR` reply: reload what moved.
    async fn on_stale(&self, l: &Loaded, seen: &str) -> Result<(), StateError> {
        let (ver, anchor) = seen.split_once(':').unwrap_or((seen, ""));
        self.set_anchor(anchor.parse().ok());
        if ver != l.ver {
            self.reload().await?;
        }
        self.invalidate();
        Ok(())
    }

    /// The amounts of an owner's imported usage as script arguments:
    /// hourly, daily, monthly counts and revenues, total, total revenue,
    /// live.
    fn usage_args(u: &Usage) -> [String; 9] {
        [
            u.hourly.to_string(),
            u.daily.to_string(),
            u.monthly.to_string(),
            u.hourly_revenue.minor().to_string(),
            u.daily_revenue.minor().to_string(),
            u.monthly_revenue.minor().to_string(),
            u.total.to_string(),
            u.total_revenue.minor().to_string(),
            u.live.to_string(),
        ]
    }

    /// Run the config script: births of `new`'s owners the server lacks,
    /// deaths of `old`'s owners `new` lacks, group unions, and (with
    /// `bump`) the new document and version. `None` when the namespace's
    /// version was not `expected` (nothing changed).
    async fn apply_config(
        &self,
        new: &Config,
        source: Option<&Source>,
        old: Option<&Config>,
        expected: &str,
        bump: bool,
    ) -> Result<Option<(String, Dropped)>, StateError> {
        let mut inv = self.config_script.prepare_invoke();
        inv.key(self.config_key());
        let (doc, format, file) = match source {
            Some(s) => (
                s.document().to_string(),
                s.format().to_string(),
                "config".to_string(),
            ),
            None => (String::new(), String::new(), String::new()),
        };
        let owners = owners_of(new);
        let as_of = new.as_of;
        let mut removed = Vec::new();
        let mut dropped = Dropped::default();
        if let Some(old) = old {
            for t in &old.targets {
                if new.target_index(&t.id).is_none() && !removed.contains(&("t", t.id.clone())) {
                    removed.push(("t", t.id.clone()));
                    dropped.targets.push(t.id.clone());
                }
            }
            for g in &old.groups {
                if new.group_index(&g.id).is_none() && !removed.contains(&("g", g.id.clone())) {
                    removed.push(("g", g.id.clone()));
                    dropped.groups.push(g.id.clone());
                }
            }
        }
        inv.arg(if expected.is_empty() && old.is_none() && bump {
            "*"
        } else {
            expected
        });
        inv.arg(if bump { "bump" } else { "keep" })
            .arg(&doc)
            .arg(&format)
            .arg(&file)
            .arg(owners.len())
            .arg(removed.len())
            .arg(new.groups.len())
            .arg(self.call_prefix())
            .arg(if as_of.is_some() { "1" } else { "0" })
            .arg(as_of.map_or(0, |a| a.timestamp()));
        let lease = i64::try_from(new.call_lease_seconds).unwrap_or(i64::MAX);
        for &o in &owners {
            let starts = self.window_keys(&mut inv, new, o, as_of);
            for v in Self::usage_args(&owner_usage(new, o)) {
                inv.arg(v);
            }
            for start in starts {
                inv.arg(start);
            }
            inv.arg(as_of.map_or(0, |a| a.timestamp().saturating_add(lease)));
        }
        for (kind, id) in &removed {
            let p = self.owner_prefix(kind, id);
            inv.key(format!("{p}:o"))
                .key(format!("{p}:live"))
                .key(format!("{p}:held"));
            inv.arg(*kind);
        }
        for (g, group) in new.groups.iter().enumerate() {
            let p = self.prefix_of(new, CandidateRef::Group(g));
            inv.key(format!("{p}:o"))
                .key(format!("{p}:live"))
                .key(format!("{p}:held"));
            let members: Vec<usize> = {
                let mut m = group.members.clone();
                m.sort_unstable();
                m.dedup();
                m
            };
            for &m in &members {
                let mp = self.prefix_of(new, CandidateRef::Target(m));
                inv.key(format!("{mp}:live")).key(format!("{mp}:held"));
            }
            inv.arg(members.len());
        }
        let mut conn = self.conn.clone();
        let reply: Vec<String> = inv
            .invoke_async(&mut conn)
            .await
            .map_err(|e| self.classify("config", &e))?;
        self.invalidate();
        self.maybe_pending.store(true, Ordering::Relaxed);
        match reply.first().map(String::as_str) {
            Some("ok") => {
                let ver = reply.get(1).cloned().unwrap_or_default();
                dropped.calls = reply[2..].to_vec();
                dropped.calls.sort();
                Ok(Some((ver, dropped)))
            }
            Some("stale") => Ok(None),
            _ => Err(self.unavailable(format!("unexpected config script reply {reply:?}"))),
        }
    }

    /// Switch every process of the namespace to the config `change` makes
    /// of the one in force (retried on the config the namespace holds when
    /// another process changed it meanwhile).
    async fn change_config(
        &self,
        change: impl Fn(&Loaded) -> Result<(Source, Config), StateError>,
    ) -> Result<Dropped, StateError> {
        for _ in 0..RETRIES {
            let l = self.loaded();
            let (source, config) = change(&l)?;
            match self
                .apply_config(&config, Some(&source), Some(&l.config), &l.ver, true)
                .await?
            {
                Some((ver, dropped)) => {
                    self.set_loaded(Loaded::new(Arc::new(config), Some(source), ver, self.ns()));
                    return Ok(dropped);
                }
                None => self.reload().await?,
            }
        }
        Err(self.unavailable("the namespace's config kept changing".to_string()))
    }

    /// Replace the whole config (a document in any shape; `file` names it
    /// in errors) for every process of the namespace: counters, live calls
    /// and reservations are kept by id (`docs/semantics.md`, "Live changes"). What was dropped is
    /// returned.
    pub async fn update_document(&self, bytes: &[u8], file: &str) -> Result<Dropped, StateError> {
        let (source, config) =
            Source::parse(bytes, file, None).map_err(|e| StateError::Engine(e.into()))?;
        self.change_config(|_| Ok((source.clone(), config.clone())))
            .await
    }

    /// [`RedisState::update_document`] of an already-decoded document.
    pub async fn update_value(
        &self,
        doc: &serde_json::Value,
        file: &str,
    ) -> Result<Dropped, StateError> {
        let (source, config) = Source::from_value(doc.clone(), file, None)
            .map_err(|e| StateError::Engine(e.into()))?;
        self.change_config(|_| Ok((source.clone(), config.clone())))
            .await
    }

    /// The id of the target (or group) named `name` (Retreaver targets
    /// may be named by `tid`).
    pub fn resolve(&self, kind: OwnerKind, name: &str) -> Result<String, StateError> {
        resolve_in(&self.loaded(), kind, name)
    }

    /// Patch one target or group (a partial object in the config's own
    /// shape, JSON bytes) for every process of the namespace; state is kept by id.
    /// [`RedisState::patch_value`] reports what was dropped.
    pub async fn patch(&self, kind: OwnerKind, id: &str, patch: &[u8]) -> Result<(), StateError> {
        let value: serde_json::Value = serde_json::from_slice(patch).map_err(|e| {
            StateError::Engine(EngineError::Config(
                routecap_core::formats::ConfigError::unreadable("patch", format!("not JSON: {e}")),
            ))
        })?;
        self.patch_value(kind, id, &value, "patch")
            .await
            .map(|_| ())
    }

    /// [`RedisState::patch`] of a decoded patch; `request` names it in errors.
    pub async fn patch_value(
        &self,
        kind: OwnerKind,
        name: &str,
        patch: &serde_json::Value,
        request: &str,
    ) -> Result<Dropped, StateError> {
        self.change_config(|l| {
            let id = resolve_in(l, kind, name)?;
            let source = l
                .source
                .as_ref()
                .ok_or(StateError::Engine(EngineError::NoSource))?;
            source
                .patch(kind, &id, patch, request)
                .map_err(|e| StateError::Engine(e.into()))
        })
        .await
    }

    /// Pause (`true`) or resume a target, or every member of a group, for
    /// every process of the namespace.
    pub async fn set_paused(
        &self,
        kind: OwnerKind,
        name: &str,
        paused: bool,
    ) -> Result<(), StateError> {
        self.change_config(|l| {
            let id = resolve_in(l, kind, name)?;
            let c = &l.config;
            let members: Vec<String> = match kind {
                OwnerKind::Target => vec![id],
                OwnerKind::Group => {
                    let g = c
                        .group_index(&id)
                        .ok_or_else(|| StateError::Engine(EngineError::UnknownGroup(id.clone())))?;
                    c.groups[g]
                        .members
                        .iter()
                        .filter_map(|&m| c.targets.get(m))
                        .map(|t| t.id.clone())
                        .collect()
                }
            };
            let mut source = l
                .source
                .clone()
                .ok_or(StateError::Engine(EngineError::NoSource))?;
            let field = match source.format() {
                Format::Ringba => serde_json::json!({"enabled": !paused}),
                _ => serde_json::json!({"paused": paused}),
            };
            let mut config = (*l.config).clone();
            for m in &members {
                let (s, c) = source
                    .patch(OwnerKind::Target, m, &field, "pause")
                    .map_err(|e| StateError::Engine(e.into()))?;
                source = s;
                config = c;
            }
            Ok((source, config))
        })
        .await
        .map(|_| ())
    }

    /// Anchor imported usage not anchored yet to the windows containing
    /// `at`, for every process (a no-op once anchored).
    pub async fn anchor(&self, at: Instant) -> Result<(), StateError> {
        if !self.maybe_pending.load(Ordering::Relaxed) {
            return Ok(());
        }
        for _ in 0..RETRIES {
            let l = self.loaded();
            let c = &*l.config;
            let mut inv = self.anchor_script.prepare_invoke();
            inv.key(self.config_key());
            let owners = owners_of(c);
            inv.arg(at.timestamp())
                .arg(c.call_lease_seconds)
                .arg(&l.ver)
                .arg(owners.len());
            for &o in &owners {
                for start in self.window_keys(&mut inv, c, o, Some(at)) {
                    inv.arg(start);
                }
            }
            let mut conn = self.conn.clone();
            let reply: String = inv
                .invoke_async(&mut conn)
                .await
                .map_err(|e| self.classify("anchor", &e))?;
            self.invalidate();
            if let Some(seen) = reply.strip_prefix("stale:") {
                self.on_stale(&l, seen).await?;
                continue;
            }
            if self.known_anchor().is_none() {
                self.refresh_anchor().await?;
            }
            self.maybe_pending.store(false, Ordering::Relaxed);
            return Ok(());
        }
        Err(self.unavailable("the namespace's config kept changing".to_string()))
    }

    /// Merge a platform usage snapshot taken at `at` for every process of
    /// the namespace, in one atomic script: each kind it names replaces
    /// what the state holds for the window containing `at` (`docs/semantics.md`, "Live changes");
    /// an id the config lacks refuses the whole import.
    pub async fn import_usage(&self, at: Instant, usage: &UsageImport) -> Result<(), StateError> {
        Self::check_instant(at)?;
        for _ in 0..RETRIES {
            let l = self.loaded();
            let c = &*l.config;
            let mut resolved = Vec::with_capacity(usage.owners.len());
            for (id, u) in &usage.owners {
                let owner = resolve_usage_owner(c, id, usage.ignore_case).ok_or_else(|| {
                    StateError::Engine(EngineError::Usage(UsageImportError::UnknownOwner(
                        id.clone(),
                    )))
                })?;
                resolved.push((owner, u));
            }
            self.maybe_pending.store(true, Ordering::Relaxed);
            self.anchor(at).await?;
            let lease = i64::try_from(c.call_lease_seconds).unwrap_or(i64::MAX);
            let mut inv = self.import_script.prepare_invoke();
            inv.key(self.config_key());
            inv.arg(at.timestamp())
                .arg(at.timestamp().saturating_add(lease))
                .arg(&l.ver)
                .arg(resolved.len());
            for (o, u) in &resolved {
                let starts = self.window_keys(&mut inv, c, *o, Some(at));
                for v in imported_args(u) {
                    inv.arg(v);
                }
                for start in starts {
                    inv.arg(start);
                }
            }
            let mut conn = self.conn.clone();
            let reply: String = inv
                .invoke_async(&mut conn)
                .await
                .map_err(|e| self.classify("usage import", &e))?;
            self.invalidate();
            if let Some(seen) = reply.strip_prefix("stale:") {
                self.on_stale(&l, seen).await?;
                continue;
            }
            return Ok(());
        }
        Err(self.unavailable("the namespace's config kept changing".to_string()))
    }

    /// [`RedisState::import_usage`] of a JSON document in any of the three
    /// shapes; `request` names it in errors.
    pub async fn import_usage_json(
        &self,
        at: Instant,
        usage: &serde_json::Value,
        request: &str,
    ) -> Result<(), StateError> {
        let usage = parse_usage(usage, request).map_err(|e| StateError::Engine(e.into()))?;
        self.import_usage(at, &usage).await
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

    /// Run step `step` for `call` on target `target` (index `t` in `l`'s
    /// config; `None`: a target the config no longer has).
    #[allow(clippy::too_many_arguments)]
    async fn run(
        &self,
        l: &Loaded,
        step: Step,
        op: &str,
        call: &str,
        target: &str,
        t: Option<usize>,
        at: Instant,
        a8: &str,
        a9: &str,
        callers: &CallerArgs,
    ) -> Result<Reply, StateError> {
        let c = &*l.config;
        // end, touch and cancel only move calls in and out of live and
        // held sets: their owners, without windows or limits
        let moves = matches!(step, Step::End | Step::Touch | Step::Cancel);
        let effects = match t {
            Some(t) if !moves => effects::owners(c, t, at),
            _ => Vec::new(),
        };
        let owners: Vec<CandidateRef> = match t {
            Some(t) if moves => std::iter::once(CandidateRef::Target(t))
                .chain(c.groups_of(t).map(CandidateRef::Group))
                .collect(),
            _ => effects.iter().map(|e| e.owner).collect(),
        };
        let mut inv = StepCall::default();
        inv.key(self.config_key())
            .key(self.op_key(op))
            .key(self.call_key(call));
        inv.arg(at.timestamp())
            .arg(c.call_retention_seconds)
            .arg(c.call_lease_seconds)
            .arg(self.expect(l))
            .arg(owners.len())
            .arg(call)
            .arg(target)
            .arg(a8)
            .arg(a9);
        if moves {
            for &o in &owners {
                let [_, live, held] = l.keys_of(o);
                inv.key(live).key(held);
            }
        } else {
            let anchor = c
                .as_of
                .map(|a| a.timestamp())
                .or_else(|| self.known_anchor())
                .and_then(ts);
            for e in &effects {
                Self::push_owner(l, &mut inv, e, anchor);
            }
        }
        if let Some(key) = &callers.key {
            inv.key(key);
        }
        for a in &callers.args {
            inv.arg(a);
        }
        let reply = self.fcall(step, &inv).await.map_err(|e| {
            // it may have applied: the cache cannot tell
            self.invalidate();
            self.classify(op, &e)
        })?;
        if let Some(seen) = reply.strip_prefix("stale:") {
            self.on_stale(l, seen).await?;
            return Ok(Reply::Again);
        }
        if reply == "anchor" {
            self.maybe_pending.store(true, Ordering::Relaxed);
            self.anchor(at).await?;
            return Ok(Reply::Again);
        }
        if let Some(other) = reply.strip_prefix("target:") {
            return Ok(Reply::OtherTarget(other.to_string()));
        }
        Ok(Reply::Done(reply))
    }

    /// An owner's 3 keys and 12 arguments (window starts, then limits).
    fn push_owner(l: &Loaded, inv: &mut StepCall, e: &OwnerEffect, anchor: Option<Instant>) {
        for k in l.keys_of(e.owner) {
            inv.key(k);
        }
        // memory keeps no window before the one imported usage anchors
        // to: an event in an older window counts in the totals only ("-")
        let zone = owner_zone(&l.config, e.owner);
        for (p, w) in Period::ALL.into_iter().zip(&e.windows) {
            let start = w.start.timestamp();
            match anchor {
                Some(a) if window_start(zone, p, a) > start => inv.arg("-"),
                _ => inv.arg(start),
            };
        }
        let lim_ = &e.limits;
        inv.arg(lim(lim_.hourly))
            .arg(lim(lim_.daily))
            .arg(lim(lim_.monthly))
            .arg(lim(lim_.total))
            .arg(lim(lim_.hourly_revenue.map(Money::minor)))
            .arg(lim(lim_.daily_revenue.map(Money::minor)))
            .arg(lim(lim_.monthly_revenue.map(Money::minor)))
            .arg(lim(lim_.total_revenue.map(Money::minor)))
            .arg(lim(e.concurrency));
    }

    /// Call step `step`'s function; a server that lacks the library (a
    /// first use, a restart without persistence, `FUNCTION FLUSH`) gets
    /// it loaded and the call is made again (nothing ran the first time).
    async fn fcall(&self, step: Step, call: &StepCall) -> Result<String, RedisError> {
        let name = format!("{}{}", self.fn_prefix, step.name());
        let mut conn = self.conn.clone();
        let mut loaded = false;
        loop {
            let reply = redis::cmd("FCALL")
                .arg(&name)
                .arg(call.keys.len())
                .arg(&call.keys)
                .arg(&call.args)
                .query_async::<String>(&mut conn)
                .await;
            match reply {
                Err(e) if !loaded && e.to_string().contains("Function not found") => {
                    let _: String = redis::cmd("FUNCTION")
                        .arg("LOAD")
                        .arg("REPLACE")
                        .arg(&self.library)
                        .query_async(&mut conn)
                        .await?;
                    loaded = true;
                }
                r => return r,
            }
        }
    }

    /// An error of a call that may have reached the server.
    fn classify(&self, op: &str, e: &RedisError) -> StateError {
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

    fn target_in(l: &Loaded, id: &str) -> Result<usize, StateError> {
        l.config
            .target_index(id)
            .ok_or_else(|| StateError::Engine(EngineError::UnknownTarget(id.to_string())))
    }

    fn check_instant(at: Instant) -> Result<(), StateError> {
        if routecap_core::zone::is_supported(at) {
            Ok(())
        } else {
            Err(lifecycle(LifecycleError::UnsupportedInstant(at)))
        }
    }

    fn hint(&self, call: &str) -> Option<String> {
        self.hints
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(call)
            .cloned()
    }

    fn set_hint(&self, call: &str, target: Option<&str>) {
        let mut hints = self.hints.lock().unwrap_or_else(PoisonError::into_inner);
        match target {
            None => {
                hints.remove(call);
            }
            Some(t) => {
                if hints.len() >= MAX_HINTS {
                    hints.clear();
                }
                hints.insert(call.to_string(), t.to_string());
            }
        }
    }

    /// A refusal with every reason, read from the server. A reservation of
    /// `skip` is left out, as memory re-checks a confirmation without it.
    /// `None` when the refusal does not stand: the namespace's config moved
    /// since `l` (another process resumed or changed the target: decide
    /// again under the new one), or the server state lists no reason any
    /// more (a call ended meanwhile: ask again).
    async fn refusal(
        &self,
        l: &Loaded,
        t: usize,
        at: Instant,
        skip: Option<&str>,
        attrs: &CallAttrs,
    ) -> Result<Option<ConnectOutcome>, StateError> {
        let engine = self
            .fetch_skipping(at, skip, history_of(&l.config, attrs))
            .await?;
        if self.loaded().ver != l.ver {
            return Ok(None);
        }
        let mut reasons = Vec::new();
        engine.with_state(|c, s| {
            if c.targets.get(t).is_some() {
                eligibility::target_reasons_seen(c, s, t, at, attrs, s.callers(), &mut reasons)
            }
        });
        Ok((!reasons.is_empty()).then_some(ConnectOutcome::Refused(reasons)))
    }

    /// The phase (`c`/`r`) and target of `call` unless it is absent, an
    /// expired reservation or forgotten.
    async fn live_phase(
        &self,
        call: &str,
        at: Instant,
    ) -> Result<Option<(String, String)>, StateError> {
        let mut conn = self.conn.clone();
        let (phase, target, exp, gone): (Option<String>, Option<String>, Option<i64>, Option<i64>) =
            redis::cmd("HMGET")
                .arg(self.call_key(call))
                .arg("phase")
                .arg("target")
                .arg("exp")
                .arg("gone")
                .query_async(&mut conn)
                .await
                .map_err(|e| self.io(&e))?;
        if gone.is_some_and(|g| g <= at.timestamp()) {
            return Ok(None);
        }
        Ok(match (phase, target) {
            (Some(p), Some(t))
                if p == "c" || (p == "r" && exp.is_some_and(|e| e > at.timestamp())) =>
            {
                Some((p, t))
            }
            _ => None,
        })
    }

    fn error_reply(&self, reply: &str, call: &str) -> StateError {
        let call = call.to_string();
        match reply {
            "err:already_connected" => lifecycle(LifecycleError::AlreadyConnected(call)),
            "err:already_exists" => lifecycle(LifecycleError::AlreadyExists(call)),
            "err:not_connected" => lifecycle(LifecycleError::NotConnected(call)),
            "err:already_ended" => lifecycle(LifecycleError::AlreadyEnded(call)),
            "err:already_converted" => lifecycle(LifecycleError::AlreadyConverted(call)),
            "err:not_reserved" => lifecycle(LifecycleError::NotReserved(call)),
            "err:unknown_call" => lifecycle(LifecycleError::UnknownCall(call)),
            "err:target_removed" => lifecycle(LifecycleError::TargetRemoved(call)),
            r => {
                if let Some(reserved) = r.strip_prefix("err:reserved_other:") {
                    return lifecycle(LifecycleError::ReservedForOtherTarget {
                        call,
                        reserved: reserved.to_string(),
                    });
                }
                let until = r
                    .strip_prefix("err:lease_expired:")
                    .and_then(|s| s.parse::<i64>().ok())
                    .and_then(ts);
                match until {
                    Some(until) => lifecycle(LifecycleError::LeaseExpired { call, until }),
                    None => self.unavailable(format!("unexpected script reply {r:?}")),
                }
            }
        }
    }

    /// Whether the target's or its groups' filters refuse a call with
    /// `attrs` (pure config: judged against a blank state).
    fn filters_refuse(l: &Loaded, t: usize, at: Instant, attrs: &CallAttrs) -> bool {
        if attrs.is_empty() {
            return false;
        }
        let mut reasons = Vec::new();
        eligibility::target_reasons_call(&l.config, &l.blank, t, at, attrs, &mut reasons);
        reasons.iter().any(|r| r.code == ReasonCode::FilterMismatch)
    }

    /// [`Backend::connect`](super::Backend::connect) with a caller-chosen operation id: retrying with
    /// the same `op` after [`StateError::Ambiguous`] is safe.
    pub async fn connect_op(
        &self,
        op: &str,
        call: &str,
        target: &str,
        at: Instant,
    ) -> Result<ConnectOutcome, StateError> {
        self.connect_call_op(op, call, target, at, &CallAttrs::new())
            .await
    }

    /// [`RedisState::connect_op`] for a call with attributes: the target's
    /// and its groups' filters judge them first (pure config), then the
    /// script checks every cap and the caller's history, counts and
    /// records the caller.
    pub async fn connect_call_op(
        &self,
        op: &str,
        call: &str,
        target: &str,
        at: Instant,
        attrs: &CallAttrs,
    ) -> Result<ConnectOutcome, StateError> {
        Self::check_instant(at)?;
        for _ in 0..RETRIES {
            let l = self.loaded();
            let t = Self::target_in(&l, target)?;
            if effects::locally_refused(&l.config, t, at) || Self::filters_refuse(&l, t, at, attrs)
            {
                // memory reports a lifecycle conflict before any refusal
                let mut confirming = false;
                match self.live_phase(call, at).await? {
                    None => {}
                    Some((p, _)) if p == "c" => {
                        return Err(lifecycle(LifecycleError::AlreadyConnected(
                            call.to_string(),
                        )))
                    }
                    Some((_, reserved)) if reserved != target => {
                        return Err(lifecycle(LifecycleError::ReservedForOtherTarget {
                            call: call.to_string(),
                            reserved,
                        }))
                    }
                    Some(_) => confirming = true,
                }
                let skip = confirming.then_some(call);
                match self.refusal(&l, t, at, skip, attrs).await? {
                    Some(refused) => return Ok(refused),
                    None => continue,
                }
            }
            let count = u8::from(l.config.targets[t].trigger == Trigger::Connect).to_string();
            let callers = self.connect_callers(&l.config, t, attrs);
            match self
                .run(
                    &l,
                    Step::Connect,
                    op,
                    call,
                    target,
                    Some(t),
                    at,
                    &count,
                    "",
                    &callers,
                )
                .await?
            {
                Reply::Again | Reply::OtherTarget(_) => continue,
                Reply::Done(r) => {
                    if r == "ok" {
                        self.cache_apply(|e| {
                            matches!(
                                e.connect_call(call, target, at, attrs),
                                Ok(ConnectOutcome::Connected)
                            )
                        });
                    }
                    match self.outcome(&l, &r, call, target, t, at, attrs).await? {
                        Some(outcome) => return Ok(outcome),
                        None => continue,
                    }
                }
            }
        }
        Err(self.unavailable("the namespace's config kept changing".to_string()))
    }

    /// Map a reply to an outcome of connect/reserve (`None`: ask again,
    /// see [`RedisState::refusal`]).
    #[allow(clippy::too_many_arguments)]
    async fn outcome(
        &self,
        l: &Loaded,
        reply: &str,
        call: &str,
        target: &str,
        t: usize,
        at: Instant,
        attrs: &CallAttrs,
    ) -> Result<Option<ConnectOutcome>, StateError> {
        match reply {
            "ok" => {
                self.set_hint(call, Some(target));
                Ok(Some(ConnectOutcome::Connected))
            }
            "refused" => self.refusal(l, t, at, Some(call), attrs).await,
            other => Err(self.error_reply(other, call)),
        }
    }

    /// [`Backend::reserve`](super::Backend::reserve) with a caller-chosen operation id.
    pub async fn reserve_op(
        &self,
        op: &str,
        call: &str,
        target: &str,
        ttl_secs: u64,
        at: Instant,
    ) -> Result<ConnectOutcome, StateError> {
        Self::check_instant(at)?;
        let expires = i64::try_from(ttl_secs)
            .ok()
            .filter(|&s| s > 0)
            .and_then(chrono::TimeDelta::try_seconds)
            .and_then(|d| at.checked_add_signed(d))
            .filter(|&e| routecap_core::zone::is_supported(e))
            .ok_or_else(|| lifecycle(LifecycleError::InvalidTtl(ttl_secs)))?;
        let none = CallAttrs::new();
        for _ in 0..RETRIES {
            let l = self.loaded();
            let t = Self::target_in(&l, target)?;
            if effects::locally_refused(&l.config, t, at) {
                // memory reports an existing call before any refusal
                if self.live_phase(call, at).await?.is_some() {
                    return Err(lifecycle(LifecycleError::AlreadyExists(call.to_string())));
                }
                match self.refusal(&l, t, at, Some(call), &none).await? {
                    Some(refused) => return Ok(refused),
                    None => continue,
                }
            }
            let exp = expires.timestamp().to_string();
            match self
                .run(
                    &l,
                    Step::Reserve,
                    op,
                    call,
                    target,
                    Some(t),
                    at,
                    &exp,
                    "",
                    &CallerArgs::default(),
                )
                .await?
            {
                Reply::Again | Reply::OtherTarget(_) => continue,
                Reply::Done(r) => {
                    if r == "ok" {
                        let ttl = std::time::Duration::from_secs(ttl_secs);
                        self.cache_apply(|e| {
                            matches!(
                                e.reserve(call, target, ttl, at),
                                Ok(ConnectOutcome::Connected)
                            )
                        });
                    }
                    match self.outcome(&l, &r, call, target, t, at, &none).await? {
                        Some(outcome) => return Ok(outcome),
                        None => continue,
                    }
                }
            }
        }
        Err(self.unavailable("the namespace's config kept changing".to_string()))
    }

    async fn call_target(&self, call: &str, at: Instant) -> Result<Option<String>, StateError> {
        let mut conn = self.conn.clone();
        let (target, gone): (Option<String>, Option<i64>) = redis::cmd("HMGET")
            .arg(self.call_key(call))
            .arg("target")
            .arg("gone")
            .query_async(&mut conn)
            .await
            .map_err(|e| self.io(&e))?;
        Ok(target.filter(|_| gone.is_none_or(|g| g > at.timestamp())))
    }

    /// Run a step on an existing call: its target comes from the hint or
    /// the call record, and the script names the right one when it moved.
    async fn on_call(
        &self,
        step: Step,
        op: &str,
        call: &str,
        at: Instant,
        revenue: Money,
        args: impl Fn(&Config, Option<usize>) -> (String, String),
    ) -> Result<(), StateError> {
        Self::check_instant(at)?;
        let mut target = self.hint(call);
        for _ in 0..RETRIES {
            let target_id = match target.take() {
                Some(t) => t,
                None => match self.call_target(call, at).await? {
                    Some(t) => t,
                    None => return Err(lifecycle(LifecycleError::UnknownCall(call.to_string()))),
                },
            };
            let l = self.loaded();
            // a target the config no longer has: the call holds nothing
            let t = l.config.target_index(&target_id);
            let (a8, a9) = args(&l.config, t);
            let callers = match step {
                Step::Convert => CallerArgs {
                    key: None,
                    args: vec![l.config.caller_window().to_string(), self.caller_prefix()],
                },
                _ => CallerArgs::default(),
            };
            match self
                .run(&l, step, op, call, &target_id, t, at, &a8, &a9, &callers)
                .await?
            {
                Reply::Again => target = Some(target_id),
                Reply::OtherTarget(other) => {
                    self.set_hint(call, None);
                    target = Some(other);
                }
                Reply::Done(r) if r == "ok" => {
                    if matches!(step, Step::End | Step::Cancel) {
                        self.set_hint(call, None);
                    }
                    self.cache_apply(|e| match step {
                        Step::Convert => e.convert(call, revenue, at).is_ok(),
                        Step::End => e.end(call, at).is_ok(),
                        Step::Touch => e.touch(call, at).is_ok(),
                        Step::Cancel => e.cancel(call, at).is_ok(),
                        _ => false,
                    });
                    return Ok(());
                }
                Reply::Done(r) => return Err(self.error_reply(&r, call)),
            }
        }
        Err(self.unavailable("the namespace's config kept changing".to_string()))
    }

    /// [`Backend::convert`](super::Backend::convert) with a caller-chosen operation id.
    pub async fn convert_op(
        &self,
        op: &str,
        call: &str,
        revenue: Money,
        at: Instant,
    ) -> Result<(), StateError> {
        if revenue < Money::ZERO {
            return Err(lifecycle(LifecycleError::NegativeRevenue(revenue)));
        }
        self.on_call(Step::Convert, op, call, at, revenue, |c, t| {
            let counts = t.is_some_and(|t| effects::convert_counts(c.targets[t].trigger, revenue));
            (u8::from(counts).to_string(), revenue.minor().to_string())
        })
        .await
    }

    /// [`Backend::end`](super::Backend::end) with a caller-chosen operation id.
    pub async fn end_op(&self, op: &str, call: &str, at: Instant) -> Result<(), StateError> {
        self.on_call(Step::End, op, call, at, Money::ZERO, |_, _| {
            Default::default()
        })
        .await
    }

    /// [`Backend::touch`](super::Backend::touch) with a caller-chosen operation id.
    pub async fn touch_op(&self, op: &str, call: &str, at: Instant) -> Result<(), StateError> {
        self.on_call(Step::Touch, op, call, at, Money::ZERO, |_, _| {
            Default::default()
        })
        .await
    }

    /// [`Backend::cancel`](super::Backend::cancel) with a caller-chosen operation id.
    pub async fn cancel_op(&self, op: &str, call: &str, at: Instant) -> Result<(), StateError> {
        self.on_call(Step::Cancel, op, call, at, Money::ZERO, |_, _| {
            Default::default()
        })
        .await
    }

    /// Reset the totals of some owners (a target; a group and its members).
    async fn reset(
        &self,
        owners: impl Fn(&Config) -> Result<Vec<CandidateRef>, StateError>,
    ) -> Result<(), StateError> {
        let op = new_op_id();
        for _ in 0..RETRIES {
            let l = self.loaded();
            let c = &*l.config;
            let owners = owners(c)?;
            let mut inv = StepCall::default();
            inv.key(self.config_key())
                .key(self.op_key(&op))
                .key(self.call_key(""));
            inv.arg(0)
                .arg(c.call_retention_seconds)
                .arg(0)
                .arg(self.expect(&l))
                .arg(owners.len())
                .arg("")
                .arg("")
                .arg("")
                .arg("");
            for o in owners {
                for k in l.keys_of(o) {
                    inv.key(k);
                }
            }
            let reply = self
                .fcall(Step::Reset, &inv)
                .await
                .map_err(|e| self.classify(&op, &e))?;
            self.invalidate();
            if let Some(seen) = reply.strip_prefix("stale:") {
                self.on_stale(&l, seen).await?;
                continue;
            }
            return match reply.as_str() {
                "ok" => Ok(()),
                r => Err(self.error_reply(r, "")),
            };
        }
        Err(self.unavailable("the namespace's config kept changing".to_string()))
    }

    /// [`Backend::reset_target`](super::Backend::reset_target).
    pub async fn reset_target(&self, target: &str) -> Result<(), StateError> {
        self.reset(|c| {
            c.target_index(target)
                .map(|t| vec![CandidateRef::Target(t)])
                .ok_or_else(|| StateError::Engine(EngineError::UnknownTarget(target.to_string())))
        })
        .await
    }

    /// [`Backend::reset_group`](super::Backend::reset_group).
    pub async fn reset_group(&self, group: &str) -> Result<(), StateError> {
        self.reset(|c| {
            let g = c
                .group_index(group)
                .ok_or_else(|| StateError::Engine(EngineError::UnknownGroup(group.to_string())))?;
            let mut owners = vec![CandidateRef::Group(g)];
            owners.extend(c.groups[g].members.iter().map(|&m| CandidateRef::Target(m)));
            Ok(owners)
        })
        .await
    }

    /// Every owner's counters at `at`, read from the server in one
    /// read-only script and rebuilt as a core engine (authoritative).
    pub async fn fetch(&self, at: Instant) -> Result<Arc<Engine>, StateError> {
        self.fetch_skipping(at, None, None).await
    }

    /// [`RedisState::fetch`] leaving out the reservation of `skip` (then
    /// the cache is left alone), with `caller`'s history.
    async fn fetch_skipping(
        &self,
        at: Instant,
        skip: Option<&str>,
        caller: Option<&str>,
    ) -> Result<Arc<Engine>, StateError> {
        for _ in 0..RETRIES {
            let l = self.loaded();
            if let Some(engine) = self.fetch_once(&l, at, skip, caller).await? {
                return Ok(engine);
            }
        }
        Err(self.unavailable("the namespace's config kept changing".to_string()))
    }

    /// One read; `None` when the namespace's config moved (reloaded).
    async fn fetch_once(
        &self,
        l: &Loaded,
        at: Instant,
        skip: Option<&str>,
        caller: Option<&str>,
    ) -> Result<Option<Arc<Engine>>, StateError> {
        let c = &*l.config;
        let owners = owners_of(c);
        let mut inv = self.read.prepare_invoke();
        inv.key(self.config_key());
        inv.arg(at.timestamp()).arg(owners.len());
        let mut starts_of = Vec::with_capacity(owners.len());
        for &o in &owners {
            let zone = owner_zone(c, o);
            let starts = Period::ALL.map(|p| window_start(zone, p, at));
            for k in l.keys_of(o) {
                inv.key(k);
            }
            for s in starts {
                inv.arg(s);
            }
            starts_of.push(starts);
        }
        if let Some(caller) = caller {
            inv.key(self.caller_key(caller));
        }
        let mut conn = self.conn.clone();
        let rows: Vec<Vec<String>> = inv.invoke_async(&mut conn).await.map_err(|e| self.io(&e))?;
        let bad = |what: &str| self.unavailable(format!("unexpected read reply: {what}"));
        let head = rows.first().ok_or_else(|| bad("empty"))?;
        let ver = head.first().cloned().unwrap_or_default();
        if ver != l.ver {
            self.reload().await?;
            return Ok(None);
        }
        let anchor: Option<i64> = head.get(1).and_then(|s| s.parse().ok());
        self.set_anchor(anchor);
        let mut snap = Snapshot {
            version: 1,
            targets: Vec::new(),
            groups: Vec::new(),
            calls: Vec::new(),
            callers: Vec::new(),
        };
        let mut valid_until = i64::MAX;
        let now = at.timestamp();
        let fmt = |s: i64| ts(s).map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true));
        let mut any_pending = false;
        for (i, &o) in owners.iter().enumerate() {
            let row = rows.get(i + 1).ok_or_else(|| bad("missing owner"))?;
            if row.len() < 13 {
                return Err(bad("short owner row"));
            }
            let n = |j: usize| row[j].parse::<i64>().map_err(|_| bad("number"));
            let pending = row[11] == "1";
            any_pending |= pending;
            let slot = |j: usize| -> Result<SlotSnapshot, StateError> {
                Ok(SlotSnapshot {
                    start: if pending { None } else { fmt(starts_of[i][j]) },
                    count: u64::try_from(n(j)?).unwrap_or(0),
                    revenue: Money(n(j + 3)?).to_string(),
                })
            };
            let il = n(9)?;
            let ilu: Option<i64> = row[10].parse().ok();
            // imported live calls hold until `ilu` (pending: until anchored)
            let imported_holds = il > 0 && ilu.is_none_or(|u| u > now);
            if imported_holds {
                if let Some(u) = ilu {
                    valid_until = valid_until.min(u);
                }
            }
            let live = n(8)? + if imported_holds { il } else { 0 };
            if let Ok(first) = row[12].parse::<f64>() {
                valid_until = valid_until.min(first as i64);
            }
            let zone = owner_zone(c, o);
            for p in Period::ALL {
                let w = routecap_core::window::window(zone, p, at);
                valid_until = valid_until.min(w.end.timestamp());
            }
            let id = owner_id(c, o).to_string();
            let list = match o {
                CandidateRef::Target(_) => &mut snap.targets,
                CandidateRef::Group(_) => &mut snap.groups,
            };
            list.push(OwnerSnapshot {
                id: id.clone(),
                hour: slot(0)?,
                day: slot(1)?,
                month: slot(2)?,
                total: u64::try_from(n(6)?).unwrap_or(0),
                total_revenue: Money(n(7)?).to_string(),
                live: u64::try_from(live).unwrap_or(0),
                // version 1: `live` beyond the call records is imported
                imported_live: 0,
                imported_live_until: None,
            });
            if let CandidateRef::Target(_) = o {
                for pair in row[13..].chunks(2) {
                    let [call, exp] = pair else { continue };
                    if Some(call.as_str()) == skip {
                        continue;
                    }
                    let exp = exp.parse::<f64>().map_err(|_| bad("hold expiry"))? as i64;
                    valid_until = valid_until.min(exp);
                    let at_s = fmt(exp).ok_or_else(|| bad("hold expiry"))?;
                    snap.calls.push(CallSnapshot {
                        call: call.clone(),
                        target: id.clone(),
                        phase: "reserved".to_string(),
                        at: at_s.clone(),
                        expires: Some(at_s),
                        ended_at: None,
                        converted_at: None,
                        revenue: None,
                        counted: false,
                        lease_until: None,
                        lapsed: false,
                        caller: None,
                    });
                }
            }
        }
        if let Some(caller) = caller {
            let fields = rows.get(owners.len() + 1).map_or(&[][..], Vec::as_slice);
            snap.callers = history_rows(caller, fields, &fmt);
        }
        if !any_pending {
            self.maybe_pending.store(false, Ordering::Relaxed);
        }
        let engine = Engine::restore(l.config.clone(), &snap).map_err(|e| bad(&e.to_string()))?;
        if skip.is_none() {
            // the cached engine's router, with the reports of every target
            // no other process wrote since, rather than a new one that
            // builds every report again
            let cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
            let old = (cache.as_ref())
                .filter(|c| c.ver == ver)
                .map(|c| c.engine.clone());
            drop(cache);
            if let Some(old) = old {
                engine.adopt_router(&old);
            }
        }
        let engine = Arc::new(engine);
        if skip.is_none() {
            *self.cache.lock().unwrap_or_else(PoisonError::into_inner) = Some(Cached {
                fetched: std::time::Instant::now(),
                ver,
                caller: caller.map(str::to_string),
                at: now,
                valid_until,
                engine: engine.clone(),
            });
        }
        Ok(Some(engine))
    }

    /// Counters for `check`/`route` at `at`: from the local cache when it
    /// is at most `refresh` old and `at` lies where it stays true, else
    /// fetched.
    pub async fn view(&self, at: Instant) -> Result<Arc<Engine>, StateError> {
        self.view_for(at, &CallAttrs::new()).await
    }

    /// [`RedisState::view`] for a call with `attrs`: with its caller's
    /// whole history when some rule reads it.
    async fn view_for(&self, at: Instant, attrs: &CallAttrs) -> Result<Arc<Engine>, StateError> {
        let t = at.timestamp();
        let l = self.loaded();
        let ver = l.ver.clone();
        let caller = history_of(&l.config, attrs);
        if let Some(c) = &*self.cache.lock().unwrap_or_else(PoisonError::into_inner) {
            if c.ver == ver
                && (caller.is_none() || c.caller.as_deref() == caller)
                && c.fetched.elapsed() <= self.opts.refresh
                && c.at <= t
                && t < c.valid_until
            {
                return Ok(c.engine.clone());
            }
        }
        self.fetch_skipping(at, None, caller).await
    }

    /// Eligibility of every candidate for a call with `attrs` at `at`, as
    /// `routecap check --json` prints it (from the cache; see `view`).
    pub async fn check_view(
        &self,
        at: Instant,
        attrs: &CallAttrs,
    ) -> Result<CheckView, StateError> {
        Ok(self.view_for(at, attrs).await?.check_view_call(at, attrs)?)
    }

    /// Eligibility reports of the default candidates at `at`.
    pub async fn check(&self, at: Instant) -> Result<Vec<CandidateReport>, StateError> {
        Ok(self.view(at).await?.check(at))
    }

    /// The whole plan for a call with `attrs` and seed `seed` at `at`, as
    /// `routecap route --json` prints it. Anchors imported usage first, as
    /// a memory route decision does.
    pub async fn route_view(
        &self,
        at: Instant,
        seed: u64,
        attrs: &CallAttrs,
    ) -> Result<RouteView, StateError> {
        let mut rng = routecap_core::route::rng_from_seed(seed);
        self.route_view_rng(at, seed, attrs, &mut rng).await
    }

    /// [`RedisState::route_view`] drawing from `rng` (a replay's stream).
    pub async fn route_view_rng(
        &self,
        at: Instant,
        seed: u64,
        attrs: &CallAttrs,
        rng: &mut RouteRng,
    ) -> Result<RouteView, StateError> {
        Self::check_instant(at)?;
        self.anchor(at).await?;
        Ok(self
            .view_for(at, attrs)
            .await?
            .route_view_with(at, seed, attrs, rng)?)
    }

    /// Every cap of every target and group at `at`, as `routecap usage
    /// --json` prints it (authoritative; imported usage not anchored yet
    /// reads as anchored at `at`, without writing the anchor).
    pub async fn usage_view(&self, at: Instant) -> Result<UsageView, StateError> {
        // a fresh read, never cached: anchoring it below must not reach
        // the shared cache (skipping the empty call id skips nothing)
        let engine = self.fetch_skipping(at, Some(""), None).await?;
        engine.anchor(at);
        Ok(engine.usage(at))
    }
}

/// The id the config gives the target (else group) named `name`.
fn resolve_in(l: &Loaded, kind: OwnerKind, name: &str) -> Result<String, StateError> {
    let c = &l.config;
    let known = |id: &str| match kind {
        OwnerKind::Target => c.target_index(id).is_some(),
        OwnerKind::Group => c.group_index(id).is_some(),
    };
    if known(name) {
        return Ok(name.to_string());
    }
    l.source
        .as_ref()
        .and_then(|s| s.resolve_id(kind, name))
        .filter(|id| known(id))
        .ok_or_else(|| {
            StateError::Engine(match kind {
                OwnerKind::Target => EngineError::UnknownTarget(name.to_string()),
                OwnerKind::Group => EngineError::UnknownGroup(name.to_string()),
            })
        })
}

/// The owner a usage import names (targets first, as memory resolves it).
fn resolve_usage_owner(c: &Config, id: &str, ignore_case: bool) -> Option<CandidateRef> {
    let eq = |x: &str| {
        if ignore_case {
            x.eq_ignore_ascii_case(id)
        } else {
            x == id
        }
    };
    c.targets
        .iter()
        .position(|t| eq(&t.id))
        .map(CandidateRef::Target)
        .or_else(|| {
            c.groups
                .iter()
                .position(|g| eq(&g.id))
                .map(CandidateRef::Group)
        })
}

/// The caller whose history a decision for `attrs` reads: a known caller
/// when some rule of `c` reads history.
fn history_of<'a>(c: &Config, attrs: &'a CallAttrs) -> Option<&'a str> {
    attrs.caller().filter(|_| c.caller_window() > 0)
}

/// A caller's history hash (`c:<target>`/`v:<target>` → Unix seconds, as
/// `HGETALL` lists it) as snapshot rows, by target id.
fn history_rows(
    caller: &str,
    fields: &[String],
    fmt: &dyn Fn(i64) -> Option<String>,
) -> Vec<CallerSnapshot> {
    let mut rows: Vec<CallerSnapshot> = Vec::new();
    for pair in fields.chunks(2) {
        let [field, value] = pair else { continue };
        let Some((kind, target)) = field.split_once(':') else {
            continue;
        };
        let Some(at) = value.parse::<f64>().ok().and_then(|v| fmt(v as i64)) else {
            continue;
        };
        let i = match rows.iter().position(|r| r.target == target) {
            Some(i) => i,
            None => {
                rows.push(CallerSnapshot {
                    caller: caller.to_string(),
                    target: target.to_string(),
                    connected_at: None,
                    converted_at: None,
                });
                rows.len() - 1
            }
        };
        match kind {
            "c" => rows[i].connected_at = Some(at),
            "v" => rows[i].converted_at = Some(at),
            _ => {}
        }
    }
    rows
}

/// An import's amounts as script arguments (empty = not named), in the
/// order of [`RedisState::usage_args`].
fn imported_args(u: &ImportedUsage) -> [String; 9] {
    let c = |v: Option<u64>| v.map_or_else(String::new, |v| v.to_string());
    let r = |v: Option<Money>| v.map_or_else(String::new, |v| v.minor().to_string());
    [
        c(u.hourly),
        c(u.daily),
        c(u.monthly),
        r(u.hourly_revenue),
        r(u.daily_revenue),
        r(u.monthly_revenue),
        c(u.total),
        r(u.total_revenue),
        c(u.live),
    ]
}

/// A readable message for a client error (never containing the password:
/// redis-rs does not echo URLs).
fn describe(e: &RedisError) -> String {
    match e.kind() {
        ErrorKind::AuthenticationFailed => format!("authentication failed: {e}"),
        ErrorKind::IoError if e.is_connection_refusal() => format!("connection refused: {e}"),
        ErrorKind::ResponseError | ErrorKind::TypeError | ErrorKind::ParseError => {
            format!("not a Redis server, or an unexpected reply: {e}")
        }
        _ => e.to_string(),
    }
}

/// The size in bytes of the connect script: the benchmark's raw `EVALSHA`
/// anchor runs a script of this size.
pub fn connect_script_len() -> usize {
    lua::connect_script_len()
}
