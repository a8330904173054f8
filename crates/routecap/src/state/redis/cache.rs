//! Reads: the counters rebuilt from the server, the local cache of them,
//! and the hints of which target holds a call.
//!
//! `check` and `route` read a core state rebuilt from one read-only
//! script, cached for at most `refresh` and only while no window, lease
//! or reservation it saw has ended. A step this process applies is applied
//! to the cache too, by memory's own rules, so reads see the process's
//! own writes at once (other processes' within `refresh`); when the cache
//! disagrees (a call it never saw, a refusal the server did not make) or a
//! write is ambiguous, it is dropped. `connect` and `reserve` never read
//! it; a refusal reads the server again to list every reason.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, PoisonError};

use routecap_core::caps::Period;
use routecap_core::filter::CallAttrs;
use routecap_core::model::{CandidateRef, Config};
use routecap_core::money::Money;
use routecap_core::render::{CheckView, RouteView, UsageView};
use routecap_core::route::Draws;
use routecap_core::snapshot::{CallSnapshot, OwnerSnapshot, SlotSnapshot, Snapshot};
use routecap_core::window::window_start;
use routecap_core::{Call, Instant};

use super::caller_history::{history_of, history_rows};
use super::config_store::Loaded;
use super::{owner_id, owner_zone, owners_of, ts, RedisState, RETRIES};
use crate::state::StateError;
use crate::Engine;

/// The counters of every owner at one instant, rebuilt as a core engine.
pub(super) struct Cached {
    fetched: std::time::Instant,
    ver: String,
    /// The caller whose whole history was read with it (others' history
    /// in it may be partial: this process's own writes only).
    caller: Option<String>,
    at: i64,
    valid_until: i64,
    engine: Arc<Engine>,
}

/// Most call-target hints kept; past it they are all dropped.
pub(super) const MAX_HINTS: usize = 100_000;

impl RedisState {
    pub(super) fn invalidate(&self) {
        *self.cache.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }

    /// Apply a step the server just applied to the cached state too (the
    /// same rules as memory), so reads see this process's own writes at
    /// once; `apply` answers whether the cache took it the same way, else
    /// the cache is dropped (e.g. a call it never saw).
    pub(super) fn cache_apply(&self, apply: impl FnOnce(&Engine) -> bool) {
        let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(c) = &*cache {
            if !apply(&c.engine) {
                *cache = None;
            }
        }
    }

    pub(super) fn hint(&self, call: &str) -> Option<String> {
        self.hints
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(call)
            .cloned()
    }

    /// Drop every hint (the calls they name are gone).
    pub(super) fn forget_hints(&self) {
        self.hints
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    pub(super) fn set_hint(&self, call: &str, target: Option<&str>) {
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

    /// Every owner's counters at `at`, read from the server in one
    /// read-only script and rebuilt as a core engine (authoritative).
    pub async fn fetch(&self, at: Instant) -> Result<Arc<Engine>, StateError> {
        self.fetch_skipping(at, None, None).await
    }

    /// [`RedisState::fetch`] leaving out the reservation of `skip` (then
    /// the cache is left alone), with `caller`'s history.
    pub(super) async fn fetch_skipping(
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
        let owners = owners_of(&l.config);
        let (rows, starts_of) = self.read_rows(l, &owners, at, caller).await?;
        let bad = |what: &str| self.unavailable(format!("unexpected read reply: {what}"));
        let head = rows.first().ok_or_else(|| bad("empty"))?;
        let ver = head.first().cloned().unwrap_or_default();
        if ver != l.ver {
            self.reload().await?;
            return Ok(None);
        }
        let anchor: Option<i64> = head.get(1).and_then(|s| s.parse().ok());
        self.set_anchor(anchor);
        let read =
            Rebuilt::of(&l.config, &owners, &rows, &starts_of, at, skip, caller).map_err(bad)?;
        if !read.any_pending {
            self.maybe_pending.store(false, Ordering::Relaxed);
        }
        let engine =
            Engine::restore(l.config.clone(), &read.snap).map_err(|e| bad(&e.to_string()))?;
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
                at: at.timestamp(),
                valid_until: read.valid_until,
                engine: engine.clone(),
            });
        }
        Ok(Some(engine))
    }

    /// Run the read script over `owners` (and `caller`'s history) at `at`:
    /// its rows, and the window starts sent for each owner.
    async fn read_rows(
        &self,
        l: &Loaded,
        owners: &[CandidateRef],
        at: Instant,
        caller: Option<&str>,
    ) -> Result<(Vec<Vec<String>>, Vec<[i64; 3]>), StateError> {
        let c = &*l.config;
        let mut inv = self.read.prepare_invoke();
        inv.key(self.config_key());
        inv.arg(at.timestamp()).arg(owners.len());
        let mut starts_of = Vec::with_capacity(owners.len());
        for &o in owners {
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
        Ok((rows, starts_of))
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

    /// Eligibility of every candidate for `call` at `at`, as `routecap
    /// check --json` prints it (from the cache; see `view`).
    pub(crate) async fn check_call(
        &self,
        call: &Call,
        at: Instant,
    ) -> Result<CheckView, StateError> {
        Ok(self.view_for(at, call.attrs()).await?.check(call, at)?)
    }

    /// The whole plan for `call` at `at` drawn from `draws`, as `routecap
    /// route --json` prints it. Anchors imported usage first, as a memory
    /// route decision does.
    pub(crate) async fn route_draws(
        &self,
        call: &Call,
        at: Instant,
        draws: &mut Draws,
    ) -> Result<RouteView, StateError> {
        Self::check_instant(at)?;
        self.anchor(at).await?;
        Ok(self
            .view_for(at, call.attrs())
            .await?
            .route(call, at, draws)?)
    }

    /// Every cap of every target and group at `at`, as `routecap usage
    /// --json` prints it (authoritative; imported usage not anchored yet
    /// reads as anchored at `at`, without writing the anchor).
    pub(crate) async fn usage_view(&self, at: Instant) -> Result<UsageView, StateError> {
        // a fresh read, never cached: anchoring it must not reach the
        // shared cache (skipping the empty call id skips nothing)
        let engine = self.fetch_skipping(at, Some(""), None).await?;
        Ok(engine.usage(at))
    }
}

/// A read reply rebuilt as a core snapshot.
struct Rebuilt {
    snap: Snapshot,
    /// Until when (Unix s) what the read saw stays true: the first end of
    /// a window, a lease, a reservation or imported live calls.
    valid_until: i64,
    /// Whether some owner's imported usage is not anchored yet.
    any_pending: bool,
    /// Where each reservation is in `snap.calls` and its expiry, by call id.
    held: HashMap<String, (usize, i64)>,
}

impl Rebuilt {
    /// The rows of a read at `at` (after its head: one per owner of
    /// `owners`, `starts_of` their window starts, then `caller`'s history),
    /// leaving out `skip`'s reservation. `Err`: what is malformed.
    fn of(
        c: &Config,
        owners: &[CandidateRef],
        rows: &[Vec<String>],
        starts_of: &[[i64; 3]],
        at: Instant,
        skip: Option<&str>,
        caller: Option<&str>,
    ) -> Result<Rebuilt, &'static str> {
        let mut out = Rebuilt {
            snap: Snapshot {
                version: 1,
                targets: Vec::new(),
                groups: Vec::new(),
                calls: Vec::new(),
                callers: Vec::new(),
            },
            valid_until: i64::MAX,
            any_pending: false,
            held: HashMap::new(),
        };
        for (i, &o) in owners.iter().enumerate() {
            let row = rows.get(i + 1).ok_or("missing owner")?;
            out.push_owner(c, o, row, &starts_of[i], at, skip)?;
        }
        if let Some(caller) = caller {
            let fields = rows.get(owners.len() + 1).map_or(&[][..], Vec::as_slice);
            out.snap.callers = history_rows(caller, fields, &rfc3339);
        }
        Ok(out)
    }

    /// Owner `o`'s row (`starts`: its window starts at `at`) and, for a
    /// target, its reservations but `skip`'s.
    fn push_owner(
        &mut self,
        c: &Config,
        o: CandidateRef,
        row: &[String],
        starts: &[i64; 3],
        at: Instant,
        skip: Option<&str>,
    ) -> Result<(), &'static str> {
        if row.len() < 13 {
            return Err("short owner row");
        }
        let now = at.timestamp();
        let n = |j: usize| row[j].parse::<i64>().map_err(|_| "number");
        let pending = row[11] == "1";
        self.any_pending |= pending;
        let slot = |j: usize| -> Result<SlotSnapshot, &'static str> {
            Ok(SlotSnapshot {
                start: if pending { None } else { rfc3339(starts[j]) },
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
                self.valid_until = self.valid_until.min(u);
            }
        }
        let live = n(8)? + if imported_holds { il } else { 0 };
        if let Ok(first) = row[12].parse::<f64>() {
            self.valid_until = self.valid_until.min(first as i64);
        }
        let zone = owner_zone(c, o);
        for p in Period::ALL {
            let w = routecap_core::window::window(zone, p, at);
            self.valid_until = self.valid_until.min(w.end.timestamp());
        }
        let id = owner_id(c, o).to_string();
        let list = match o {
            CandidateRef::Target(_) => &mut self.snap.targets,
            CandidateRef::Group(_) => &mut self.snap.groups,
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
            self.push_reservations(&id, &row[13..], skip)?;
        }
        Ok(())
    }

    /// A target's live reservations (call, expiry pairs) but `skip`'s.
    fn push_reservations(
        &mut self,
        target: &str,
        holds: &[String],
        skip: Option<&str>,
    ) -> Result<(), &'static str> {
        for pair in holds.chunks(2) {
            let [call, exp] = pair else { continue };
            if Some(call.as_str()) == skip {
                continue;
            }
            let exp = exp.parse::<f64>().map_err(|_| "hold expiry")? as i64;
            self.valid_until = self.valid_until.min(exp);
            let at_s = rfc3339(exp).ok_or("hold expiry")?;
            // an entry an earlier life of the call id left on another
            // target (written before reservations recorded their held
            // sets): the later expiry is the later life, the one memory knows
            if let Some(entry) = self.held.get_mut(call.as_str()) {
                if entry.1 < exp {
                    entry.1 = exp;
                    let listed = &mut self.snap.calls[entry.0];
                    listed.target = target.to_string();
                    listed.at = at_s.clone();
                    listed.expires = Some(at_s);
                }
                continue;
            }
            self.held.insert(call.clone(), (self.snap.calls.len(), exp));
            self.snap.calls.push(CallSnapshot {
                call: call.clone(),
                target: target.to_string(),
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
        Ok(())
    }
}

/// Unix seconds as RFC 3339, as snapshots write instants.
fn rfc3339(s: i64) -> Option<String> {
    ts(s).map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
}
