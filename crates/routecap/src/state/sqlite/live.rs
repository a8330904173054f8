//! The state the process decides with: the engine, the idempotency log
//! and the number of the last logged event, behind one lock. Every change
//! is applied and handed to the writer under the write lock, so the log's
//! order is the order the engine applied the changes in.

use std::collections::HashMap;
use std::sync::Mutex;

use routecap_core::engine::Engine as Core;
use serde::{Deserialize, Serialize};

use super::event::Step;

/// The applied lifecycle request a retry key names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Request {
    /// The key (an HTTP `Idempotency-Key`).
    pub key: String,
    pub call: String,
    pub step: Step,
    /// The event that applied it: a retry is answered once that is committed.
    pub seq: u64,
}

/// Applied lifecycle requests by retry key, kept while their call is in
/// the state (a settled call is forgotten with its keys).
#[derive(Debug, Default)]
pub(super) struct Requests {
    by_key: HashMap<String, Request>,
}

impl Requests {
    /// The event that applied this request before, when `key` names the
    /// same step of the same call and the call is still known.
    pub(super) fn applied(&self, core: &Core, key: &str, call: &str, step: Step) -> Option<u64> {
        let r = self.by_key.get(key)?;
        (r.call == call && r.step == step && core.state().call(call).is_some()).then_some(r.seq)
    }

    /// Remember that event `seq` applied `step` of `call` under `key`.
    pub(super) fn record(&mut self, key: &str, call: &str, step: Step, seq: u64) {
        self.by_key.insert(
            key.to_string(),
            Request {
                key: key.to_string(),
                call: call.to_string(),
                step,
                seq,
            },
        );
    }

    /// Forget the keys of calls the state no longer knows; the rest, for
    /// a snapshot.
    pub(super) fn prune(&mut self, core: &Core) -> Vec<Request> {
        let state = core.state();
        self.by_key.retain(|_, r| state.call(&r.call).is_some());
        let mut kept: Vec<Request> = self.by_key.values().cloned().collect();
        kept.sort_by_key(|r| r.seq);
        kept
    }

    /// The log as a snapshot lists it.
    pub(super) fn from_list(list: Vec<Request>) -> Requests {
        Requests {
            by_key: list.into_iter().map(|r| (r.key.clone(), r)).collect(),
        }
    }
}

/// The engine and what the store knows about it.
#[derive(Debug)]
pub(super) struct Live {
    pub core: Core,
    /// Behind its own lock so that a snapshot (under the read lock) can
    /// prune it.
    pub requests: Mutex<Requests>,
    /// The number of the last logged event (0: none yet).
    pub seq: u64,
    /// The config's version (`GET /v1/config`'s ETag): one more than the
    /// number of the event that last changed the config, or than the
    /// snapshot's last event when none did since. It never goes back and
    /// no number names two configs, across restarts too (a restart after
    /// a compaction may move it on: a stale `If-Match` is then refused,
    /// never wrongly accepted).
    pub config_version: u64,
}

impl Live {
    /// The idempotency log, under the write lock.
    pub(super) fn requests_mut(&mut self) -> &mut Requests {
        self.requests
            .get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
