//! `routecap simulate CONFIG --from T --to T [...]`: synthetic traffic through
//! the real engine (see `routecap_core::simulate` for the model). Only the
//! face lives here: flags, the progress bar, the table and the HTML report.

use std::io::IsTerminal;
use std::time::{Duration, Instant as Clock};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use routecap::simulate::report::{Amount, OwnerJson};
use routecap::simulate::{
    self, Profile, ReportJson, SimParams, DEFAULT_ANSWER_RATE, DEFAULT_CALLS_PER_HOUR,
    DEFAULT_CONVERT_RATE, DEFAULT_MEAN_DURATION_SECS,
};
use routecap_core::money::Money;

use super::common::{load, parse_format, parse_instant, seed_or_random, table};
use super::{emit, json_text, Failure};

/// Arguments of `routecap simulate`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Config file (routecap, Retreaver or Ringba JSON); `-` for standard input.
    config: String,
    /// First instant of the simulated traffic, RFC 3339.
    #[arg(long)]
    from: String,
    /// End of the simulated traffic (exclusive), RFC 3339.
    #[arg(long)]
    to: String,
    /// Average arrivals per hour (Poisson).
    #[arg(long, default_value_t = DEFAULT_CALLS_PER_HOUR)]
    calls_per_hour: f64,
    /// Hour-of-week shape of the arrival rate: a JSON file, or 24 / 168
    /// comma-separated weights (hour of day / of week from Sunday 00:00, UTC).
    #[arg(long)]
    profile: Option<String>,
    /// Probability that a rung target answers.
    #[arg(long, default_value_t = DEFAULT_ANSWER_RATE)]
    answer_rate: f64,
    /// Probability that a connected call converts.
    #[arg(long, default_value_t = DEFAULT_CONVERT_RATE)]
    convert_rate: f64,
    /// Revenue of each conversion (exact decimal).
    #[arg(long, default_value = "20.00")]
    revenue: String,
    /// Mean call length in seconds (exponential).
    #[arg(long, default_value_t = DEFAULT_MEAN_DURATION_SECS)]
    mean_duration: f64,
    /// Seed of every random draw (default: drawn from the clock and printed).
    #[arg(long)]
    seed: Option<u64>,
    /// Start from empty counters instead of the config's imported usage.
    #[arg(long)]
    fresh: bool,
    /// Also write a self-contained HTML report (charts, no network) to FILE.
    #[arg(long, value_name = "FILE")]
    html: Option<String>,
    /// No progress bar.
    #[arg(long, short)]
    quiet: bool,
    /// Who calls: a JSON file with a weighted mix of tag sets and a share of
    /// repeat callers (see examples/call-mix.json).
    #[arg(long = "tags", value_name = "FILE")]
    tags: Option<String>,
    /// Config shape, overriding auto-detection.
    #[arg(long, value_parser = parse_format)]
    format: Option<routecap_core::formats::Format>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

fn call_mix(path: &str) -> Result<simulate::CallMix, Failure> {
    let (bytes, _) = routecap::load::read_input(path)
        .map_err(|e| Failure::input(format!("--tags {path}: cannot be read: {e}")))?;
    let text = String::from_utf8(bytes)
        .map_err(|_| Failure::input(format!("--tags {path}: is not UTF-8 text")))?;
    simulate::CallMix::parse(&text).map_err(|e| Failure::input(format!("--tags {path}: {e}")))
}

fn profile(arg: &str) -> Result<Profile, Failure> {
    let looks_inline = arg.contains(',') && std::path::Path::new(arg).metadata().is_err();
    let text = if looks_inline {
        arg.to_string()
    } else {
        let (bytes, _) = routecap::load::read_input(arg)
            .map_err(|e| Failure::input(format!("--profile {arg}: cannot be read: {e}")))?;
        String::from_utf8(bytes)
            .map_err(|_| Failure::input(format!("--profile {arg}: is not UTF-8 text")))?
    };
    Profile::parse(&text).map_err(|e| Failure::input(format!("--profile {arg}: {e}")))
}

pub fn run(args: Args) -> Result<i32, Failure> {
    let from = parse_instant("--from", &args.from)?;
    let to = parse_instant("--to", &args.to)?;
    let revenue = Money::parse(&args.revenue)
        .map_err(|e| Failure::input(format!("--revenue {:?} {e}", args.revenue)))?;
    let profile = args.profile.as_deref().map(profile).transpose()?;
    let config = load(&args.config, args.format)?;
    let params = SimParams {
        calls_per_hour: args.calls_per_hour,
        profile,
        answer_rate: args.answer_rate,
        convert_rate: args.convert_rate,
        revenue,
        mean_duration_secs: args.mean_duration,
        fresh: args.fresh,
        calls: args.tags.as_deref().map(call_mix).transpose()?,
        ..SimParams::new(from, to, seed_or_random(args.seed))
    };
    let report = with_progress(args.quiet, |progress| {
        simulate::simulate(&config, &params, progress)
    })
    .map_err(|e| Failure::input(e.to_string()))?;
    if let Some(path) = &args.html {
        let html = routecap::report_html::render(&config, &report);
        std::fs::write(path, html)
            .map_err(|e| Failure::input(format!("--html {path}: cannot be written: {e}")))?;
    }
    let view = simulate::report_json(&config, &report);
    let text = if args.json {
        json_text(&serde_json::to_value(&view).map_err(|e| Failure::input(e.to_string()))?)
    } else {
        human(&view, args.html.as_deref())
    };
    emit(&text)?;
    Ok(0)
}

/// Run `f` with a progress callback that shows a bar on stderr once the run
/// has taken a second — never with `--quiet` or when stderr is not a terminal.
fn with_progress<R>(quiet: bool, f: impl FnOnce(&mut dyn FnMut(simulate::Progress)) -> R) -> R {
    let enabled = !quiet && std::io::stderr().is_terminal();
    let started = Clock::now();
    let mut bar: Option<ProgressBar> = None;
    let mut cb = |p: simulate::Progress| {
        if !enabled {
            return;
        }
        if bar.is_none() && started.elapsed() >= Duration::from_secs(1) {
            let b = ProgressBar::with_draw_target(
                Some(p.total_ms.max(1)),
                ProgressDrawTarget::stderr(),
            );
            if let Ok(style) = ProgressStyle::with_template(
                "simulating {bar:40} {percent:>3}% of simulated time, eta {eta}",
            ) {
                b.set_style(style);
            }
            bar = Some(b);
        }
        if let Some(b) = &bar {
            b.set_position(p.done_ms);
        }
    };
    let out = f(&mut cb);
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    out
}

fn pct(part: u64, whole: u64) -> String {
    if whole == 0 {
        "-".into()
    } else {
        format!("{:.1}%", part as f64 * 100.0 / whole as f64)
    }
}

fn amount(a: &Amount) -> String {
    match a {
        Amount::Count(n) => n.to_string(),
        Amount::Money(m) => m.clone(),
    }
}

/// Every owner of the report with its kind: targets, then groups.
fn owners(r: &ReportJson) -> impl Iterator<Item = (String, &OwnerJson)> {
    let targets = r.targets.iter().map(|o| ("target".to_string(), o));
    let groups = (r.groups.iter()).map(|o| match o.mode {
        Some(mode) => (format!("group ({mode})"), o),
        None => ("group".to_string(), o),
    });
    targets.chain(groups)
}

/// `routecap simulate` for people: the report `--json` prints — totals,
/// one row per owner with every rejection reason, the fill of every cap,
/// and lost calls by UTC hour of day (the hour-by-hour series and the
/// profile's weights are left to `--json`).
fn human(r: &ReportJson, html: Option<&str>) -> String {
    let p = &r.params;
    let profiled = match &p.profile {
        Some(pr) => format!(" (profiled, hours in {})", pr.time_zone),
        None => String::new(),
    };
    let mut out = format!(
        "simulated {} .. {} (seed {}): {} calls at {} per hour{profiled}, answer rate {}, convert rate {}, revenue {} per conversion, mean length {} s{}\n\n",
        r.from,
        r.to,
        r.seed,
        r.calls,
        p.calls_per_hour,
        p.answer_rate,
        p.convert_rate,
        p.revenue,
        p.mean_duration,
        if p.fresh { ", fresh counters" } else { "" },
    );
    out.push_str(&format!(
        "routed     {:>10}  {}\nconnected  {:>10}  {}\nconverted  {:>10}  revenue {}\nlost       {:>10}  {} no eligible target, {} nobody answered\n\n",
        r.routed,
        pct(r.routed, r.calls),
        r.connected,
        pct(r.connected, r.calls),
        r.converted,
        r.revenue,
        r.no_eligible + r.unanswered,
        r.no_eligible,
        r.unanswered,
    ));
    out.push_str(&answer_line(
        r.connected,
        r.time_to_answer.mean_seconds,
        r.time_to_answer.p90_seconds,
    ));
    let rows: Vec<Vec<String>> = owners(r)
        .map(|(kind, o)| {
            let reasons: Vec<String> = (o.rejections.iter())
                .map(|rj| match &rj.group {
                    Some(g) => format!("{} [{g}] {}", rj.code, rj.calls),
                    None => format!("{} {}", rj.code, rj.calls),
                })
                .collect();
            vec![
                o.id.clone(),
                kind,
                o.offered.to_string(),
                o.answered.to_string(),
                o.connected.to_string(),
                o.refused.to_string(),
                o.converted.to_string(),
                o.revenue.clone(),
                o.ineligible.to_string(),
                reasons.join(", "),
            ]
        })
        .collect();
    out.push_str(&table(
        &[
            "ID",
            "KIND",
            "OFFERED",
            "ANSWERED",
            "CONNECTED",
            "REFUSED",
            "CONVERTED",
            "REVENUE",
            "INELIGIBLE",
            "REASONS (calls)",
        ],
        &rows,
    ));
    let caps: Vec<Vec<String>> = owners(r)
        .flat_map(|(_, o)| {
            o.caps.iter().map(|c| {
                vec![
                    o.id.clone(),
                    c.cap.to_string(),
                    c.limit.as_ref().map_or("by hour".into(), amount),
                    amount(&c.peak),
                    c.hours_at_limit.to_string(),
                ]
            })
        })
        .collect();
    if !caps.is_empty() {
        out.push_str("\ncap fill (usage at the end of each hour; concurrency: peak live):\n");
        out.push_str(&table(
            &["OWNER", "CAP", "LIMIT", "PEAK", "HOURS AT LIMIT"],
            &caps,
        ));
    }
    let by_hod = &r.lost_by_hour_of_day;
    let lost = by_hod.no_eligible.iter().zip(&by_hod.unanswered);
    let max = lost.clone().map(|(ne, un)| ne + un).max().unwrap_or(0);
    if max > 0 {
        out.push_str(
            "\nlost calls by UTC hour of day (# no eligible target, + nobody answered):\n",
        );
        for (h, (ne, un)) in lost.enumerate() {
            let width = |n: u64| ((n * 50).div_ceil(max)) as usize;
            out.push_str(&format!(
                "{h:02}:00 {}{} {} ({ne} + {un})\n",
                "#".repeat(width(*ne)),
                "+".repeat(width(*un)),
                ne + un
            ));
        }
    }
    if let Some(path) = html {
        out.push_str(&format!("\nHTML report written to {path}\n"));
    }
    out
}

/// The time-to-answer line. Answers come at a step's ring (0 s after it
/// starts) or after earlier steps rang out, so a 90th percentile of 0 s
/// means "at the first ring", said in words.
pub fn answer_line(connected: u64, mean: f64, p90: u64) -> String {
    let tail = "(unanswered steps ring out their timeouts)\n\n";
    match (connected, p90) {
        (0, _) => format!("no call was answered {tail}"),
        (_, 0) => {
            format!("answered after {mean:.1} s on average, at least 90 % at the first ring {tail}")
        }
        _ => format!("answered after {mean:.1} s on average, 90 % within {p90} s {tail}"),
    }
}
