//! Anchoring imported usage, and usage imports.
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

use std::sync::atomic::Ordering;
use std::sync::PoisonError;

use routecap_core::caps::ImportedUsage;
use routecap_core::carry_over::{UsageImport, UsageImportError};
use routecap_core::engine::EngineError;
use routecap_core::model::{CandidateRef, Config};
use routecap_core::money::Money;
use routecap_core::Instant;

use super::{owners_of, RedisState, RETRIES};
use crate::state::StateError;

/// The owner a usage import names (targets first, as memory resolves it).
pub(super) fn resolve_usage_owner(c: &Config, id: &str, ignore_case: bool) -> Option<CandidateRef> {
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

/// An import's amounts as script arguments (empty = not named), in the
/// order of [`RedisState::usage_args`].
pub(super) fn imported_args(u: &ImportedUsage) -> [String; 9] {
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

impl RedisState {
    pub(super) fn known_anchor(&self) -> Option<i64> {
        *self.anchor.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(super) fn set_anchor(&self, a: Option<i64>) {
        *self.anchor.lock().unwrap_or_else(PoisonError::into_inner) = a;
    }

    pub(super) async fn refresh_anchor(&self) -> Result<(), StateError> {
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
    pub(crate) async fn import(&self, at: Instant, usage: &UsageImport) -> Result<(), StateError> {
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
}
