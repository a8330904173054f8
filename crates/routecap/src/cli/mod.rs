//! Argument parsing and dispatch; one module per command.

use std::io::{self, Write};

use clap::{Parser, Subcommand};

mod check;
mod common;
mod hours;
mod replay;
mod route;
mod serve;
mod simulate;
mod usage;
mod validate;
mod zones;

/// Decide where a phone call may go: cap-and-schedule routing rules.
#[derive(Parser, Debug)]
#[command(name = "routecap", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Resolve time zone names (Rails, Windows, IANA); with none, list every accepted name.
    Zones(zones::Args),
    /// Eligibility of every candidate at an instant, with every reason and until when.
    Check(check::Args),
    /// The failover plan for one call: priority tiers, weighted random order.
    Route(route::Args),
    /// Replay JSON Lines of events (route/connect/reserve/convert/end/touch/cancel/reset/pause/resume/update/config/usage).
    Replay(replay::Args),
    /// Synthetic traffic through the real engine: per-target counts, rejections, lost calls.
    Simulate(simulate::Args),
    /// A week grid of business hours per local hour, in the owner's zone or another.
    Hours(hours::Args),
    /// Fill of every cap of every target and group at an instant, with window bounds.
    Usage(usage::Args),
    /// Check a config without deciding anything: errors (exit 2) and warnings (exit 1 with --strict).
    Validate(validate::Args),
    /// The engine as an HTTP/1.1 JSON service (memory, or Redis shared by many processes).
    Serve(serve::Args),
}

/// A command failure: message for stderr and the exit status.
#[derive(Debug)]
pub struct Failure {
    /// Message printed on stderr (prefixed with `routecap: `).
    pub message: String,
    /// Exit status.
    pub code: i32,
}

impl Failure {
    /// A usage or input error (exit 2).
    pub fn input(message: impl Into<String>) -> Self {
        Failure {
            message: message.into(),
            code: 2,
        }
    }
}

/// Parse the arguments, run the command, and return the exit status.
pub fn run() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return code;
        }
    };
    let result = match cli.command {
        Command::Zones(a) => zones::run(a),
        Command::Check(a) => check::run(a),
        Command::Route(a) => route::run(a),
        Command::Replay(a) => replay::run(a),
        Command::Simulate(a) => simulate::run(a),
        Command::Hours(a) => hours::run(a),
        Command::Usage(a) => usage::run(a),
        Command::Serve(a) => serve::run(a),
        Command::Validate(a) => validate::run(a),
    };
    match result {
        Ok(code) => code,
        Err(f) => {
            eprintln!("routecap: {}", f.message);
            f.code
        }
    }
}

/// Write all of `text` to stdout; a closed pipe (e.g. `| head`) is not an error.
pub fn emit(text: &str) -> Result<(), Failure> {
    let mut out = io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Failure::input(format!("cannot write output: {e}"))),
    }
}

/// Pretty JSON with a trailing newline.
pub fn json_text(v: &impl serde::Serialize) -> String {
    let mut s = serde_json::to_string_pretty(v).unwrap_or_else(|_| "null".into());
    s.push('\n');
    s
}
