//! The server-side scripts and how a step calls them: the lifecycle steps
//! are one Functions library (`steps`), called with `FCALL` and loaded
//! whenever the server lacks it; anchoring, usage imports, config changes
//! and the read are plain scripts over the namespace (`namespace`).

use std::sync::atomic::Ordering;

use redis::RedisError;
use routecap_core::caps::Period;
use routecap_core::effects::{self, OwnerEffect};
use routecap_core::model::CandidateRef;
use routecap_core::money::Money;
use routecap_core::window::window_start;
use routecap_core::Instant;

use super::config_store::Loaded;
use super::{owner_zone, ts, RedisState};
use crate::state::StateError;

mod namespace;
mod steps;

pub(super) use namespace::{ANCHOR, CONFIG, IMPORT, READ};
pub(super) use steps::library;

/// A lifecycle step as the scripts name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Step {
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
pub(super) enum Reply {
    /// `ok`, `refused` or `err:…`.
    Done(String),
    /// The call is on this other target: ask again there.
    OtherTarget(String),
    /// The config or anchor moved (already reloaded): ask again.
    Again,
}

/// The keys and arguments of one step function call (`FCALL`).
#[derive(Default)]
pub(super) struct StepCall {
    keys: Vec<String>,
    args: Vec<String>,
}

impl StepCall {
    pub(super) fn key(&mut self, k: impl ToString) -> &mut Self {
        self.keys.push(k.to_string());
        self
    }

    pub(super) fn arg(&mut self, a: impl ToString) -> &mut Self {
        self.args.push(a.to_string());
        self
    }
}

/// The caller-rule part of a step script's call (see `steps.rs`): the
/// caller's history key, when the script reads or writes it, and the
/// arguments after the owners'.
#[derive(Default)]
pub(super) struct CallerArgs {
    pub(super) key: Option<String>,
    pub(super) args: Vec<String>,
}

/// An `Option<u64>`/`Option<Money>` limit as a script argument.
pub(super) fn lim<T: ToString>(v: Option<T>) -> String {
    v.map_or_else(String::new, |v| v.to_string())
}

/// The size in bytes of the connect script: the benchmark's raw `EVALSHA`
/// anchor runs a script of this size.
pub fn connect_script_len() -> usize {
    steps::connect_script_len()
}

impl RedisState {
    /// The `ver:anchor` a script expects.
    pub(super) fn expect(&self, l: &Loaded) -> String {
        let a = self.known_anchor().map_or(String::new(), |a| a.to_string());
        format!("{}:{a}", l.ver)
    }

    /// After a `stale:VER:ANCHOR` reply: reload what moved.
    pub(super) async fn on_stale(&self, l: &Loaded, seen: &str) -> Result<(), StateError> {
        let (ver, anchor) = seen.split_once(':').unwrap_or((seen, ""));
        self.set_anchor(anchor.parse().ok());
        if ver != l.ver {
            self.reload().await?;
        }
        self.invalidate();
        Ok(())
    }

    /// Run step `step` for `call` on target `target` (index `t` in `l`'s
    /// config; `None`: a target the config no longer has).
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn run(
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
    pub(super) async fn fcall(&self, step: Step, call: &StepCall) -> Result<String, RedisError> {
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
}
