//! The writer thread: group commit and compaction.
//!
//! Every change reaches the writer through one channel, in the order the
//! engine applied it. The writer takes what has queued up — the events of
//! every client that arrived while the previous commit was being synced —
//! writes it in one transaction and commits; only then does it publish
//! the number of the last committed event, which releases the answers of
//! all those events at once. One disk sync serves many clients.
//!
//! Compaction: once the events since the last snapshot outnumber both
//! [`COMPACT_MIN`] and twice the calls the state held at that snapshot, the
//! writer copies the state (under the engine's read lock), writes it as
//! the new snapshot and deletes the events it holds, in one transaction,
//! then gives the freed pages back (`incremental_vacuum`) and truncates the
//! WAL. The file stays about the size of the state, whatever the history.

use std::sync::mpsc::Receiver;
use std::sync::{Arc, PoisonError, RwLock};

use rusqlite::Connection;
use tokio::sync::{oneshot, watch};

use super::live::Live;
use super::store::SnapshotParts;

/// Largest number of events in one transaction.
const MAX_BATCH: usize = 4096;
/// Fewest events between two compactions.
pub(super) const COMPACT_MIN: u64 = 10_000;

/// What the writer is asked to do.
pub(super) enum Job {
    /// Log event `seq` (JSON text of an `Event`).
    Event { seq: u64, text: String },
    /// Compact now; answer when done.
    Compact(oneshot::Sender<Result<(), String>>),
}

/// How far the log is committed, or why the writer stopped.
#[derive(Clone, Debug, Default)]
pub(super) struct Committed {
    /// Every event up to this number is committed.
    pub seq: u64,
    /// The writer failed: nothing after `seq` is or will be committed.
    pub failed: Option<Arc<str>>,
}

/// The writer's side of a store.
pub(super) struct Writer {
    pub conn: Connection,
    pub rx: Receiver<Job>,
    pub committed: watch::Sender<Committed>,
    pub live: Arc<RwLock<Live>>,
    /// Events logged since the last snapshot.
    pub since_snapshot: u64,
    /// Calls in the state at the last snapshot.
    pub calls: usize,
}

impl Writer {
    fn threshold(&self) -> u64 {
        COMPACT_MIN.max(2 * self.calls as u64)
    }

    /// Commit batches until the store is closed (the channel's senders
    /// are gone) or a write fails.
    pub(super) fn run(mut self) {
        let mut batch = Vec::new();
        let mut asked = Vec::new();
        while let Ok(first) = self.rx.recv() {
            let mut job = Some(first);
            while let Some(j) = job.take() {
                match j {
                    Job::Event { seq, text } => batch.push((seq, text)),
                    Job::Compact(done) => asked.push(done),
                }
                if batch.len() < MAX_BATCH {
                    job = self.rx.try_recv().ok();
                }
            }
            let outcome = self.commit(&batch).map_err(|e| e.to_string());
            batch.clear();
            let outcome = outcome.and_then(|()| {
                if asked.is_empty() && self.since_snapshot < self.threshold() {
                    return Ok(());
                }
                self.compact(&mut batch)
            });
            for done in asked.drain(..) {
                let _ = done.send(outcome.clone());
            }
            if let Err(e) = outcome {
                tracing::error!(error = %e, "state store: a write failed; no further change is accepted");
                self.committed.send_modify(|c| c.failed = Some(e.into()));
                return;
            }
        }
    }

    /// Write `batch` in one transaction and publish it as committed.
    fn commit(&mut self, batch: &[(u64, String)]) -> rusqlite::Result<()> {
        let Some(&(last, _)) = batch.last() else {
            return Ok(());
        };
        let tx = self.conn.transaction()?;
        {
            let mut insert =
                tx.prepare_cached("INSERT INTO events (seq, event) VALUES (?1, ?2)")?;
            for (seq, text) in batch {
                insert.execute((*seq as i64, text))?;
            }
        }
        tx.commit()?;
        self.since_snapshot += batch.len() as u64;
        self.committed.send_modify(|c| c.seq = c.seq.max(last));
        Ok(())
    }

    /// Write a snapshot of the live state and drop the events it holds.
    fn compact(&mut self, batch: &mut Vec<(u64, String)>) -> Result<(), String> {
        let (parts, calls) = {
            let live = self.live.read().unwrap_or_else(PoisonError::into_inner);
            (SnapshotParts::of(&live)?, live.core.state().call_count())
        };
        let row = parts.row()?;
        // the events the snapshot holds were queued before it was taken:
        // write them with it (those after it too), so none is left behind
        while let Ok(job) = self.rx.try_recv() {
            match job {
                Job::Event { seq, text } => batch.push((seq, text)),
                Job::Compact(done) => {
                    let _ = done.send(Ok(()));
                }
            }
        }
        let sql = |e: rusqlite::Error| e.to_string();
        let tx = self.conn.transaction().map_err(sql)?;
        let mut last = row.seq;
        {
            let mut insert = (tx.prepare_cached("INSERT INTO events (seq, event) VALUES (?1, ?2)"))
                .map_err(sql)?;
            for (seq, text) in batch.iter().filter(|(seq, _)| *seq > row.seq) {
                insert.execute((*seq as i64, text)).map_err(sql)?;
                last = last.max(*seq);
            }
        }
        row.write(&tx).map_err(sql)?;
        tx.commit().map_err(sql)?;
        self.since_snapshot = batch.iter().filter(|(seq, _)| *seq > row.seq).count() as u64;
        self.calls = calls;
        batch.clear();
        self.committed.send_modify(|c| c.seq = c.seq.max(last));
        // give the freed pages back and restart the WAL from empty
        // each step of the pragma frees a page: run it to its end
        let mut vacuum = self
            .conn
            .prepare("PRAGMA incremental_vacuum")
            .map_err(sql)?;
        let mut rows = vacuum.query([]).map_err(sql)?;
        while rows.next().map_err(sql)?.is_some() {}
        drop(rows);
        drop(vacuum);
        self.conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .map_err(sql)?;
        Ok(())
    }
}
