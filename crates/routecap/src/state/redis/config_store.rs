//! The config the namespace holds, and changing it for every process.
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

use std::sync::atomic::Ordering;
use std::sync::{Arc, PoisonError};

use routecap_core::caps::{Period, Usage};
use routecap_core::carry_over::Dropped;
use routecap_core::engine::EngineError;
use routecap_core::formats::source::{OwnerKind, Source};
use routecap_core::formats::Format;
use routecap_core::lifecycle::State;
use routecap_core::model::{CandidateRef, Config};
use routecap_core::window::window_start;
use routecap_core::Instant;

use super::keys::{owner_keys, prefix_in};
use super::{owner_usage, owner_zone, owners_of, RedisState, RETRIES};
use crate::state::{ConfigChange, StateError, VersionedConfig};

/// What a config change does to the namespace's version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stamp {
    /// Keep the version (and document) the namespace holds.
    Keep,
    /// The next version, with the new document.
    Bump,
    /// Seed an emptied namespace: this document at this version at least.
    Seed(u64),
}

/// The config in force, as this process knows it.
pub(super) struct Loaded {
    pub(super) config: Arc<Config>,
    /// The document, when the namespace holds one (patches need it).
    source: Option<Source>,
    /// The namespace's config version this is (`""`: none yet).
    pub(super) ver: String,
    /// The config's own usage with nothing counted: filters are judged
    /// against it before a connect (only their reasons are read).
    pub(super) blank: State,
    /// Each owner's keys (hash, live, held), targets then groups in
    /// config order: built once per config, not per step.
    keys: Vec<[String; 3]>,
}

impl Loaded {
    /// The version as a number (0: none yet).
    pub(super) fn version(&self) -> u64 {
        self.ver.parse().unwrap_or(0)
    }

    /// The config with its version.
    fn versioned(&self) -> VersionedConfig {
        VersionedConfig {
            version: self.version(),
            config: self.config.clone(),
        }
    }

    pub(super) fn new(
        config: Arc<Config>,
        source: Option<Source>,
        ver: String,
        ns: &str,
    ) -> Arc<Loaded> {
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
    pub(super) fn keys_of(&self, owner: CandidateRef) -> &[String; 3] {
        let i = match owner {
            CandidateRef::Target(t) => t,
            CandidateRef::Group(g) => self.config.targets.len() + g,
        };
        &self.keys[i]
    }
}

/// The id the config gives the target (else group) named `name`.
pub(super) fn resolve_in(l: &Loaded, kind: OwnerKind, name: &str) -> Result<String, StateError> {
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

impl RedisState {
    /// Join the namespace: store or adopt the config (see `open*`).
    pub(super) async fn join(&self, with_document: bool) -> Result<(), StateError> {
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
            let stamp = if with_document || stored.is_none() {
                Stamp::Bump
            } else {
                Stamp::Keep
            };
            match self
                .apply_config(
                    &mine.config,
                    mine.source.as_ref(),
                    old.as_ref(),
                    &expected,
                    stamp,
                    // joining has no event instant: a process opened with
                    // another document moves no window (change the
                    // config with a dated event to move them)
                    None,
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

    pub(super) fn loaded(&self) -> Arc<Loaded> {
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
    pub(super) async fn reload(&self) -> Result<(), StateError> {
        let stored = self.stored_config().await?;
        self.reload_from(stored).await
    }

    /// Switch to `stored`; an emptied namespace is seeded again.
    async fn reload_from(
        &self,
        stored: Option<(String, Option<Source>)>,
    ) -> Result<(), StateError> {
        match stored {
            None => self.reseed().await,
            Some((ver, source)) => self.adopt(ver, source),
        }
    }

    /// Run the namespace's config `ver` (its document, or ours when it
    /// holds none).
    fn adopt(&self, ver: String, source: Option<Source>) -> Result<(), StateError> {
        match source {
            None => {
                let mine = self.loaded();
                self.set_loaded(Loaded::new(mine.config.clone(), None, ver, self.ns()));
            }
            Some(source) => {
                let (source, config) =
                    Source::from_value(source.document().clone(), "stored", Some(source.format()))
                        .map_err(|e| self.unavailable(format!("stored config document: {e}")))?;
                self.set_loaded(Loaded::new(Arc::new(config), Some(source), ver, self.ns()));
            }
        }
        Ok(())
    }

    /// The namespace was emptied while in use (its server restarted
    /// without its data, or FLUSHDB): seed it again from the config in
    /// force, as a first start would (owners from their imported usage),
    /// at a version above the last one seen. Counts, live calls and
    /// reservations the server lost stay lost; a log line and
    /// [`RedisState::reseeds`] say so. When another process seeded it
    /// first, its config is adopted.
    async fn reseed(&self) -> Result<(), StateError> {
        let l = self.loaded();
        let floor = l.version() + 1;
        let seeded = self
            .apply_config(
                &l.config,
                l.source.as_ref(),
                None,
                "",
                Stamp::Seed(floor),
                None,
            )
            .await?;
        match seeded {
            Some((ver, _)) => {
                self.set_loaded(Loaded::new(
                    l.config.clone(),
                    l.source.clone(),
                    ver.clone(),
                    self.ns(),
                ));
                self.forget_hints();
                self.reseeds.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(
                    namespace = self.ns(),
                    url = %self.shown_url,
                    config_version = %ver,
                    "the state server had lost this namespace (restarted without its data?): \
                     seeded it again from the running config; counts, live calls and \
                     reservations it held are lost"
                );
                self.refresh_anchor().await
            }
            None => match self.stored_config().await? {
                Some((ver, source)) => self.adopt(ver, source),
                None => Err(self.unavailable(format!(
                    "namespace {:?} was emptied again while being seeded",
                    self.ns()
                ))),
            },
        }
    }

    /// How many times this process seeded its emptied namespace again.
    pub fn reseeds(&self) -> u64 {
        self.reseeds.load(Ordering::Relaxed)
    }

    /// The config in force and its version, as the namespace holds them
    /// now (one `HGET` when this process is up to date; an emptied
    /// namespace is seeded again).
    pub(crate) async fn versioned(&self) -> Result<VersionedConfig, StateError> {
        let mut conn = self.conn.clone();
        let ver: Option<String> = redis::cmd("HGET")
            .arg(self.config_key())
            .arg("ver")
            .query_async(&mut conn)
            .await
            .map_err(|e| self.io(&e))?;
        match ver {
            None => self.reseed().await?,
            Some(v) if v != self.loaded().ver => self.reload().await?,
            Some(_) => {}
        }
        Ok(self.loaded().versioned())
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
    /// deaths of `old`'s owners `new` lacks, group unions, and (unless
    /// [`Stamp::Keep`]) the new document and version; owners whose zone
    /// changed move their windows at `at` (see `routecap_core::carry_over`).
    /// `None` when the namespace's version was not `expected` (empty: when
    /// it held something; nothing changed).
    async fn apply_config(
        &self,
        new: &Config,
        source: Option<&Source>,
        old: Option<&Config>,
        expected: &str,
        stamp: Stamp,
        at: Option<Instant>,
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
        let (removed, mut dropped) = removed_owners(new, old);
        inv.arg(
            if expected.is_empty() && old.is_none() && stamp == Stamp::Bump {
                "*"
            } else {
                expected
            },
        );
        inv.arg(match stamp {
            Stamp::Keep => "keep".to_string(),
            Stamp::Bump => "bump".to_string(),
            Stamp::Seed(floor) => format!("seed:{floor}"),
        })
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
            for start in rezone_args(old, new, o, at) {
                inv.arg(start);
            }
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
    ///
    /// With `expected`, only when the namespace's version is that one
    /// (checked by the same script that changes it): else
    /// [`StateError::StaleConfig`] and nothing changes.
    async fn change_config(
        &self,
        at: Option<Instant>,
        expected: Option<u64>,
        change: impl Fn(&Loaded) -> Result<(Source, Config), StateError>,
    ) -> Result<ConfigChange, StateError> {
        for _ in 0..RETRIES {
            let l = self.loaded();
            if let Some(e) = expected.filter(|&e| e != l.version()) {
                // this process may be behind the namespace: ask it
                self.reload().await?;
                let current = self.loaded().version();
                if current != e {
                    return Err(StateError::StaleConfig {
                        expected: e,
                        current,
                    });
                }
                continue;
            }
            let (source, config) = change(&l)?;
            match self
                .apply_config(
                    &config,
                    Some(&source),
                    Some(&l.config),
                    &l.ver,
                    Stamp::Bump,
                    at,
                )
                .await?
            {
                Some((ver, dropped)) => {
                    let after = Loaded::new(Arc::new(config), Some(source), ver, self.ns());
                    let change = ConfigChange {
                        before: l.versioned(),
                        after: after.versioned(),
                        dropped,
                    };
                    self.set_loaded(after);
                    return Ok(change);
                }
                None => self.reload().await?,
            }
        }
        Err(self.unavailable("the namespace's config kept changing".to_string()))
    }

    /// Replace the whole config (a document in shape `format`, `None`:
    /// detected; `file` names it in errors) for every process of the
    /// namespace: counters, live calls and reservations are kept by id.
    /// What was dropped is returned.
    pub(crate) async fn update_value(
        &self,
        doc: &serde_json::Value,
        file: &str,
        format: Option<Format>,
        at: Instant,
        expected: Option<u64>,
    ) -> Result<ConfigChange, StateError> {
        let (source, config) = Source::from_value(doc.clone(), file, format)
            .map_err(|e| StateError::Engine(e.into()))?;
        self.change_config(Some(at), expected, |_| Ok((source.clone(), config.clone())))
            .await
    }

    /// The id of the target (or group) named `name` (Retreaver targets
    /// may be named by `tid`).
    pub fn resolve(&self, kind: OwnerKind, name: &str) -> Result<String, StateError> {
        resolve_in(&self.loaded(), kind, name)
    }

    /// Patch one target or group (a partial object in the config's own
    /// shape) for every process of the namespace; `request` names it in
    /// errors.
    pub(crate) async fn patch_value(
        &self,
        kind: OwnerKind,
        name: &str,
        patch: &serde_json::Value,
        request: &str,
        at: Instant,
        expected: Option<u64>,
    ) -> Result<ConfigChange, StateError> {
        self.change_config(Some(at), expected, |l| {
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
    pub(crate) async fn set_paused(
        &self,
        kind: OwnerKind,
        name: &str,
        paused: bool,
    ) -> Result<(), StateError> {
        // a pause moves no zone
        self.change_config(None, None, |l| {
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
}

/// The config script's window moves of owner `o` of `new` at `at`: the
/// starts (Unix s) of the hour, day and month windows holding `at` in the
/// zone it had in `old`, then in its zone in `new`; empty strings when it
/// is new, its zone keeps every window, or there is no change instant.
fn rezone_args(
    old: Option<&Config>,
    new: &Config,
    o: CandidateRef,
    at: Option<Instant>,
) -> [String; 6] {
    let none = || std::array::from_fn(|_| String::new());
    let (Some(old), Some(at)) = (old, at) else {
        return none();
    };
    let before = match o {
        CandidateRef::Target(t) => old
            .target_index(&new.targets[t].id)
            .map(CandidateRef::Target),
        CandidateRef::Group(g) => old.group_index(&new.groups[g].id).map(CandidateRef::Group),
    };
    let Some(before) = before else {
        return none();
    };
    let starts = |c: &Config, o| Period::ALL.map(|p| window_start(owner_zone(c, o), p, at));
    let (from, to) = (starts(old, before), starts(new, o));
    if from == to {
        return none();
    }
    let mut out = none();
    for (slot, v) in out.iter_mut().zip(from.iter().chain(&to)) {
        *slot = v.to_string();
    }
    out
}

/// The owners of `old` that `new` lacks, as (`t`/`g`, id) for the config
/// script, and as the targets and groups a change drops.
fn removed_owners(new: &Config, old: Option<&Config>) -> (Vec<(&'static str, String)>, Dropped) {
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
    (removed, dropped)
}
