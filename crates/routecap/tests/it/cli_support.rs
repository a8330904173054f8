//! Running the `routecap` binary from the CLI tests.
#![allow(dead_code)] // each test file uses its own subset

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::Value;

/// Run `routecap ARGS` from the repository root with `stdin`; returns the
/// exit status, stdout and stderr.
pub fn run(args: &[&str], stdin: &[u8]) -> (i32, String, String) {
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
