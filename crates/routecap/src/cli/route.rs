//! `routecap route CONFIG [--at T] [--seed N] [--json]`.

use routecap_core::eligibility::CandidateReport;
use routecap_core::model::Config;
use routecap_core::render;
use routecap_core::route::Draws;
use routecap_core::route::{self, Step};
use routecap_core::zone::Instant;
use routecap_core::Call;

use super::check::{explain, reason_text, until_text};
use super::common::{
    at_or_now, seed_or_random, state_failure, table, CallArgs, ConfigArg, StateArgs,
};
use super::{emit, json_text, Failure};

/// Arguments of `routecap route`.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    input: ConfigArg,
    /// Decision instant, RFC 3339 (default: now).
    #[arg(long)]
    at: Option<String>,
    /// Seed of the route's random order (default: drawn from the clock and printed).
    #[arg(long)]
    seed: Option<u64>,
    #[command(flatten)]
    call: CallArgs,
    #[command(flatten)]
    state: StateArgs,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> Result<i32, Failure> {
    let at = at_or_now(&args.at)?;
    let seed = seed_or_random(args.seed);
    let call = Call::with_attrs("", args.call.attrs()?);
    let backend = args.state.open(&args.input)?;
    // the imported usage belongs to `as_of`, else to the decision instant
    // (route anchors it)
    let view = (backend.route(&call, at, &mut Draws::new(seed))).map_err(|e| state_failure(&e))?;
    // MERGE-WITH-CLITEXT: the text is rendered from the view
    let text = json_text(&view);
    let _ = args.json;
    emit(&text)?;
    Ok(0)
}

#[allow(dead_code)] // MERGE-WITH-CLITEXT
fn human(
    config: &Config,
    at: Instant,
    seed: u64,
    plan: &[Step<'_>],
    reports: &[CandidateReport],
) -> String {
    let chances = route::first_place_chances(config, plan);
    let rows: Vec<Vec<String>> = plan
        .iter()
        .zip(&chances)
        .enumerate()
        .map(|(i, (s, c))| {
            let (p, w) = route::step_key(config, s);
            let what = match *s {
                Step::Target(t) => config.targets[t].id.clone(),
                Step::Group { group, members } => format!(
                    "{} (simultaneous: {})",
                    config.groups[group].id,
                    members
                        .iter()
                        .map(|&m| config.targets[m].id.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            vec![
                format!("{}.", i + 1),
                what,
                p.to_string(),
                w.to_string(),
                format!("{:.1}%", c * 100.0),
            ]
        })
        .collect();
    let mut out = format!(
        "route at {} (seed {seed}): {} step(s)\n\n",
        render::instant(at),
        plan.len()
    );
    if plan.is_empty() {
        out.push_str("no eligible target: the call cannot be routed\n");
    } else {
        out.push_str(&table(
            &["#", "STEP", "PRIORITY", "WEIGHT", "CHANCE FIRST"],
            &rows,
        ));
    }
    let mut rej = Vec::new();
    for r in reports.iter().filter(|r| !r.eligible) {
        for (i, reason) in r.reasons.iter().enumerate() {
            rej.push(vec![
                if i == 0 {
                    render::candidate_id(config, r.candidate).to_string()
                } else {
                    String::new()
                },
                reason_text(config, reason),
                until_text(reason),
            ]);
        }
        if r.reasons.is_empty() {
            rej.push(vec![
                render::candidate_id(config, r.candidate).to_string(),
                String::new(),
                String::new(),
            ]);
        }
    }
    if !rej.is_empty() {
        out.push_str("\nrejected:\n");
        out.push_str(&table(&["CANDIDATE", "REASON", "UNTIL"], &rej));
    }
    out
}
