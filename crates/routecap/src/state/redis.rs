//! The Redis backend: counters, live calls, reservations and call records
//! in a Redis-compatible server (Redis ≥ 7, Valkey), shared by every
//! process of a service.
//!
//! # Guarantees
//!
//! Each lifecycle step runs as one server-side Lua script that checks
//! every cap of the target and of every group containing it and then
//! writes: no two processes can both take the last unit of a cap, and no
//! step is ever half-applied. Windows, effective limits and imported usage
//! are computed by the caller ([`routecap_core::effects`]) from the event's
//! instant, never from the server clock, so replays are deterministic and
//! decisions equal the memory backend's.
//!
//! Every write carries an operation id; its reply is stored under that id
//! for `call_retention_seconds`. Retrying an operation after an ambiguous
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
//! | `{NS}:anchor` | string | instant imported usage is anchored to (absent: none yet) |
//! | `OWNER:n:h:<start>` (`d`, `m`) | integer | calls counted in the window starting at `<start>` (Unix s); expires an hour after the window ends |
//! | `OWNER:r:h:<start>` (`d`, `m`) | integer | revenue in minor units, same windows |
//! | `OWNER:n:tot`, `OWNER:r:tot` | integer | total count / revenue since the last reset (added to the imported totals until a reset) |
//! | `OWNER:ri` | string | set by a reset: imported totals no longer apply |
//! | `OWNER:live` | sorted set | connected calls scored by lease expiry |
//! | `OWNER:held` | sorted set | reservations scored by expiry |
//! | `{NS}:call:<len>:<id>` | hash | call record: `phase` (`r`/`c`), `target`, `at`, `exp`, `lease`, `ended`, `conv`, `revenue`, `counted`; expires `call_retention_seconds` after its end (or lease, or reservation expiry) |
//! | `{NS}:op:<op>` | string | reply of an applied operation, for `call_retention_seconds` |
//!
//! Expiries are set relative to the event's instant (`EXPIRE` of window
//! end − event instant + one hour), not with `EXPIREAT`: the server clock
//! never decides, and a replay of past instants keeps its keys while it
//! runs. Sorted sets are pruned by score inside the scripts: a call whose
//! process died frees its concurrency when its lease (`call_lease_seconds`
//! after connect or last touch) runs out.
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
//!   everyone; one running behind counts in windows that already closed.
//! - Money and counts must stay below 2^53 (Lua numbers).
//! - An event whose instant lies in an older window than a later event's
//!   lands in that older window (memory drops it from the periodic counts);
//!   events of one call are expected in time order.
//!
//! # Imported usage
//!
//! The config's imported usage is never written to the server: every step
//! adds it to the server's counters of the windows containing the anchor
//! (`as_of`, else the instant stored in `{NS}:anchor` by the first
//! accepted event or route decision), exactly as memory anchors it. So
//! every process must run with the same imported usage; replacing it
//! (usage imports, config changes) is not handled yet.
//!
//! # Reads
//!
//! `check` and `route` read a core state rebuilt from one read-only
//! script, cached for at most `refresh` and only while no window, lease
//! or reservation it saw has ended; every write through this state drops
//! the cache. `connect` and `reserve` never read it; a refusal reads the
//! server again to list every reason.
//!
//! # Sync and async
//!
//! [`RedisState`] is async (tokio, a multiplexed auto-reconnecting
//! connection); [`RedisBackend`] wraps it with its own small runtime for
//! synchronous callers such as the CLI. Do not call [`RedisBackend`] from
//! inside an async task: use [`RedisState`] there.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use chrono::DateTime;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{ErrorKind, RedisError, Script};
use routecap_core::caps::{Period, Trigger};
use routecap_core::effects::{self, OwnerEffect};
use routecap_core::eligibility::{self, CandidateReport};
use routecap_core::engine::EngineError;
use routecap_core::lifecycle::{ConnectOutcome, LifecycleError};
use routecap_core::model::{CandidateRef, Config};
use routecap_core::money::Money;
use routecap_core::render::{RouteView, UsageRow};
use routecap_core::snapshot::{CallSnapshot, OwnerSnapshot, SlotSnapshot, Snapshot};
use routecap_core::window::window_start;
use routecap_core::Instant;

use super::{lua, route_view_of, usage_of, Backend, StateError};
use crate::Engine;

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
    at: i64,
    valid_until: i64,
    engine: Arc<Engine>,
}

/// The async Redis state. See the module docs.
pub struct RedisState {
    config: Arc<Config>,
    opts: RedisOptions,
    shown_url: String,
    conn: ConnectionManager,
    steps: Vec<(&'static str, Script)>,
    read: Script,
    /// The anchor the server holds, as far as we know (`None`: not yet).
    anchor: Mutex<Option<i64>>,
    cache: Mutex<Option<Cached>>,
    /// Target of calls this process connected or reserved: spares reading
    /// the call record before `end`/`convert`/`touch`/`cancel` (the script
    /// still checks it and asks again when it is wrong).
    hints: Mutex<std::collections::HashMap<String, usize>>,
}

/// Most call-target hints kept; past it they are all dropped.
const MAX_HINTS: usize = 100_000;

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

fn lifecycle(e: LifecycleError) -> StateError {
    StateError::Engine(EngineError::Lifecycle(e))
}

/// An `Option<u64>`/`Option<Money>` limit as a script argument.
fn lim<T: ToString>(v: Option<T>) -> String {
    v.map_or_else(String::new, |v| v.to_string())
}

impl RedisState {
    /// Connect to the server, check it answers as Redis, and load nothing
    /// yet (scripts load on first use and reload after a restart).
    pub async fn open(
        config: impl Into<Arc<Config>>,
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
        let steps = lua::STEPS
            .iter()
            .map(|(name, body)| (*name, Script::new(&lua::step(body))))
            .collect();
        Ok(RedisState {
            config: config.into(),
            opts,
            shown_url,
            conn,
            steps,
            read: Script::new(lua::READ),
            anchor: Mutex::new(None),
            cache: Mutex::new(None),
            hints: Mutex::new(std::collections::HashMap::new()),
        })
    }

    /// The config.
    pub fn config(&self) -> &Arc<Config> {
        &self.config
    }

    /// The options.
    pub fn options(&self) -> &RedisOptions {
        &self.opts
    }

    fn ns(&self) -> &str {
        &self.opts.namespace
    }

    fn owner_prefix(&self, owner: CandidateRef) -> String {
        let (kind, id) = match owner {
            CandidateRef::Target(t) => ("t", self.config.targets[t].id.as_str()),
            CandidateRef::Group(g) => ("g", self.config.groups[g].id.as_str()),
        };
        format!("{{{}}}:{kind}:{}:{id}", self.ns(), id.len())
    }

    /// The 11 keys of an owner for windows starting at `starts`.
    fn owner_keys(&self, owner: CandidateRef, starts: [i64; 3]) -> [String; 11] {
        let p = self.owner_prefix(owner);
        [
            format!("{p}:n:h:{}", starts[0]),
            format!("{p}:n:d:{}", starts[1]),
            format!("{p}:n:m:{}", starts[2]),
            format!("{p}:n:tot"),
            format!("{p}:r:h:{}", starts[0]),
            format!("{p}:r:d:{}", starts[1]),
            format!("{p}:r:m:{}", starts[2]),
            format!("{p}:r:tot"),
            format!("{p}:live"),
            format!("{p}:held"),
            format!("{p}:ri"),
        ]
    }

    fn anchor_key(&self) -> String {
        format!("{{{}}}:anchor", self.ns())
    }

    fn call_key(&self, call: &str) -> String {
        format!("{{{}}}:call:{}:{call}", self.ns(), call.len())
    }

    fn op_key(&self, op: &str) -> String {
        format!("{{{}}}:op:{op}", self.ns())
    }

    /// The anchor to expect, as a script argument, and as an instant.
    fn expected_anchor(&self) -> (String, Option<i64>) {
        if let Some(a) = self.config.as_of {
            return ("-".to_string(), Some(a.timestamp()));
        }
        match *self.anchor.lock().unwrap_or_else(PoisonError::into_inner) {
            Some(a) => (a.to_string(), Some(a)),
            None => (String::new(), None),
        }
    }

    fn set_anchor(&self, a: Option<i64>) {
        *self.anchor.lock().unwrap_or_else(PoisonError::into_inner) = a;
    }

    fn invalidate(&self) {
        *self.cache.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }

    fn owner_zone(&self, owner: CandidateRef) -> &routecap_core::zone::Zone {
        match owner {
            CandidateRef::Target(t) => &self.config.targets[t].zone,
            CandidateRef::Group(g) => &self.config.groups[g].zone,
        }
    }

    fn owner_usage(&self, owner: CandidateRef) -> &routecap_core::caps::Usage {
        match owner {
            CandidateRef::Target(t) => &self.config.targets[t].usage,
            CandidateRef::Group(g) => &self.config.groups[g].usage,
        }
    }

    /// Imported amounts that count in the windows of `at`, given the
    /// anchor (`None`: the event itself anchors).
    /// The lease of a connected call, in seconds.
    fn lease_secs(&self) -> i64 {
        i64::try_from(self.config.call_lease_seconds).unwrap_or(i64::MAX)
    }

    fn imported(&self, owner: CandidateRef, at: Instant, anchor: Option<i64>) -> [String; 9] {
        let u = self.owner_usage(owner);
        let zone = self.owner_zone(owner);
        let same = |p: Period| match anchor.and_then(|a| DateTime::from_timestamp(a, 0)) {
            None => true,
            Some(a) => window_start(zone, p, a) == window_start(zone, p, at),
        };
        let c = |p, v: u64| {
            if same(p) {
                v.to_string()
            } else {
                "0".to_string()
            }
        };
        let r = |p, v: Money| {
            if same(p) {
                v.minor().to_string()
            } else {
                "0".to_string()
            }
        };
        [
            c(Period::Hour, u.hourly),
            c(Period::Day, u.daily),
            c(Period::Month, u.monthly),
            u.total.to_string(),
            r(Period::Hour, u.hourly_revenue),
            r(Period::Day, u.daily_revenue),
            r(Period::Month, u.monthly_revenue),
            u.total_revenue.minor().to_string(),
            // imported live calls hold until the anchor plus the lease
            match anchor {
                Some(a) if at.timestamp() >= a.saturating_add(self.lease_secs()) => "0".to_string(),
                _ => u.live.to_string(),
            },
        ]
    }

    /// Run step `step` for `call` on target `t`, retrying when the anchor
    /// changed under us. The raw reply (`ok`, `refused`, `err:…`, `target:…`).
    #[allow(clippy::too_many_arguments)]
    async fn run(
        &self,
        step: Step,
        op: &str,
        call: &str,
        t: usize,
        at: Instant,
        a8: String,
        a9: String,
    ) -> Result<String, StateError> {
        let script = &self
            .steps
            .iter()
            .find(|(n, _)| *n == step.name())
            .expect("every step has a script")
            .1;
        let effects = effects::owners(&self.config, t, at);
        for _ in 0..4 {
            let (expect, anchor) = if step == Step::Reset {
                ("-".to_string(), None)
            } else {
                self.expected_anchor()
            };
            let mut inv = script.prepare_invoke();
            inv.key(self.anchor_key())
                .key(self.op_key(op))
                .key(self.call_key(call));
            inv.arg(at.timestamp())
                .arg(self.config.call_retention_seconds)
                .arg(self.config.call_lease_seconds)
                .arg(&expect)
                .arg(effects.len())
                .arg(call)
                .arg(&self.config.targets[t].id)
                .arg(&a8)
                .arg(&a9);
            for e in &effects {
                self.push_owner(&mut inv, e, at, anchor);
            }
            let mut conn = self.conn.clone();
            let reply: Result<String, RedisError> = inv.invoke_async(&mut conn).await;
            let reply = reply.map_err(|e| self.classify(op, &e))?;
            if let Some(a) = reply.strip_prefix("anchor:") {
                self.set_anchor(a.parse().ok());
                continue;
            }
            if expect.is_empty() && step != Step::Reset && reply == "ok" {
                self.set_anchor(Some(at.timestamp()));
            }
            self.invalidate();
            return Ok(reply);
        }
        Err(StateError::Unavailable {
            url: self.shown_url.clone(),
            message: "the imported-usage anchor kept changing".to_string(),
        })
    }

    fn push_owner(
        &self,
        inv: &mut redis::ScriptInvocation<'_>,
        e: &OwnerEffect,
        at: Instant,
        anchor: Option<i64>,
    ) {
        let starts = e.windows.map(|w| w.start.timestamp());
        for k in self.owner_keys(e.owner, starts) {
            inv.key(k);
        }
        let l = &e.limits;
        inv.arg(lim(l.hourly))
            .arg(lim(l.daily))
            .arg(lim(l.monthly))
            .arg(lim(l.total))
            .arg(lim(l.hourly_revenue.map(Money::minor)))
            .arg(lim(l.daily_revenue.map(Money::minor)))
            .arg(lim(l.monthly_revenue.map(Money::minor)))
            .arg(lim(l.total_revenue.map(Money::minor)))
            .arg(lim(e.concurrency));
        // memory keeps the latest window only: an event in a window older
        // than the anchor's counts toward totals, not that period ("-")
        let zone = self.owner_zone(e.owner);
        let anchor_at = anchor.and_then(|a| DateTime::from_timestamp(a, 0));
        for (p, w) in Period::ALL.into_iter().zip(e.windows) {
            match anchor_at {
                Some(a) if window_start(zone, p, a) > w.start.timestamp() => inv.arg("-"),
                _ => inv.arg(w.end.timestamp()),
            };
        }
        for v in self.imported(e.owner, at, anchor) {
            inv.arg(v);
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
            StateError::Unavailable {
                url: self.shown_url.clone(),
                message: describe(e),
            }
        }
    }

    fn target(&self, id: &str) -> Result<usize, StateError> {
        self.config
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

    /// Read (`set` = `None`), drop (`Some(None)`) or set a call's target hint.
    fn hint(&self, call: &str, set: Option<Option<usize>>) -> Option<usize> {
        let mut hints = self.hints.lock().unwrap_or_else(PoisonError::into_inner);
        match set {
            None => hints.get(call).copied(),
            Some(None) => hints.remove(call),
            Some(Some(t)) => {
                if hints.len() >= MAX_HINTS {
                    hints.clear();
                }
                hints.insert(call.to_string(), t)
            }
        }
    }

    /// Map a reply to an outcome of connect/reserve.
    async fn outcome(
        &self,
        reply: &str,
        call: &str,
        t: usize,
        at: Instant,
    ) -> Result<ConnectOutcome, StateError> {
        match reply {
            "ok" => {
                self.hint(call, Some(Some(t)));
                Ok(ConnectOutcome::Connected)
            }
            "refused" => self.refusal(t, at, Some(call)).await,
            other => Err(self.error_reply(other, call)),
        }
    }

    /// A refusal with every reason, read from the server. A reservation of
    /// `skip` is left out, as memory re-checks a confirmation without it.
    async fn refusal(
        &self,
        t: usize,
        at: Instant,
        skip: Option<&str>,
    ) -> Result<ConnectOutcome, StateError> {
        let engine = self.fetch_skipping(at, skip).await?;
        let mut reasons = Vec::new();
        engine.with_state(|c, s| eligibility::target_reasons(c, s, t, at, &mut reasons));
        Ok(ConnectOutcome::Refused(reasons))
    }

    /// The phase (`c`/`r`) and target of `call` unless it is absent or an
    /// expired reservation.
    async fn live_phase(
        &self,
        call: &str,
        at: Instant,
    ) -> Result<Option<(String, String)>, StateError> {
        let mut conn = self.conn.clone();
        let (phase, target, exp): (Option<String>, Option<String>, Option<i64>) =
            redis::cmd("HMGET")
                .arg(self.call_key(call))
                .arg("phase")
                .arg("target")
                .arg("exp")
                .query_async(&mut conn)
                .await
                .map_err(|e| StateError::Unavailable {
                    url: self.shown_url.clone(),
                    message: describe(&e),
                })?;
        Ok(match (phase, target) {
            (Some(p), Some(t)) if p == "c" || exp.is_some_and(|e| e > at.timestamp()) => {
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
                    .and_then(|s| DateTime::from_timestamp(s, 0));
                match until {
                    Some(until) => lifecycle(LifecycleError::LeaseExpired { call, until }),
                    None => StateError::Unavailable {
                        url: self.shown_url.clone(),
                        message: format!("unexpected script reply {r:?}"),
                    },
                }
            }
        }
    }

    /// [`Backend::connect`] with a caller-chosen operation id: retrying with
    /// the same `op` after [`StateError::Ambiguous`] is safe.
    pub async fn connect_op(
        &self,
        op: &str,
        call: &str,
        target: &str,
        at: Instant,
    ) -> Result<ConnectOutcome, StateError> {
        let t = self.target(target)?;
        Self::check_instant(at)?;
        if effects::locally_refused(&self.config, t, at) {
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
            return self.refusal(t, at, skip).await;
        }
        let count = u8::from(self.config.targets[t].trigger == Trigger::Connect);
        let reply = self
            .run(
                Step::Connect,
                op,
                call,
                t,
                at,
                count.to_string(),
                String::new(),
            )
            .await?;
        self.outcome(&reply, call, t, at).await
    }

    /// [`Backend::reserve`] with a caller-chosen operation id.
    pub async fn reserve_op(
        &self,
        op: &str,
        call: &str,
        target: &str,
        ttl_secs: u64,
        at: Instant,
    ) -> Result<ConnectOutcome, StateError> {
        let t = self.target(target)?;
        Self::check_instant(at)?;
        let expires = i64::try_from(ttl_secs)
            .ok()
            .filter(|&s| s > 0)
            .and_then(chrono::TimeDelta::try_seconds)
            .and_then(|d| at.checked_add_signed(d))
            .filter(|&e| routecap_core::zone::is_supported(e))
            .ok_or_else(|| lifecycle(LifecycleError::InvalidTtl(ttl_secs)))?;
        if effects::locally_refused(&self.config, t, at) {
            // memory reports an existing call before any refusal
            if self.live_phase(call, at).await?.is_some() {
                return Err(lifecycle(LifecycleError::AlreadyExists(call.to_string())));
            }
            return self.outcome("refused", call, t, at).await;
        }
        let reply = self
            .run(
                Step::Reserve,
                op,
                call,
                t,
                at,
                expires.timestamp().to_string(),
                String::new(),
            )
            .await?;
        self.outcome(&reply, call, t, at).await
    }

    async fn call_field(&self, call: &str, field: &str) -> Result<Option<String>, StateError> {
        let mut conn = self.conn.clone();
        redis::cmd("HGET")
            .arg(self.call_key(call))
            .arg(field)
            .query_async(&mut conn)
            .await
            .map_err(|e| StateError::Unavailable {
                url: self.shown_url.clone(),
                message: describe(&e),
            })
    }

    /// Run a step on an existing call: its target is read first, and the
    /// script refuses (and we retry) if it changed meanwhile.
    async fn on_call(
        &self,
        step: Step,
        op: &str,
        call: &str,
        at: Instant,
        args: impl Fn(usize) -> (String, String),
    ) -> Result<(), StateError> {
        Self::check_instant(at)?;
        let mut hint = self.hint(call, None);
        for _ in 0..4 {
            let not_found = || lifecycle(LifecycleError::UnknownCall(call.to_string()));
            let t = match hint.take() {
                Some(t) => t,
                None => {
                    let target: Option<String> = self.call_field(call, "target").await?;
                    let Some(target) = target else {
                        return Err(not_found());
                    };
                    let Some(t) = self.config.target_index(&target) else {
                        return Err(not_found());
                    };
                    t
                }
            };
            let (a8, a9) = args(t);
            let reply = self.run(step, op, call, t, at, a8, a9).await?;
            if reply == "ok" {
                if matches!(step, Step::End | Step::Cancel) {
                    self.hint(call, Some(None));
                }
                return Ok(());
            }
            if reply.starts_with("target:") {
                self.hint(call, Some(None));
                continue;
            }
            return Err(self.error_reply(&reply, call));
        }
        Err(lifecycle(LifecycleError::NotConnected(call.to_string())))
    }

    /// [`Backend::convert`] with a caller-chosen operation id.
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
        let config = self.config.clone();
        self.on_call(Step::Convert, op, call, at, |t| {
            let counts = effects::convert_counts(config.targets[t].trigger, revenue);
            (u8::from(counts).to_string(), revenue.minor().to_string())
        })
        .await
    }

    /// [`Backend::end`] with a caller-chosen operation id.
    pub async fn end_op(&self, op: &str, call: &str, at: Instant) -> Result<(), StateError> {
        self.on_call(Step::End, op, call, at, |_| Default::default())
            .await
    }

    /// [`Backend::touch`] with a caller-chosen operation id.
    pub async fn touch_op(&self, op: &str, call: &str, at: Instant) -> Result<(), StateError> {
        self.on_call(Step::Touch, op, call, at, |_| Default::default())
            .await
    }

    /// [`Backend::cancel`] with a caller-chosen operation id.
    pub async fn cancel_op(&self, op: &str, call: &str, at: Instant) -> Result<(), StateError> {
        self.on_call(Step::Cancel, op, call, at, |_| Default::default())
            .await
    }

    /// Reset the totals of some owners (a target; a group and its members).
    async fn reset(&self, owners: Vec<CandidateRef>) -> Result<(), StateError> {
        let script = &self
            .steps
            .iter()
            .find(|(n, _)| *n == "reset")
            .expect("reset script")
            .1;
        let op = new_op_id();
        let mut inv = script.prepare_invoke();
        inv.key(self.anchor_key())
            .key(self.op_key(&op))
            .key(self.call_key(""));
        inv.arg(0)
            .arg(self.config.call_retention_seconds)
            .arg(0)
            .arg("-")
            .arg(owners.len())
            .arg("")
            .arg("")
            .arg("")
            .arg("");
        for o in owners {
            for k in self.owner_keys(o, [0; 3]) {
                inv.key(k);
            }
        }
        let mut conn = self.conn.clone();
        let reply: String = inv
            .invoke_async(&mut conn)
            .await
            .map_err(|e| self.classify(&op, &e))?;
        self.invalidate();
        match reply.as_str() {
            "ok" => Ok(()),
            r => Err(self.error_reply(r, "")),
        }
    }

    /// [`Backend::reset_target`].
    pub async fn reset_target(&self, target: &str) -> Result<(), StateError> {
        let t = self.target(target)?;
        self.reset(vec![CandidateRef::Target(t)]).await
    }

    /// [`Backend::reset_group`].
    pub async fn reset_group(&self, group: &str) -> Result<(), StateError> {
        let g = self
            .config
            .group_index(group)
            .ok_or_else(|| StateError::Engine(EngineError::UnknownGroup(group.to_string())))?;
        let mut owners = vec![CandidateRef::Group(g)];
        owners.extend(
            self.config.groups[g]
                .members
                .iter()
                .map(|&m| CandidateRef::Target(m)),
        );
        self.reset(owners).await
    }

    /// [`Backend::anchor`]: the first anchor wins (`SET NX`).
    pub async fn anchor(&self, at: Instant) -> Result<(), StateError> {
        if self.config.as_of.is_some() || self.expected_anchor().1.is_some() {
            return Ok(());
        }
        let mut conn = self.conn.clone();
        let unavailable = |e: RedisError| StateError::Unavailable {
            url: self.shown_url.clone(),
            message: describe(&e),
        };
        let _: Option<String> = redis::cmd("SET")
            .arg(self.anchor_key())
            .arg(at.timestamp())
            .arg("NX")
            .query_async(&mut conn)
            .await
            .map_err(unavailable)?;
        let held: Option<i64> = redis::cmd("GET")
            .arg(self.anchor_key())
            .query_async(&mut conn)
            .await
            .map_err(unavailable)?;
        self.set_anchor(held);
        self.invalidate();
        Ok(())
    }

    /// Every owner's counters at `at`, read from the server in one
    /// read-only script and rebuilt as a core engine (authoritative).
    pub async fn fetch(&self, at: Instant) -> Result<Arc<Engine>, StateError> {
        self.fetch_skipping(at, None).await
    }

    /// [`RedisState::fetch`] leaving out the reservation of `skip` (then
    /// the cache is left alone).
    async fn fetch_skipping(
        &self,
        at: Instant,
        skip: Option<&str>,
    ) -> Result<Arc<Engine>, StateError> {
        let c = &*self.config;
        let owners: Vec<CandidateRef> = (0..c.targets.len())
            .map(CandidateRef::Target)
            .chain((0..c.groups.len()).map(CandidateRef::Group))
            .collect();
        let mut inv = self.read.prepare_invoke();
        inv.key(self.anchor_key());
        inv.arg(at.timestamp()).arg(owners.len());
        let mut starts_of = Vec::with_capacity(owners.len());
        for &o in &owners {
            let zone = self.owner_zone(o);
            let starts = Period::ALL.map(|p| window_start(zone, p, at));
            for k in self.owner_keys(o, starts) {
                inv.key(k);
            }
            starts_of.push(starts);
        }
        let mut conn = self.conn.clone();
        let rows: Vec<Vec<String>> =
            inv.invoke_async(&mut conn)
                .await
                .map_err(|e| StateError::Unavailable {
                    url: self.shown_url.clone(),
                    message: describe(&e),
                })?;
        let bad = |what: &str| StateError::Unavailable {
            url: self.shown_url.clone(),
            message: format!("unexpected read reply: {what}"),
        };
        let anchor: Option<i64> = match self.config.as_of {
            Some(a) => Some(a.timestamp()),
            None => rows
                .first()
                .and_then(|r| r.first())
                .filter(|s| !s.is_empty())
                .map(|s| s.parse().map_err(|_| bad("anchor")))
                .transpose()?,
        };
        if self.config.as_of.is_none() {
            self.set_anchor(anchor);
        }
        let mut snap = Snapshot {
            version: 1,
            targets: Vec::new(),
            groups: Vec::new(),
            calls: Vec::new(),
            callers: Vec::new(),
        };
        let mut valid_until = i64::MAX;
        let ts = at.timestamp();
        for (i, &o) in owners.iter().enumerate() {
            let row = rows.get(i + 1).ok_or_else(|| bad("missing owner"))?;
            if row.len() < 11 {
                return Err(bad("short owner row"));
            }
            let n = |j: usize| row[j].parse::<i64>().map_err(|_| bad("number"));
            let imported = self.imported(o, at, anchor.or(Some(ts)));
            let imp = |j: usize| imported[j].parse::<i64>().unwrap_or(0);
            let reset = row[9] == "1";
            let fmt = |s: i64| {
                DateTime::from_timestamp(s, 0)
                    .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
            };
            let slot = |j: usize| -> Result<SlotSnapshot, StateError> {
                let count = u64::try_from(n(j)? + imp(j)).unwrap_or(0);
                let revenue = Money(n(j + 4)? + imp(j + 4));
                Ok(SlotSnapshot {
                    start: if anchor.is_some() {
                        fmt(starts_of[i][j])
                    } else {
                        None
                    },
                    count,
                    revenue: revenue.to_string(),
                })
            };
            let total = n(3)? + if reset { 0 } else { imp(3) };
            let total_rev = n(7)? + if reset { 0 } else { imp(7) };
            let live = n(8)? + imp(8);
            if let Some(a) = anchor {
                // the imported live calls stop holding then
                let until = a.saturating_add(self.lease_secs());
                if until > ts {
                    valid_until = valid_until.min(until);
                }
            }
            if let Ok(first) = row[10].parse::<f64>() {
                valid_until = valid_until.min(first as i64);
            }
            let zone = self.owner_zone(o);
            for p in Period::ALL {
                let w = routecap_core::window::window(zone, p, at);
                valid_until = valid_until.min(w.end.timestamp());
            }
            let (id, list) = match o {
                CandidateRef::Target(t) => (c.targets[t].id.clone(), &mut snap.targets),
                CandidateRef::Group(g) => (c.groups[g].id.clone(), &mut snap.groups),
            };
            list.push(OwnerSnapshot {
                id: id.clone(),
                hour: slot(0)?,
                day: slot(1)?,
                month: slot(2)?,
                total: u64::try_from(total).unwrap_or(0),
                total_revenue: Money(total_rev).to_string(),
                live: u64::try_from(live).unwrap_or(0),
                // version 1: `live` beyond the call records is imported
                imported_live: 0,
                imported_live_until: None,
            });
            if let CandidateRef::Target(_) = o {
                for pair in row[11..].chunks(2) {
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
        let engine =
            Arc::new(Engine::restore(self.config.clone(), &snap).map_err(|e| bad(&e.to_string()))?);
        if skip.is_some() {
            return Ok(engine);
        }
        *self.cache.lock().unwrap_or_else(PoisonError::into_inner) = Some(Cached {
            fetched: std::time::Instant::now(),
            at: ts,
            valid_until,
            engine: engine.clone(),
        });
        Ok(engine)
    }

    /// Counters for `check`/`route` at `at`: from the local cache when it
    /// is at most `refresh` old and `at` lies where it stays true, else
    /// fetched.
    pub async fn view(&self, at: Instant) -> Result<Arc<Engine>, StateError> {
        let ts = at.timestamp();
        if let Some(c) = &*self.cache.lock().unwrap_or_else(PoisonError::into_inner) {
            if c.fetched.elapsed() <= self.opts.refresh && c.at <= ts && ts < c.valid_until {
                return Ok(c.engine.clone());
            }
        }
        self.fetch(at).await
    }
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

/// [`RedisState`] for synchronous callers: owns a one-worker tokio runtime.
pub struct RedisBackend {
    rt: tokio::runtime::Runtime,
    state: RedisState,
}

impl std::fmt::Debug for RedisBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.state.fmt(f)
    }
}

impl RedisBackend {
    /// Connect (see [`RedisState::open`]).
    pub fn open(
        config: impl Into<Arc<Config>>,
        opts: RedisOptions,
    ) -> Result<RedisBackend, StateError> {
        let url = redact_url(&opts.url);
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .map_err(|e| StateError::Unavailable {
                url,
                message: format!("cannot start the I/O runtime: {e}"),
            })?;
        let state = rt.block_on(RedisState::open(config, opts))?;
        Ok(RedisBackend { rt, state })
    }

    /// The async state underneath.
    pub fn state(&self) -> &RedisState {
        &self.state
    }

    /// [`RedisState::connect_op`].
    pub fn connect_op(
        &self,
        op: &str,
        call: &str,
        target: &str,
        at: Instant,
    ) -> Result<ConnectOutcome, StateError> {
        self.rt
            .block_on(self.state.connect_op(op, call, target, at))
    }

    /// [`RedisState::convert_op`].
    pub fn convert_op(
        &self,
        op: &str,
        call: &str,
        revenue: Money,
        at: Instant,
    ) -> Result<(), StateError> {
        self.rt
            .block_on(self.state.convert_op(op, call, revenue, at))
    }

    /// [`RedisState::end_op`].
    pub fn end_op(&self, op: &str, call: &str, at: Instant) -> Result<(), StateError> {
        self.rt.block_on(self.state.end_op(op, call, at))
    }

    /// [`RedisState::fetch`]: authoritative counters at `at`.
    pub fn fetch(&self, at: Instant) -> Result<Arc<Engine>, StateError> {
        self.rt.block_on(self.state.fetch(at))
    }
}

impl Backend for RedisBackend {
    fn config(&self) -> &Arc<Config> {
        self.state.config()
    }

    fn anchor(&self, at: Instant) -> Result<(), StateError> {
        self.rt.block_on(self.state.anchor(at))
    }

    fn connect(&self, call: &str, target: &str, at: Instant) -> Result<ConnectOutcome, StateError> {
        self.connect_op(&new_op_id(), call, target, at)
    }

    fn reserve(
        &self,
        call: &str,
        target: &str,
        ttl_secs: u64,
        at: Instant,
    ) -> Result<ConnectOutcome, StateError> {
        self.rt.block_on(
            self.state
                .reserve_op(&new_op_id(), call, target, ttl_secs, at),
        )
    }

    fn convert(&self, call: &str, revenue: Money, at: Instant) -> Result<(), StateError> {
        self.convert_op(&new_op_id(), call, revenue, at)
    }

    fn end(&self, call: &str, at: Instant) -> Result<(), StateError> {
        self.end_op(&new_op_id(), call, at)
    }

    fn touch(&self, call: &str, at: Instant) -> Result<(), StateError> {
        self.rt
            .block_on(self.state.touch_op(&new_op_id(), call, at))
    }

    fn cancel(&self, call: &str, at: Instant) -> Result<(), StateError> {
        self.rt
            .block_on(self.state.cancel_op(&new_op_id(), call, at))
    }

    fn reset_target(&self, target: &str) -> Result<(), StateError> {
        self.rt.block_on(self.state.reset_target(target))
    }

    fn reset_group(&self, group: &str) -> Result<(), StateError> {
        self.rt.block_on(self.state.reset_group(group))
    }

    fn check(&self, at: Instant) -> Result<Vec<CandidateReport>, StateError> {
        Ok(self.rt.block_on(self.state.view(at))?.check(at))
    }

    fn route_view(&self, at: Instant, seed: u64) -> Result<RouteView, StateError> {
        let engine = self.rt.block_on(self.state.view(at))?;
        Ok(route_view_of(&engine, at, seed))
    }

    fn usage(&self, at: Instant) -> Result<Vec<UsageRow>, StateError> {
        let engine = self.rt.block_on(self.state.fetch(at))?;
        Ok(usage_of(&engine, at))
    }
}
