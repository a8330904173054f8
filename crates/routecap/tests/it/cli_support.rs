//! Running the `routecap` binary from the CLI tests.
#![allow(dead_code)] // each test file uses its own subset

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::Value;

/// Run `routecap ARGS` from the repository root with `stdin`; returns the
/// exit status, stdout and stderr.
///
/// Under `scripts/with-redis` (`ROUTECAP_TEST_REDIS_URL` set), every
/// deterministic `replay`, `check`, `route` and `usage` run (explicit
/// `--seed`/`--at`, no `--state` of its own) runs a second time with
/// `--state URL --namespace <fresh>`, and its stdout and exit status must
/// equal the memory backend's: every CLI test is also a test that the Redis
/// backend answers byte for byte the same.
///
/// Every such run also runs with `--state sqlite:<fresh file>` (always: the
/// store needs no server), with the same requirement.
pub fn run(args: &[&str], stdin: &[u8]) -> (i32, String, String) {
    let memory = run_once(args, stdin);
    if deterministic(args) {
        let dir = std::env::temp_dir().join(format!(
            "routecap-mirror-{}-{}",
            std::process::id(),
            MIRRORS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        // durability is not what is compared: skip the syncs
        let state = format!(
            "sqlite:{}?synchronous=normal",
            dir.join("state.db").display()
        );
        let mut with_state: Vec<&str> = args.to_vec();
        with_state.extend_from_slice(&["--state", &state]);
        let sqlite = run_once(&with_state, stdin);
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(
            (memory.0, &memory.1),
            (sqlite.0, &sqlite.1),
            "routecap {} differs with --state sqlite (status, stdout); sqlite stderr: {}",
            args.join(" "),
            sqlite.2
        );
    }
    if let Some(url) = mirror_url(args) {
        let ns = format!(
            "mirror-{}-{}",
            std::process::id(),
            MIRRORS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        let mut with_state: Vec<&str> = args.to_vec();
        with_state.extend_from_slice(&["--state", &url, "--namespace", &ns]);
        let redis = run_once(&with_state, stdin);
        assert_eq!(
            (memory.0, &memory.1),
            (redis.0, &redis.1),
            "routecap {} differs with --state redis (status, stdout); redis stderr: {}",
            args.join(" "),
            redis.2
        );
    }
    memory
}

static MIRRORS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// The Redis URL to mirror `args` on, when they are deterministic.
fn mirror_url(args: &[&str]) -> Option<String> {
    let url = std::env::var("ROUTECAP_TEST_REDIS_URL")
        .ok()
        .filter(|u| !u.is_empty())?;
    deterministic(args).then_some(url)
}

/// A `replay`, `check`, `route` or `usage` run whose output depends only
/// on its arguments (explicit `--seed`/`--at`, no `--state` of its own).
fn deterministic(args: &[&str]) -> bool {
    let has = |flag: &str| args.contains(&flag);
    let deterministic = match args.first().copied() {
        Some("replay") => has("--seed"),
        Some("route") => has("--seed") && has("--at"),
        Some("check" | "usage") => has("--at"),
        _ => false,
    };
    deterministic && !has("--state") && !has("--help")
}

fn run_once(args: &[&str], stdin: &[u8]) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_routecap"))
        .args(args)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run routecap");
    // the command may exit before reading (e.g. a usage error): ignore EPIPE
    let _ = child.stdin.take().expect("piped stdin").write_all(stdin);
    let out = child.wait_with_output().expect("routecap finishes");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Parse JSON output, failing the test with the text when it is not JSON.
pub fn json(s: &str) -> Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("not JSON ({e}): {s}"))
}
