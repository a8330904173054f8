//! The file: opening it for this process alone, telling a store from a
//! damaged or foreign file, creating a new one from a seed config, and
//! reading one back (the latest snapshot, then the events after it).

use std::path::Path;
use std::time::Duration;

use routecap_core::engine::Engine as Core;
use routecap_core::formats::source::Source;
use routecap_core::formats::Format;
use routecap_core::model::Config;
use routecap_core::snapshot::Snapshot;
use rusqlite::{Connection, ErrorCode, OpenFlags, OptionalExtension, Transaction};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::event::Event;
use super::live::{Live, Request, Requests};
use super::{SqliteOptions, Synchronous};

/// `PRAGMA application_id` of a routecap store ("RCAP").
pub(super) const APPLICATION_ID: i64 = 0x5243_4150;
/// `PRAGMA user_version`: the store format this build reads and writes.
pub(super) const FORMAT: i64 = 1;

const SCHEMA: &str = "
CREATE TABLE snapshot (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  seq INTEGER NOT NULL,
  config TEXT NOT NULL,
  state TEXT NOT NULL,
  requests TEXT NOT NULL
);
CREATE TABLE events (
  seq INTEGER PRIMARY KEY,
  event TEXT NOT NULL
);
";

/// Why a store could not be opened: the file and the problem.
#[derive(Debug, thiserror::Error)]
#[error("state store {path}: {problem}")]
pub struct StoreError {
    /// The file, as given.
    pub path: String,
    /// What is wrong with it.
    pub problem: String,
}

/// The config a snapshot holds: the document in its own shape.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct StoredConfig {
    pub doc: Value,
    pub file: String,
    pub format: String,
}

impl StoredConfig {
    pub(super) fn of(source: &Source) -> StoredConfig {
        StoredConfig {
            doc: source.document().clone(),
            file: source.file().to_string(),
            format: source.format().as_str().to_string(),
        }
    }
}

/// What a snapshot holds, copied out of the live state under its read
/// lock (serialised after the lock is released).
pub(super) struct SnapshotParts {
    seq: u64,
    config: StoredConfig,
    state: Snapshot,
    requests: Vec<Request>,
}

impl SnapshotParts {
    /// The parts of `live` as it is now, with the idempotency keys of
    /// forgotten calls pruned.
    pub(super) fn of(live: &Live) -> Result<SnapshotParts, String> {
        let source = (live.core.source()).ok_or("the engine lost its config document")?;
        let requests = (live.requests.lock())
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .prune(&live.core);
        Ok(SnapshotParts {
            seq: live.seq,
            config: StoredConfig::of(source),
            state: live.core.snapshot(),
            requests,
        })
    }

    /// The row, serialised.
    pub(super) fn row(&self) -> Result<SnapshotRow, String> {
        Ok(SnapshotRow {
            seq: self.seq,
            config: json(&self.config)?,
            state: json(&self.state)?,
            requests: json(&self.requests)?,
        })
    }
}

fn json<T: Serialize>(v: &T) -> Result<String, String> {
    serde_json::to_string(v).map_err(|e| e.to_string())
}

/// A snapshot row, serialised: the state after event `seq`.
pub(super) struct SnapshotRow {
    pub seq: u64,
    pub config: String,
    pub state: String,
    pub requests: String,
}

impl SnapshotRow {
    /// Write it, replacing the previous one, and drop the events it holds.
    pub(super) fn write(&self, tx: &Transaction<'_>) -> rusqlite::Result<()> {
        tx.execute(
            "INSERT OR REPLACE INTO snapshot (id, seq, config, state, requests) VALUES (1, ?1, ?2, ?3, ?4)",
            (self.seq as i64, &self.config, &self.state, &self.requests),
        )?;
        tx.execute("DELETE FROM events WHERE seq <= ?1", [self.seq as i64])?;
        Ok(())
    }
}

/// A store opened for this process, read back.
pub(super) struct Opened {
    pub conn: Connection,
    pub live: Live,
    /// Events read after the snapshot (0 for a new store).
    pub replayed: u64,
    /// Calls in the state when it was read (sizes the next compaction).
    pub calls: usize,
    /// The store was created from the seed config.
    pub created: bool,
    /// The store kept its own config, which differs from the seed.
    pub kept_config: bool,
}

fn sqlite_problem(e: &rusqlite::Error) -> String {
    match e.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
            "is in use by another process (one process per store; processes share state through Redis)"
                .to_string()
        }
        Some(ErrorCode::NotADatabase) => {
            "is not an SQLite database (a damaged store or another kind of file); it was left as it is"
                .to_string()
        }
        Some(ErrorCode::DatabaseCorrupt) => {
            format!("is damaged ({e}); it was left as it is")
        }
        Some(ErrorCode::CannotOpen) => format!("cannot be opened ({e})"),
        Some(ErrorCode::ReadOnly | ErrorCode::PermissionDenied) => {
            format!("cannot be written ({e})")
        }
        _ => e.to_string(),
    }
}

/// Open `opts.path` for this process alone: a new or empty file becomes a
/// store seeded with `seed`; a store is read back; anything else is an
/// error that leaves the file as it is.
pub(super) fn open(opts: &SqliteOptions, seed: (Source, Config)) -> Result<Opened, StoreError> {
    let shown = opts.path.display().to_string();
    let fail = |problem: String| StoreError {
        path: shown.clone(),
        problem,
    };
    let sql = |e: rusqlite::Error| fail(sqlite_problem(&e));
    if opts.path.is_dir() {
        return Err(fail("is a directory".to_string()));
    }
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let mut conn = Connection::open_with_flags(&opts.path, flags).map_err(sql)?;
    // a store in use answers "busy" at once instead of after a wait
    conn.busy_timeout(Duration::ZERO).map_err(sql)?;
    // file locks taken from the first read on are held until the close
    conn.query_row("PRAGMA locking_mode = EXCLUSIVE", [], |_| Ok(()))
        .map_err(sql)?;
    let app: i64 = (conn.query_row("PRAGMA application_id", [], |r| r.get(0))).map_err(sql)?;
    let version: i64 = (conn.query_row("PRAGMA user_version", [], |r| r.get(0))).map_err(sql)?;
    let tables = table_names(&conn).map_err(sql)?;
    let created = app == 0 && version == 0 && tables.is_empty();
    // recognised before anything is written: another application's
    // database is left exactly as it was
    if created {
        // before the first table: deleted events give their pages back to
        // the file system at each compaction (`incremental_vacuum`)
        conn.pragma_update(None, "auto_vacuum", "INCREMENTAL")
            .map_err(sql)?;
    } else {
        recognise(&conn, app, version, &tables).map_err(fail)?;
    }
    lock(&conn, opts.synchronous).map_err(sql)?;
    if created {
        create(&mut conn, &seed).map_err(sql)?;
    }
    let (live, replayed, calls) = read(&conn).map_err(fail)?;
    let kept_config = !created && live.core.source().is_some_and(|s| !same(s, &seed.0));
    Ok(Opened {
        conn,
        live,
        replayed,
        calls,
        created,
        kept_config,
    })
}

/// Whether two documents are the same config.
fn same(a: &Source, b: &Source) -> bool {
    a.format() == b.format() && a.document() == b.document()
}

/// Take the file for this connection alone until it closes (exclusive
/// locking: a second process, or a second connection of this one, gets
/// "busy"), in WAL mode with the wanted durability.
fn lock(conn: &Connection, sync: Synchronous) -> rusqlite::Result<()> {
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CANTOPEN),
            Some(format!("cannot use WAL mode (journal mode {mode})")),
        ));
    }
    // a write transaction takes the exclusive lock now, not at the first
    // event, and exclusive locking mode keeps it
    conn.execute_batch("BEGIN IMMEDIATE; COMMIT;")?;
    conn.pragma_update(None, "synchronous", sync.pragma())?;
    Ok(())
}

fn table_names(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    let mut st =
        conn.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")?;
    let names = st.query_map([], |r| r.get::<_, String>(0))?;
    names.collect()
}

/// A new store: the schema, the marks that tell it from other files, and
/// a first snapshot with the seed config and a fresh state, in one
/// transaction.
fn create(conn: &mut Connection, seed: &(Source, Config)) -> rusqlite::Result<()> {
    let core = Core::from_source(seed.0.clone(), seed.1.clone());
    let live = Live {
        core,
        requests: Default::default(),
        seq: 0,
        config_version: 1,
    };
    let row = (SnapshotParts::of(&live).and_then(|p| p.row()))
        .map_err(|e| rusqlite::Error::ToSqlConversionFailure(e.into()))?;
    let tx = conn.transaction()?;
    tx.execute_batch(SCHEMA)?;
    tx.pragma_update(None, "application_id", APPLICATION_ID)?;
    tx.pragma_update(None, "user_version", FORMAT)?;
    row.write(&tx)?;
    tx.commit()
}

/// Tell a routecap store of this format from anything else.
fn recognise(conn: &Connection, app: i64, version: i64, tables: &[String]) -> Result<(), String> {
    if app != APPLICATION_ID {
        let tables = if tables.is_empty() {
            "none".to_string()
        } else {
            tables.join(", ")
        };
        return Err(format!(
            "is not a routecap store: an SQLite database of another application (application_id {app:#x}, tables: {tables}); it was left as it is"
        ));
    }
    if version != FORMAT {
        return Err(format!(
            "is a routecap store of format {version}; this routecap reads format {FORMAT}; it was left as it is"
        ));
    }
    let mut st = (conn.prepare("PRAGMA quick_check")).map_err(|e| sqlite_problem(&e))?;
    let rows = (st.query_map([], |r| r.get::<_, String>(0))).map_err(|e| sqlite_problem(&e))?;
    let problems: Vec<String> = rows
        .collect::<rusqlite::Result<_>>()
        .map_err(|e| sqlite_problem(&e))?;
    if problems.first().map(String::as_str) != Some("ok") {
        let shown: Vec<&str> = problems.iter().take(3).map(String::as_str).collect();
        return Err(format!(
            "is damaged ({}); it was left as it is",
            shown.join("; ")
        ));
    }
    let expected = ["events", "snapshot"];
    if !expected.iter().all(|t| tables.iter().any(|x| x == t)) {
        return Err(format!(
            "is damaged (tables {} instead of events, snapshot); it was left as it is",
            tables.join(", ")
        ));
    }
    Ok(())
}

fn damaged(what: impl std::fmt::Display) -> String {
    format!("is damaged ({what}); it was left as it is")
}

/// The state of a store: its snapshot, then every event after it applied
/// in order, each answering as it did when it was acknowledged.
fn read(conn: &Connection) -> Result<(Live, u64, usize), String> {
    let row = conn
        .query_row(
            "SELECT seq, config, state, requests FROM snapshot WHERE id = 1",
            [],
            |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                ))
            },
        )
        .optional()
        .map_err(|e| sqlite_problem(&e))?;
    let Some((seq, config, state, requests)) = row else {
        return Err(damaged("it holds no snapshot"));
    };
    let config: StoredConfig =
        serde_json::from_str(&config).map_err(|e| damaged(format!("snapshot config: {e}")))?;
    let format = (config.format.parse::<Format>())
        .map_err(|_| damaged(format!("snapshot config format {:?}", config.format)))?;
    let (source, cfg) = Source::from_value(config.doc, &config.file, Some(format))
        .map_err(|e| damaged(format!("snapshot config: {e}")))?;
    let mut core = Core::from_source(source, cfg);
    let snapshot: Snapshot =
        serde_json::from_str(&state).map_err(|e| damaged(format!("snapshot state: {e}")))?;
    (core.restore_snapshot(&snapshot)).map_err(|e| damaged(format!("snapshot state: {e}")))?;
    let requests: Vec<Request> =
        serde_json::from_str(&requests).map_err(|e| damaged(format!("snapshot requests: {e}")))?;
    let seq = u64::try_from(seq).map_err(|_| damaged(format!("snapshot seq {seq}")))?;
    let mut live = Live {
        core,
        requests: std::sync::Mutex::new(Requests::from_list(requests)),
        seq,
        config_version: seq + 1,
    };
    let replayed = replay_events(conn, &mut live)?;
    let calls = live.core.state().call_count();
    Ok((live, replayed, calls))
}

/// Apply the events after the snapshot; each must apply as it did.
fn replay_events(conn: &Connection, live: &mut Live) -> Result<u64, String> {
    let mut st = (conn.prepare("SELECT seq, event FROM events WHERE seq > ?1 ORDER BY seq"))
        .map_err(|e| sqlite_problem(&e))?;
    let mut rows = (st.query([live.seq as i64])).map_err(|e| sqlite_problem(&e))?;
    let mut replayed = 0;
    while let Some(row) = rows.next().map_err(|e| sqlite_problem(&e))? {
        let seq: i64 = row.get(0).map_err(|e| sqlite_problem(&e))?;
        let text: String = row.get(1).map_err(|e| sqlite_problem(&e))?;
        if seq != live.seq as i64 + 1 {
            return Err(damaged(format!(
                "event {} is missing (the next is {seq})",
                live.seq + 1
            )));
        }
        let event: Event =
            serde_json::from_str(&text).map_err(|e| damaged(format!("event {seq}: {e}")))?;
        let applied = event
            .apply(&mut live.core)
            .map_err(|e| damaged(format!("event {seq} does not apply again: {e:?}")))?;
        if !applied.changed() {
            return Err(damaged(format!(
                "event {seq} does not apply again: it is refused now"
            )));
        }
        live.seq += 1;
        if event.changes_config() {
            live.config_version = live.seq + 1;
        }
        if let Some((call, Some(key), step)) = event.request() {
            let seq = live.seq;
            live.requests_mut().record(key, call, step, seq);
        }
        replayed += 1;
    }
    Ok(replayed)
}

/// The file's name as errors show it.
pub(super) fn shown(path: &Path) -> String {
    path.display().to_string()
}
