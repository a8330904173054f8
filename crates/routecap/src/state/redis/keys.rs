//! The names of a namespace's keys.
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
//! | `{NS}:call:<len>:<id>` | hash | call record: `phase` (`r` reserved, `c` connected, `x` cancelled), `target`, `exp`, `lease`, `ended`, `conv`, `gone` (when it is forgotten), `caller` (a known caller's number), `hk` (a reservation's held sets, each key as `<len>:<key>`: a call id reserved again leaves them), `op`/`rep` (the last operation applied to it and its reply) |
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
//! server drops the key (it drops it then too, relative to the event; a
//! reservation's record a retention later, so that its call id reserved
//! or connected again finds the held sets to leave).
//! A caller's history lives until its `last` event + the config's longest
//! caller-rule window + the same hour, relative to the event instant.
//! Sorted sets are counted by score inside the scripts: a call whose
//! process died frees its concurrency when its lease (`call_lease_seconds`
//! after connect or last touch) runs out. Lapsed entries are removed by
//! a connect: at once from an owner with a concurrency cap, at most one
//! lease later from another (`lp`: one command less per connect).

use routecap_core::caps::Period;
use routecap_core::model::{CandidateRef, Config};
use routecap_core::window::window_start;
use routecap_core::Instant;

use super::{owner_zone, RedisState};

/// The key prefix of an owner: `{NS}:t:<len>:<id>` or `{NS}:g:<len>:<id>`.
pub(super) fn owner_prefix_in(ns: &str, kind: &str, id: &str) -> String {
    format!("{{{ns}}}:{kind}:{}:{id}", id.len())
}

pub(super) fn prefix_in(ns: &str, c: &Config, owner: CandidateRef) -> String {
    match owner {
        CandidateRef::Target(t) => owner_prefix_in(ns, "t", &c.targets[t].id),
        CandidateRef::Group(g) => owner_prefix_in(ns, "g", &c.groups[g].id),
    }
}

/// The 3 keys of an owner with prefix `p`: its hash (totals, window
/// slots, imported usage), live calls, reservations.
pub(super) fn owner_keys(p: &str) -> [String; 3] {
    [format!("{p}:o"), format!("{p}:live"), format!("{p}:held")]
}

impl RedisState {
    pub(super) fn owner_prefix(&self, kind: &str, id: &str) -> String {
        owner_prefix_in(self.ns(), kind, id)
    }

    pub(super) fn prefix_of(&self, c: &Config, owner: CandidateRef) -> String {
        prefix_in(self.ns(), c, owner)
    }

    /// Pass owner `o`'s hash as a key; returns the starts of the hour, day
    /// and month windows containing `at` (Unix s) for `ARGV`. Without an
    /// instant, 0 (nothing to anchor).
    pub(super) fn window_keys(
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

    pub(super) fn config_key(&self) -> String {
        format!("{{{}}}:config", self.ns())
    }

    pub(super) fn call_prefix(&self) -> String {
        format!("{{{}}}:call:", self.ns())
    }

    pub(super) fn call_key(&self, call: &str) -> String {
        format!("{}{}:{call}", self.call_prefix(), call.len())
    }

    pub(super) fn caller_prefix(&self) -> String {
        format!("{{{}}}:caller:", self.ns())
    }

    /// The hash of a known caller's history (`duplicates`, `repeat_callers`).
    pub(super) fn caller_key(&self, caller: &str) -> String {
        format!("{}{}:{caller}", self.caller_prefix(), caller.len())
    }

    pub(super) fn op_key(&self, op: &str) -> String {
        format!("{{{}}}:op:{op}", self.ns())
    }
}
