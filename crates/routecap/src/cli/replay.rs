//! `routecap replay CONFIG EVENTS [--seed N]`.

use std::io::{self, BufReader, BufWriter, IsTerminal};
use std::time::Duration;

use routecap::replay::ReplayError;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::common::{seed_or_random, state_failure, ConfigArg, StateArgs};
use super::Failure;

/// Arguments of `routecap replay`.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    input: ConfigArg,
    /// JSON Lines of events in non-decreasing `at` order; `-` for standard input.
    events: String,
    /// Seed of the route events' random stream (default: drawn from the clock and printed on stderr).
    #[arg(long)]
    seed: Option<u64>,
    #[command(flatten)]
    state: StateArgs,
    /// Output is always JSON Lines; accepted for symmetry with the other commands.
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> Result<i32, Failure> {
    if args.input.config == "-" && args.events == "-" {
        return Err(Failure::input(
            "CONFIG and EVENTS cannot both be standard input",
        ));
    }
    let seed = seed_or_random(args.seed);
    if args.seed.is_none() {
        eprintln!("routecap: replay seed {seed}");
    }
    let backend = args.state.open(&args.input)?;
    let mut bar = ProgressBar::hidden();
    let reader: Box<dyn io::BufRead> = if args.events == "-" {
        Box::new(BufReader::new(io::stdin()))
    } else {
        let f = std::fs::File::open(&args.events)
            .map_err(|e| Failure::input(format!("{}: cannot be read: {e}", args.events)))?;
        let size = f.metadata().map(|m| m.len()).unwrap_or(0);
        bar = progress(size);
        Box::new(BufReader::new(bar.wrap_read(f)))
    };
    let out = BufWriter::new(io::stdout().lock());
    let result = backend.block_on(routecap::replay::replay(
        &**backend.backend(),
        reader,
        seed,
        out,
    ));
    bar.finish_and_clear();
    match result {
        Ok(s) => Ok(if s.errors > 0 { 1 } else { 0 }),
        Err(ReplayError::Io(e)) if e.kind() == io::ErrorKind::BrokenPipe => Ok(0),
        Err(ReplayError::Io(e)) => Err(Failure::input(format!("{}: {e}", args.events))),
        Err(ReplayError::State(e)) => Err(state_failure(&e)),
    }
}

/// A byte progress bar on stderr for big event files; hidden when stderr is
/// not a terminal (scripts and CI see nothing) or the file is small.
fn progress(size: u64) -> ProgressBar {
    if size < 4 << 20 || !io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(size), ProgressDrawTarget::stderr());
    if let Ok(style) =
        ProgressStyle::with_template("replay {bar:40} {bytes}/{total_bytes} ({eta} left)")
    {
        bar.set_style(style);
    }
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}
