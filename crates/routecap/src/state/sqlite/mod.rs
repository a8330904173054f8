//! The SQLite backend: one process's counters, live calls, leases,
//! reservations, caller history, call records and running config in one
//! file that survives a restart, a crash or a deploy
//! (`--state sqlite:PATH`).
//!
//! ```no_run
//! # async fn service() -> Result<(), Box<dyn std::error::Error>> {
//! use routecap::core::formats::source::Source;
//! use routecap::state::sqlite::{SqliteOptions, SqliteState};
//! use routecap::state::Backend;
//! use routecap::Call;
//!
//! let doc = std::fs::read("buyers.json")?;
//! let (source, config) = Source::parse(&doc, "buyers.json", None)?;
//! // the file is created from the config when missing; a store keeps its own
//! let state = SqliteState::open(SqliteOptions::parse("state.db")?, source, config)?;
//! let at = "2026-11-23T15:00:00Z".parse()?;
//! // answered once the connect is committed to the file
//! let _outcome = state.connect(&Call::new("call-1").request("key-1"), "east", at).await?;
//! # Ok(()) }
//! ```
//!
//! # Design
//!
//! The process decides with an in-memory engine (the memory backend's
//! own), so every answer is byte for byte the memory backend's. Every
//! change it acknowledges — a lifecycle event, a `route` that anchored
//! imported usage, a reset, a pause, a whole config, a patch, a usage
//! import — is logged as an event (JSON, in the order the engine applied
//! it) and the answer waits until that event is committed. A writer
//! thread commits the events of every client that queued up during the
//! previous commit in one transaction (group commit): one disk sync
//! answers them all. On start the store is read back: the latest snapshot,
//! then each event after it applied again, each answering as it did.
//! Logging events rather than state deltas keeps one code path for the
//! live change and the replay (`event::Event::apply`).
//!
//! # Guarantees
//!
//! - **Nothing acknowledged is lost, nothing applied twice**: an answer is
//!   sent only after its event is committed (WAL, `synchronous=FULL`);
//!   after a `kill -9` the store holds a prefix of the applied events that
//!   includes every acknowledged one. A lifecycle answer (admitted,
//!   refused or an error) also waits until every change it saw is
//!   committed, so it never rests on a change the store could lose. Reads
//!   (`check`, `usage`, a `route` that anchors nothing) answer at once,
//!   from every applied change.
//! - **Retries**: a lifecycle request carries a key (the HTTP
//!   `Idempotency-Key`, else a fresh one). A request whose key already
//!   applied the same step to the same call is answered as the first time
//!   (once that is committed) and applies nothing; keys live in the store
//!   with their call and are forgotten with it. A refused `connect` or
//!   `reserve` changed nothing, so its retry decides again (as on Redis).
//! - **The config is in the store**: the config given on the command line
//!   seeds a new store; a store keeps its own (with every pause, patch,
//!   whole config and usage import) and says so in the log when the file
//!   differs; SIGHUP or `PUT /v1/config` applies a new one.
//! - **One process per store**: the file is opened with exclusive locking;
//!   a second process (or a second open in this one) stops at once with
//!   an error naming the file. Many processes share state through Redis.
//! - **Damaged or foreign files are never replaced**: a file that is not
//!   SQLite, an SQLite database of another application (checked by
//!   `application_id`), a store of another format version, one that fails
//!   `PRAGMA quick_check`, or whose snapshot or events do not apply again,
//!   stops the start with an error naming the file and the problem. Only a
//!   missing or empty file becomes a new store.
//! - **Bounded size**: settled calls are forgotten as in memory; once the
//!   events since the last snapshot outnumber 10,000 and twice the calls
//!   in the state, the writer writes a new snapshot and deletes the events
//!   before it (see the `writer` module).
//! - **A failed write stops changes**: if a commit fails (disk full, I/O
//!   error) the process accepts no further change and `/healthz` reports
//!   it; restart it to continue from what the file holds (the failed
//!   events were never acknowledged).
//!
//! # Durability settings
//!
//! `sqlite:PATH` syncs the WAL on every commit (`synchronous=FULL`): an
//! acknowledged event survives a crash of the process, of the operating
//! system and a power loss. `sqlite:PATH?synchronous=normal` syncs only at
//! checkpoints: faster, and still safe against a crash of the process
//! (`kill -9`, a panic), but an operating-system crash or power loss can
//! roll back the last acknowledged events — counts lost, so caps may be
//! overrun by that much, and a retried request may apply again.
//!
//! # The file
//!
//! `application_id` `0x52434150` ("RCAP"), `user_version` 1, WAL mode,
//! incremental auto-vacuum, two tables: `snapshot` (one row: the number
//! of the last event it holds, the config document with its file name and
//! shape, the state as a [`routecap_core::snapshot::Snapshot`], the
//! idempotency keys) and `events` (`seq`, one JSON event per row).
//!
//! # Limits
//!
//! - A call still live on a target removed by a config change can `end`
//!   while the process runs, but a snapshot does not keep it (it has no
//!   target id to name): after a restart following a compaction, its `end`
//!   is an unknown call.
//! - A compaction copies the whole state under the engine's read lock:
//!   changes wait for it (milliseconds per ten thousand calls).

mod backend;
mod event;
mod live;
mod store;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::thread::JoinHandle;

use routecap_core::formats::source::Source;
use routecap_core::model::Config;
use tokio::sync::{oneshot, watch};

pub use store::StoreError;

use crate::state::StateError;
use event::{Applied, Event, ReplayError};
use live::Live;
use writer::{Committed, Job, Writer};

/// How hard each commit is pushed to the disk (see the module docs).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Synchronous {
    /// Sync the WAL on every commit: survives power loss (the default).
    #[default]
    Full,
    /// Sync at checkpoints only: survives a process crash, not an
    /// operating-system crash or power loss.
    Normal,
}

impl Synchronous {
    fn pragma(self) -> &'static str {
        match self {
            Synchronous::Full => "FULL",
            Synchronous::Normal => "NORMAL",
        }
    }
}

/// Where the store is and how it syncs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SqliteOptions {
    /// The file (created when missing).
    pub path: PathBuf,
    /// Durability of each commit.
    pub synchronous: Synchronous,
}

impl SqliteOptions {
    /// Read `PATH[?synchronous=full|normal]` (what follows `sqlite:` in
    /// `--state`).
    pub fn parse(spec: &str) -> Result<SqliteOptions, String> {
        let (path, query) = match spec.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (spec, None),
        };
        if path.is_empty() {
            return Err("expected sqlite:PATH (the store file)".to_string());
        }
        let mut opts = SqliteOptions {
            path: PathBuf::from(path),
            synchronous: Synchronous::Full,
        };
        for pair in query.into_iter().flat_map(|q| q.split('&')) {
            opts.synchronous = match pair.split_once('=') {
                Some(("synchronous", v)) if v.eq_ignore_ascii_case("full") => Synchronous::Full,
                Some(("synchronous", v)) if v.eq_ignore_ascii_case("normal") => Synchronous::Normal,
                _ => {
                    return Err(format!(
                        "option {pair:?}: the only option is synchronous=full|normal"
                    ))
                }
            };
        }
        Ok(opts)
    }
}

/// The durable single-process state. See the module docs.
pub struct SqliteState {
    live: Arc<RwLock<Live>>,
    committed: watch::Receiver<Committed>,
    /// `None` once closing: the writer finishes and stops.
    tx: Option<Sender<Job>>,
    writer: Option<JoinHandle<()>>,
    opts: SqliteOptions,
    /// `sqlite:PATH`, for errors.
    shown: String,
    created: bool,
    kept_config: bool,
    replayed: u64,
}

impl std::fmt::Debug for SqliteState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteState")
            .field("path", &self.opts.path)
            .finish()
    }
}

impl SqliteState {
    /// Open the store at `opts.path` for this process alone: created from
    /// the seed config (`source`, `config`: the document as parsed) when
    /// missing or empty, else read back with the config it holds.
    pub fn open(
        opts: SqliteOptions,
        source: Source,
        config: Config,
    ) -> Result<SqliteState, StoreError> {
        let opened = store::open(&opts, (source, config))?;
        let seq = opened.live.seq;
        let live = Arc::new(RwLock::new(opened.live));
        let (committed_tx, committed) = watch::channel(Committed { seq, failed: None });
        let (tx, rx) = mpsc::channel();
        let writer = Writer {
            conn: opened.conn,
            rx,
            committed: committed_tx,
            live: live.clone(),
            since_snapshot: opened.replayed,
            calls: opened.calls,
        };
        let handle = std::thread::Builder::new()
            .name("routecap-sqlite-writer".to_string())
            .spawn(move || writer.run())
            .map_err(|e| StoreError {
                path: store::shown(&opts.path),
                problem: format!("cannot start its writer thread: {e}"),
            })?;
        let shown = format!("sqlite:{}", opts.path.display());
        Ok(SqliteState {
            live,
            committed,
            tx: Some(tx),
            writer: Some(handle),
            opts,
            shown,
            created: opened.created,
            kept_config: opened.kept_config,
            replayed: opened.replayed,
        })
    }

    /// The store file.
    pub fn path(&self) -> &Path {
        &self.opts.path
    }

    /// The store was created by this open (from the seed config).
    pub fn created(&self) -> bool {
        self.created
    }

    /// The store kept the config it holds, which differs from the seed.
    pub fn kept_config(&self) -> bool {
        self.kept_config
    }

    /// Events read back after the snapshot when the store was opened.
    pub fn replayed(&self) -> u64 {
        self.replayed
    }

    /// Write a snapshot now and drop the events it holds (the writer does
    /// it on its own as events accumulate).
    pub async fn compact(&self) -> Result<(), StateError> {
        let (done, answer) = oneshot::channel();
        self.send(Job::Compact(done))?;
        match answer.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(self.unavailable(e)),
            Err(_) => Err(self.stopped()),
        }
    }

    fn read(&self) -> RwLockReadGuard<'_, Live> {
        self.live.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, Live> {
        self.live.write().unwrap_or_else(PoisonError::into_inner)
    }

    fn unavailable(&self, message: impl Into<String>) -> StateError {
        StateError::Unavailable {
            url: self.shown.clone(),
            message: message.into(),
        }
    }

    fn stopped(&self) -> StateError {
        match &self.committed.borrow().failed {
            Some(e) => self.unavailable(format!(
                "a write failed ({e}); no change is accepted until the process restarts"
            )),
            None => self.unavailable("the store is closed"),
        }
    }

    /// Fails once the writer has stopped: the engine may hold changes the
    /// file does not.
    fn usable(&self) -> Result<(), StateError> {
        if self.committed.borrow().failed.is_some() || self.tx.is_none() {
            return Err(self.stopped());
        }
        Ok(())
    }

    fn send(&self, job: Job) -> Result<(), StateError> {
        let tx = self.tx.as_ref().ok_or_else(|| self.stopped())?;
        tx.send(job).map_err(|_| self.stopped())
    }

    /// Wait until every event up to `seq` is committed.
    async fn committed_through(&self, seq: u64) -> Result<(), StateError> {
        if self.committed.borrow().seq >= seq {
            return Ok(());
        }
        let mut rx = self.committed.clone();
        let reached = rx
            .wait_for(|c| c.seq >= seq || c.failed.is_some())
            .await
            .map(|c| c.seq >= seq);
        match reached {
            Ok(true) => Ok(()),
            _ => Err(self.stopped()),
        }
    }

    /// Log `event` as number `live.seq + 1` (under the write lock).
    fn log(&self, live: &mut Live, event: &Event) -> Result<u64, StateError> {
        let text = serde_json::to_string(event).map_err(|e| self.unavailable(e.to_string()))?;
        self.send(Job::Event {
            seq: live.seq + 1,
            text,
        })?;
        live.seq += 1;
        Ok(live.seq)
    }

    /// Apply a change and answer once it is committed: a retry of an
    /// applied lifecycle request gets its first answer; a refusal or an
    /// error waits for the changes it saw.
    async fn change(&self, event: Event) -> Result<Applied, StateError> {
        self.usable()?;
        let (answer, seen) = {
            let mut guard = self.write();
            let live = &mut *guard;
            let request = event.request();
            let first = request.and_then(|(call, key, step)| {
                let key = key?;
                let requests = live
                    .requests
                    .get_mut()
                    .unwrap_or_else(PoisonError::into_inner);
                requests
                    .applied(&live.core, key, call, step)
                    .map(|seq| (seq, step))
            });
            if let Some((seq, step)) = first {
                (Ok(backend::first_answer(step)), seq)
            } else {
                match event.apply(&mut live.core) {
                    Ok(applied) if applied.changed() => {
                        let seq = self.log(live, &event)?;
                        if event.changes_config() {
                            live.config_version = seq + 1;
                        }
                        if let Some((call, Some(key), step)) = request {
                            live.requests_mut().record(key, call, step, seq);
                        }
                        (Ok(applied), seq)
                    }
                    other => (other, live.seq),
                }
            }
        };
        self.committed_through(seen).await?;
        answer.map_err(|e| match e {
            ReplayError::Engine(e) => StateError::Engine(e),
            ReplayError::Malformed(m) => self.unavailable(m),
        })
    }
}

impl Drop for SqliteState {
    /// Close: the writer commits what is queued, closes the file (which
    /// releases it for the next process) and stops.
    fn drop(&mut self) {
        self.tx = None;
        if let Some(h) = self.writer.take() {
            let _ = h.join();
        }
    }
}
