//! `routecap replay CONFIG EVENTS [--seed N]`.

use std::io::{self, BufReader, BufWriter};

use super::common::{seed_or_random, ConfigArg};
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
    let config = args.input.load()?;
    let reader: Box<dyn io::BufRead> = if args.events == "-" {
        Box::new(BufReader::new(io::stdin()))
    } else {
        let f = std::fs::File::open(&args.events)
            .map_err(|e| Failure::input(format!("{}: cannot be read: {e}", args.events)))?;
        Box::new(BufReader::new(f))
    };
    let out = BufWriter::new(io::stdout().lock());
    match routecap::replay::replay(&config, reader, seed, out) {
        Ok(s) => Ok(if s.errors > 0 { 1 } else { 0 }),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(0),
        Err(e) => Err(Failure::input(format!("{}: {e}", args.events))),
    }
}
