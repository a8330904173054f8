//! Helpers shared by the commands: instants, seeds, config loading, tables.

use chrono::Utc;
use routecap_core::filter::CallAttrs;
use routecap_core::formats::Format;
use routecap_core::instant;
use routecap_core::model::Config;
use routecap_core::zone::Instant;

use std::sync::Arc;
use std::time::Duration;

use routecap::state::redis::{redact_url, RedisOptions, RedisState};
use routecap::state::sqlite::{SqliteOptions, SqliteState};
use routecap::state::{Backend, Blocking, StateError};
use routecap_core::formats::source::Source;

use super::Failure;

/// An RFC 3339 instant given on the command line
/// ([`routecap_core::instant::parse_instant`]); `flag` names it in errors.
pub fn parse_instant(flag: &str, text: &str) -> Result<Instant, Failure> {
    instant::parse_instant(text).map_err(|e| Failure::input(format!("{flag} {e}")))
}

/// The call attributes of `check` and `route`.
#[derive(clap::Args, Debug, Default)]
pub struct CallArgs {
    /// The caller's number (E.164; `anonymous`, `restricted` or empty = unknown).
    #[arg(long)]
    caller: Option<String>,
    /// A call tag KEY=VALUE (repeatable; a repeated key adds a value; `geo`
    /// splits on commas).
    #[arg(long = "tag", value_name = "KEY=VALUE")]
    tags: Vec<String>,
    /// Route through this campaign's candidates (and its fallback).
    #[arg(long)]
    campaign: Option<String>,
}

impl CallArgs {
    /// The attributes, or an input error naming the bad `--tag`.
    pub fn attrs(&self) -> Result<CallAttrs, Failure> {
        let mut attrs = CallAttrs::new();
        attrs.set_caller(self.caller.as_deref());
        attrs.set_campaign(self.campaign.as_deref());
        for t in &self.tags {
            attrs
                .add_tag_arg(t)
                .map_err(|e| Failure::input(format!("--tag {e}")))?;
        }
        Ok(attrs)
    }
}

/// `--at` if given, else the system clock in whole seconds (answers print
/// the instant; an `--at` has whole seconds too, in practice).
pub fn at_or_now(at: &Option<String>) -> Result<Instant, Failure> {
    match at {
        Some(t) => parse_instant("--at", t),
        None => Ok(chrono::SubsecRound::trunc_subsecs(Utc::now(), 0)),
    }
}

/// `--seed` if given, else one drawn from the system clock (always printed,
/// so any run can be repeated).
pub fn seed_or_random(seed: Option<u64>) -> u64 {
    seed.unwrap_or_else(|| {
        let nanos = Utc::now().timestamp_nanos_opt().unwrap_or(0) as u64;
        // splitmix64 finaliser: spreads clock bits over the whole seed
        let mut z = nanos.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) % 1_000_000
    })
}

/// Parse `--format`.
pub fn parse_format(text: &str) -> Result<Format, String> {
    text.parse::<Format>()
        .map_err(|_| format!("{text:?} is not a config format (routecap, retreaver, ringba)"))
}

/// The config argument shared by every command that reads one.
#[derive(clap::Args, Debug)]
pub struct ConfigArg {
    /// Config file (routecap, Retreaver or Ringba JSON); `-` for standard input.
    pub config: String,
    /// Config shape, overriding auto-detection.
    #[arg(long, value_parser = parse_format)]
    pub format: Option<Format>,
}

/// Where the counters live: `--state` and `--namespace`.
#[derive(clap::Args, Debug)]
pub struct StateArgs {
    /// Where the state lives: `memory` (this run only), an SQLite file kept
    /// across runs, `sqlite:PATH[?synchronous=full|normal]` (one process per
    /// file), or a Redis-compatible server shared by many processes,
    /// `redis://[:PASSWORD@]HOST:PORT[/DB]`, `rediss://…` or `unix://PATH`.
    #[arg(long, default_value = "memory", value_name = "memory|sqlite:PATH|URL")]
    pub state: String,
    /// Name of the state inside a state server (unused with `memory` and `sqlite:`).
    #[arg(long, default_value = "routecap", value_name = "NS")]
    pub namespace: String,
}

impl StateArgs {
    /// The state for `input`'s config, for synchronous commands, or exit 2
    /// (see [`StateArgs::open_backend`]).
    pub fn open(&self, input: &ConfigArg) -> Result<Blocking, Failure> {
        let rt = routecap::state::runtime()
            .map_err(|e| Failure::input(format!("cannot start the I/O runtime: {e}")))?;
        let backend = rt.block_on(self.open_backend(input, None))?;
        Ok(Blocking::on(rt, backend))
    }

    /// The state for `input`'s config, or exit 2 (bad config, bad URL,
    /// unreachable or misbehaving server — named without its password).
    /// `timeout`: the longest wait for one state-server answer.
    pub async fn open_backend(
        &self,
        input: &ConfigArg,
        timeout: Option<Duration>,
    ) -> Result<Arc<dyn Backend>, Failure> {
        if self.state == "memory" {
            let engine = routecap::load::load_engine(&input.config, input.format)
                .map_err(|e| Failure::input(e.to_string()))?;
            return Ok(Arc::new(routecap::Engine::from_core(engine)));
        }
        if let Some(spec) = self.state.strip_prefix("sqlite:") {
            return open_sqlite(spec, input).await;
        }
        let scheme = self.state.split_once("://").map(|(s, _)| s);
        if !matches!(scheme, Some("redis" | "rediss" | "unix" | "redis+unix")) {
            return Err(Failure::input(format!(
                "--state {:?}: expected memory, sqlite:PATH or a redis://, rediss:// or unix:// URL",
                redact_url(&self.state)
            )));
        }
        let (bytes, name) = routecap::load::read_input(&input.config).map_err(|e| {
            let name = if input.config == "-" {
                "<stdin>"
            } else {
                &input.config
            };
            Failure::input(routecap_core::formats::ConfigError::unreadable(name, e).to_string())
        })?;
        // a bad config is reported before any connection is tried
        routecap_core::formats::parse_config(&bytes, name, input.format)
            .map_err(|e| Failure::input(e.to_string()))?;
        let mut opts = RedisOptions::new(self.state.clone());
        opts.namespace = self.namespace.clone();
        if let Some(t) = timeout {
            opts.response_timeout = t;
        }
        // with its document, so that patches work and every process of
        // the namespace runs the same config
        let state = RedisState::open_document(&bytes, name, input.format, opts)
            .await
            .map_err(|e| state_failure(&e))?;
        Ok(Arc::new(state))
    }
}

/// Read the config (reported first when bad) and open the store
/// `sqlite:SPEC` seeded with it; a store that holds a config keeps its own.
async fn open_sqlite(spec: &str, input: &ConfigArg) -> Result<Arc<dyn Backend>, Failure> {
    let opts = SqliteOptions::parse(spec).map_err(|e| Failure::input(format!("--state {e}")))?;
    let (bytes, name) = routecap::load::read_input(&input.config).map_err(|e| {
        let name = if input.config == "-" {
            "<stdin>"
        } else {
            &input.config
        };
        Failure::input(routecap_core::formats::ConfigError::unreadable(name, e).to_string())
    })?;
    let (source, config) =
        Source::parse(&bytes, name, input.format).map_err(|e| Failure::input(e.to_string()))?;
    // reading a store back replays its events: file work, off the async threads
    let state = tokio::task::spawn_blocking(move || SqliteState::open(opts, source, config))
        .await
        .map_err(|e| Failure::input(format!("--state: opening the store failed: {e}")))?
        .map_err(|e| Failure::input(e.to_string()))?;
    if state.kept_config() {
        let note = format!(
            "state store {} keeps the config it holds, which differs from {name}; \
             SIGHUP or PUT /v1/config applies a new one",
            state.path().display()
        );
        // serve logs it; the one-shot commands have no log: a note on stderr
        if tracing::dispatcher::has_been_set() {
            tracing::warn!("{note}");
        } else {
            eprintln!("note: {note}");
        }
    }
    Ok(Arc::new(state))
}

/// A state error as an exit-2 failure.
pub fn state_failure(e: &StateError) -> Failure {
    Failure::input(e.to_string())
}

/// Load a config or fail with exit 2.
pub fn load(path: &str, format: Option<Format>) -> Result<Config, Failure> {
    crate_load(path, format).map_err(|e| Failure::input(e.to_string()))
}

fn crate_load(
    path: &str,
    format: Option<Format>,
) -> Result<Config, routecap_core::formats::ConfigError> {
    routecap::load::load_config(path, format)
}

/// Table rows for one item: `head` cells beside its first line, blank cells
/// beside the others (one row of `head` and an empty cell when it has none).
pub fn rows_of(head: Vec<String>, lines: Vec<String>) -> Vec<Vec<String>> {
    if lines.is_empty() {
        let mut row = head;
        row.push(String::new());
        return vec![row];
    }
    let blank = vec![String::new(); head.len()];
    lines
        .into_iter()
        .enumerate()
        .map(|(i, line)| {
            let mut row = if i == 0 { head.clone() } else { blank.clone() };
            row.push(line);
            row
        })
        .collect()
}

/// A plain text table: a header row and rows of cells, columns padded.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            if i < widths.len() {
                widths[i] = widths[i].max(c.chars().count());
            }
        }
    }
    let mut out = String::new();
    let mut line = |cells: Vec<&str>| {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                s.push_str(c);
            } else {
                s.push_str(c);
                s.push_str(&" ".repeat(widths[i] - c.chars().count() + 2));
            }
        }
        out.push_str(s.trim_end());
        out.push('\n');
    };
    line(header.to_vec());
    for r in rows {
        line(r.iter().map(String::as_str).collect());
    }
    out
}
