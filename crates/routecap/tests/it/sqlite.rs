//! The SQLite backend (`--state sqlite:PATH`): the same answers as memory
//! for the same events, across reopenings and compactions; retries after a
//! restart; the config a store keeps; one process per file; damaged and
//! foreign files refused and left as they are; a file the size of the
//! state.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::TimeDelta;
use proptest::prelude::*;
use routecap::core::formats::source::{OwnerKind, Source};
use routecap::core::lifecycle::ConnectOutcome;
use routecap::core::money::Money;
use routecap::core::route::Draws;
use routecap::core::zone::Instant;
use routecap::state::redis::new_op_id;
use routecap::state::sqlite::{SqliteOptions, SqliteState, Synchronous};
use routecap::state::{Blocking, StateError};
use routecap::Call;

/// A fresh directory for one test's store.
pub(crate) fn store_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("routecap-sqlite-{}", new_op_id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// The store `path` opened with `config` as its seed.
fn open_store(path: &Path, config: &str, sync: Synchronous) -> Result<SqliteState, String> {
    let (source, cfg) = Source::parse(config.as_bytes(), "c.json", None).expect("config");
    let opts = SqliteOptions {
        path: path.to_path_buf(),
        synchronous: sync,
    };
    SqliteState::open(opts, source, cfg).map_err(|e| e.to_string())
}

/// A store driven synchronously, with its typed state.
pub(crate) struct Store {
    blocking: Blocking,
    state: Arc<SqliteState>,
}

impl std::ops::Deref for Store {
    type Target = Blocking;
    fn deref(&self) -> &Blocking {
        &self.blocking
    }
}

impl Store {
    /// Write a snapshot now and drop the events it holds.
    fn compact(&self) {
        (self.blocking.block_on(self.state.compact())).expect("compact");
    }
}

/// [`open_store`] driven synchronously.
pub(crate) fn sqlite_open(path: &Path, config: &str) -> Store {
    let state = Arc::new(open_store(path, config, Synchronous::Full).expect("store opens"));
    let blocking = Blocking::new(state.clone()).expect("runtime");
    Store { blocking, state }
}

fn memory(config: &str) -> Blocking {
    let core =
        routecap::core::engine::Engine::parse(config.as_bytes(), "c.json", None).expect("config");
    Blocking::new(Arc::new(routecap::Engine::from_core(core))).expect("runtime")
}

fn t(s: &str) -> Instant {
    s.parse().expect("instant")
}

fn show<T: std::fmt::Debug>(r: Result<T, StateError>) -> String {
    match r {
        Ok(v) => format!("ok {v:?}"),
        Err(StateError::Engine(e)) => format!("error {e}"),
        Err(e) => panic!("backend failure: {e}"),
    }
}

const CONFIG: &str = r#"{
  "targets": [
    {"id": "a", "time_zone": "America/New_York", "trigger": "connect",
     "caps": {"hourly": 3, "daily": 5, "concurrency": 2, "daily_revenue": "30.00"},
     "usage": {"daily": 1, "total": 2, "daily_revenue": "5.00"},
     "hours": [{"day": 0, "open": "00:00", "close": "01:30"}]},
    {"id": "b", "time_zone": "UTC", "trigger": "convert", "caps": {"total": 4, "concurrency": 3}},
    {"id": "c", "time_zone": "Asia/Kolkata", "trigger": "revenue",
     "caps": {"hourly": 2, "concurrency": 1, "total_revenue": "40.00"}}
  ],
  "groups": [
    {"id": "g", "members": ["a", "b"], "time_zone": "Europe/London",
     "caps": {"daily": 6, "concurrency": 3}, "usage": {"daily": 1}}
  ],
  "repeat_callers": {"mode": "different", "window": 3600}
}"#;

/// One random event: (kind, call, target, seconds later, revenue cents).
type Ev = (u8, u8, u8, u16, u16);

/// Event `kind` on `b`, its answer shown (kinds as the Redis equivalence
/// test's live mix).
fn step(b: &Blocking, ev: Ev, at: Instant) -> String {
    let (kind, call, target, dt, cents) = ev;
    let call = format!("c{call}");
    let target = ["a", "b", "c"][usize::from(target) % 3];
    let key = format!("k{}", new_op_id());
    let c = Call::new(&*call)
        .caller(&format!("+1919555{:04}", cents % 3))
        .request(&key);
    let usage = serde_json::json!({ target: {"daily": cents % 4, "live": cents % 2} });
    let patch = serde_json::json!({"caps": {"daily": 2 + cents % 4, "concurrency": 1 + cents % 3}});
    match kind % 13 {
        0 | 1 => show(b.connect(&c, target, at)),
        2 => show(b.convert(&c, Money(i64::from(cents)), at)),
        3 | 4 => show(b.end(&c, at)),
        5 => show(b.reserve(&c, target, u64::from(dt % 300) + 1, at)),
        6 => show(b.touch(&c, at)),
        7 => show(b.cancel(&c, at)),
        8 => show(b.set_paused(OwnerKind::Target, target, cents % 2 == 0)),
        9 => show(b.import_usage(at, &usage, "usage")),
        10 => show(b.patch(OwnerKind::Target, target, &patch, "update", at)),
        11 => show(b.reset(OwnerKind::Group, "g")),
        _ => show(b.route(&Call::default(), at, &mut Draws::new(u64::from(cents)))),
    }
}

/// The usage and check views as JSON text.
fn views(b: &Blocking, at: Instant) -> String {
    let u = serde_json::to_string(&b.usage(at).expect("usage")).expect("json");
    let c = serde_json::to_string(&b.check(&Call::default(), at).expect("check")).expect("json");
    format!("{u}\n{c}")
}

/// Memory and a store agree on every answer and view, while the store is
/// closed and read back every `reopen_every` events and compacted every
/// `compact_every`.
fn run_equivalence(events: &[Ev], reopen_every: usize, compact_every: usize) {
    let dir = store_dir();
    let path = dir.join("state.db");
    let memory = memory(CONFIG);
    let mut store = sqlite_open(&path, CONFIG);
    let mut at = t("2026-11-01T04:50:00Z");
    for (i, &ev) in events.iter().enumerate() {
        at += TimeDelta::seconds(i64::from(ev.3));
        let (m, s) = (step(&memory, ev, at), step(&store, ev, at));
        assert_eq!(m, s, "event {i} at {at}: {ev:?}");
        assert_eq!(
            views(&memory, at),
            views(&store, at),
            "views after event {i}"
        );
        if compact_every > 0 && i % compact_every == compact_every - 1 {
            store.compact();
        }
        if reopen_every > 0 && i % reopen_every == reopen_every - 1 {
            drop(store);
            // the seed differs: the store keeps its own config
            store = sqlite_open(&path, r#"{"targets": [{"id": "z"}]}"#);
            assert_eq!(
                views(&memory, at),
                views(&store, at),
                "views after reopening at {i}"
            );
        }
    }
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Random lifecycles and live changes (pauses, usage imports, patches,
    /// cancels, resets, routes anchoring imports) agree between memory and
    /// a store that is closed, read back and compacted along the way.
    #[test]
    fn memory_and_sqlite_agree(events in proptest::collection::vec(
        (0u8..13, 0u8..6, 0u8..3, 0u16..480, 0u16..2000), 1..40),
        reopen in 0usize..8, compact_every in 0usize..8) {
        run_equivalence(&events, reopen, compact_every);
    }
}

/// A fixed sequence with every kind of event, read back after each one.
#[test]
fn every_event_survives_a_reopening() {
    let events: Vec<Ev> = (0u8..13)
        .flat_map(|k| [(k, 1, 0, 30, 200), (k, 2, 1, 30, 1300), (0, 3, 2, 30, 7)])
        .collect();
    run_equivalence(&events, 1, 0);
    run_equivalence(&events, 3, 2);
}

const SMALL: &str = r#"{"targets": [{"id": "a", "caps": {"daily": 2, "concurrency": 2}}]}"#;

fn used(b: &Blocking, at: Instant, cap: &str) -> serde_json::Value {
    let u = serde_json::to_value(b.usage(at).expect("usage")).expect("json");
    let caps = u["owners"][0]["caps"].as_array().expect("caps").clone();
    (caps.into_iter())
        .find(|c| c["cap"] == cap)
        .map(|c| c["used"].clone())
        .unwrap_or_else(|| panic!("no {cap} cap"))
}

/// A request retried with its key after a restart is answered as the
/// first time and applies nothing; without the key it is a new request.
#[test]
fn retries_after_a_restart_answer_as_the_first_time() {
    let dir = store_dir();
    let path = dir.join("state.db");
    let at = t("2026-11-23T15:00:00Z");
    let first = Call::new("x").request("key-connect");
    {
        let s = sqlite_open(&path, SMALL);
        assert_eq!(
            s.connect(&first, "a", at).expect("connect"),
            ConnectOutcome::Connected
        );
        s.end(&Call::new("x").request("key-end"), at).expect("end");
    }
    let s = sqlite_open(&path, SMALL);
    assert_eq!(
        s.connect(&first, "a", at).expect("retry"),
        ConnectOutcome::Connected
    );
    s.end(&Call::new("x").request("key-end"), at)
        .expect("retried end");
    assert_eq!(used(&s, at, "daily"), serde_json::json!(1), "counted once");
    // a new key is a new request: the call is already connected
    let again = s.connect(&Call::new("x").request("key-other"), "a", at);
    assert!(matches!(again, Err(StateError::Engine(_))), "{again:?}");
    drop(s);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The config file seeds a new store; a store keeps its own config, with
/// every live change, whatever file it is opened with.
#[test]
fn a_store_keeps_its_config_and_live_changes() {
    let dir = store_dir();
    let path = dir.join("state.db");
    let at = t("2026-11-23T15:00:00Z");
    let other = r#"{"targets": [{"id": "a", "caps": {"daily": 9}}, {"id": "b"}]}"#;
    {
        let s = open_store(&path, SMALL, Synchronous::Full).expect("new store");
        assert!(s.created() && !s.kept_config());
        let b = Blocking::new(Arc::new(s)).expect("runtime");
        let patch = serde_json::json!({"caps": {"daily": 7}});
        b.patch(OwnerKind::Target, "a", &patch, "update", at)
            .expect("patch");
        b.set_paused(OwnerKind::Target, "a", true).expect("pause");
    }
    let s = open_store(&path, other, Synchronous::Full).expect("reopened");
    assert!(!s.created() && s.kept_config(), "the file differs");
    let b = Blocking::new(Arc::new(s)).expect("runtime");
    let config = b.config();
    assert_eq!(
        config.targets.len(),
        1,
        "the store's config, not the file's"
    );
    assert!(config.targets[0].paused, "the pause is kept");
    let u = serde_json::to_value(b.usage(at).expect("usage")).expect("json");
    assert_eq!(
        u["owners"][0]["caps"][0]["limit"], 7,
        "the patch is kept: {u}"
    );
    drop(b);
    // the same file as the store's: nothing to say
    let s = open_store(&path, SMALL, Synchronous::Full).expect("reopened");
    assert!(s.kept_config(), "the store's config was patched since");
    drop(s);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A second open of a store in use fails at once, naming the file.
#[test]
fn one_process_per_store() {
    let dir = store_dir();
    let path = dir.join("state.db");
    let first = open_store(&path, SMALL, Synchronous::Full).expect("first");
    let started = std::time::Instant::now();
    let second = open_store(&path, SMALL, Synchronous::Full).expect_err("second");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(1),
        "at once"
    );
    assert!(second.contains(&path.display().to_string()), "{second}");
    assert!(second.contains("in use by another process"), "{second}");
    drop(first);
    open_store(&path, SMALL, Synchronous::Full).expect("free again once closed");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `routecap` with `--state sqlite:PATH` on a file a `serve` holds: exit
/// 2 naming the file.
#[test]
fn a_second_process_exits_2_naming_the_file() {
    let dir = store_dir();
    let config = dir.join("config.json");
    std::fs::write(&config, SMALL).expect("config");
    let state = format!("sqlite:{}", dir.join("state.db").display());
    let config = config.to_str().expect("utf-8");
    let _server = crate::serve_support::ServeProcess::start(config, &["--state", &state]);
    let (code, out, err) =
        crate::cli_support::run(&["usage", config, "--state", &state, "--json"], b"");
    assert_eq!(code, 2, "{err}");
    assert!(out.is_empty(), "{out}");
    assert!(
        err.contains(&dir.join("state.db").display().to_string()),
        "{err}"
    );
    assert!(err.contains("in use by another process"), "{err}");
    let (code, _, err) = crate::cli_support::run(
        &[
            "serve",
            config,
            "--listen",
            "127.0.0.1:0",
            "--state",
            &state,
        ],
        b"",
    );
    assert_eq!(code, 2, "serve: {err}");
    drop(_server);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Writes a file a test opens as a store.
type Maker = Box<dyn Fn(&Path)>;

/// Files that are not this program's stores stop the start with a message
/// naming the file and the problem, and are left byte for byte as they
/// were.
#[test]
fn damaged_and_foreign_files_are_refused_and_kept() {
    let dir = store_dir();
    let cases: Vec<(&str, Maker, &str)> = vec![
        (
            "text.db",
            Box::new(|p: &Path| {
                std::fs::write(p, "not a database at all, just some text\n".repeat(200))
                    .expect("write")
            }),
            "not an SQLite database",
        ),
        (
            "other-app.db",
            Box::new(|p: &Path| {
                let c = rusqlite::Connection::open(p).expect("sqlite");
                c.execute_batch("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total INTEGER); INSERT INTO invoices VALUES (1, 5);")
                    .expect("foreign db");
            }),
            "another application",
        ),
        (
            "future.db",
            Box::new(|p: &Path| {
                drop(open_store(p, SMALL, Synchronous::Full).expect("store"));
                let c = rusqlite::Connection::open(p).expect("sqlite");
                c.pragma_update(None, "user_version", 99).expect("version");
            }),
            "format 99",
        ),
        (
            "damaged.db",
            Box::new(|p: &Path| {
                {
                    let s = sqlite_open(p, SMALL);
                    let at = t("2026-11-23T15:00:00Z");
                    for i in 0..40 {
                        let _ = s.connect(&Call::new(format!("c{i}")), "a", at);
                    }
                    s.compact();
                }
                // overwrite the middle of the file with garbage
                let mut bytes = std::fs::read(p).expect("read");
                let mid = bytes.len() / 2;
                let end = (mid + 2048).min(bytes.len());
                bytes[mid..end].fill(0xA5);
                std::fs::write(p, bytes).expect("write");
            }),
            "damaged",
        ),
        (
            "no-snapshot.db",
            Box::new(|p: &Path| {
                drop(open_store(p, SMALL, Synchronous::Full).expect("store"));
                let c = rusqlite::Connection::open(p).expect("sqlite");
                c.execute("DELETE FROM snapshot", []).expect("delete");
            }),
            "holds no snapshot",
        ),
    ];
    let config = dir.join("config.json");
    std::fs::write(&config, SMALL).expect("config");
    for (name, make, problem) in cases {
        let path = dir.join(name);
        make(&path);
        let before = std::fs::read(&path).expect("read");
        let err = open_store(&path, SMALL, Synchronous::Full).expect_err(name);
        assert!(err.contains(&path.display().to_string()), "{name}: {err}");
        assert!(err.contains(problem), "{name}: {err}");
        let state = format!("sqlite:{}", path.display());
        let (code, out, cli_err) = crate::cli_support::run(
            &["check", config.to_str().expect("utf-8"), "--state", &state],
            b"",
        );
        assert_eq!(code, 2, "{name}: {cli_err}");
        assert!(
            out.is_empty() && cli_err.contains(problem),
            "{name}: {cli_err}"
        );
        assert_eq!(
            std::fs::read(&path).expect("read"),
            before,
            "{name} left as it was"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Size of the store's files (the database and its WAL).
fn store_size(path: &Path) -> u64 {
    let wal = PathBuf::from(format!("{}-wal", path.display()));
    [path, wal.as_path()]
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum()
}

/// After many settled calls the store is about the size of a store that
/// holds only the state: the history is forgotten.
#[test]
fn compaction_keeps_the_file_the_size_of_the_state() {
    let dir = store_dir();
    let path = dir.join("state.db");
    let config = r#"{"call_retention_seconds": 60,
                    "targets": [{"id": "a", "caps": {"concurrency": 5}}]}"#;
    let s = open_store(&path, config, Synchronous::Normal).expect("store");
    let s = Blocking::new(Arc::new(s)).expect("runtime");
    let mut at = t("2026-11-23T15:00:00Z");
    let empty = store_size(&path);
    for i in 0..3000 {
        at += TimeDelta::seconds(10);
        let c = Call::new(format!("call-{i}-{}", "x".repeat(40)));
        s.connect(&c, "a", at).expect("connect");
        s.convert(&c, Money(1234), at).expect("convert");
        s.end(&c, at).expect("end");
    }
    let grown = store_size(&path);
    assert!(grown > 400_000, "the history is in the log: {grown} bytes");
    let backend = Arc::clone(s.backend());
    drop(backend);
    drop(s);
    // reopen and compact: only the last minute of calls is left
    let state = Arc::new(open_store(&path, config, Synchronous::Normal).expect("reopen"));
    let b = Blocking::new(state.clone()).expect("runtime");
    b.block_on(state.compact()).expect("compact");
    let compacted = store_size(&path);
    assert!(
        compacted < empty + 64 * 1024,
        "{compacted} bytes after compaction (new store: {empty}, before: {grown})"
    );
    drop(b);
    drop(state);
    let _ = std::fs::remove_dir_all(&dir);
}
