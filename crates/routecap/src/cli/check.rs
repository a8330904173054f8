//! `routecap check CONFIG [--at T] [--json]`.

use routecap_core::eligibility::{self, CandidateReport, Reason};
use routecap_core::model::Config;
use routecap_core::render;
use routecap_core::zone::Instant;
use routecap_core::Call;

use super::common::{at_or_now, state_failure, table, CallArgs, ConfigArg, StateArgs};
use super::{emit, json_text, Failure};

/// Arguments of `routecap check`.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    input: ConfigArg,
    /// Decision instant, RFC 3339 (default: now).
    #[arg(long)]
    at: Option<String>,
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
    let call = Call::with_attrs("", args.call.attrs()?);
    let backend = args.state.open(&args.input)?;
    let view = backend.check(&call, at).map_err(|e| state_failure(&e))?;
    // MERGE-WITH-CLITEXT: the text is rendered from the view
    let text = json_text(&view);
    let _ = args.json;
    emit(&text)?;
    Ok(0)
}

/// One reason for people: `daily_cap 40/40 (g1)`.
pub fn reason_text(config: &Config, r: &Reason) -> String {
    let mut s = r.code_string();
    if let (Some(u), Some(l)) = (r.used, r.limit) {
        s.push_str(&format!(" {}/{}", amount(u), amount(l)));
    }
    if let Some(g) = r.group {
        s.push_str(&format!(" [{}]", config.groups[g].id));
    }
    if let Some(d) = &r.detail {
        s.push_str(&format!(" ({d})"));
    }
    s
}

/// Write the `detail` of every filter reason for the call, for people.
pub fn explain(
    config: &Config,
    attrs: &routecap_core::filter::CallAttrs,
    reports: &mut [CandidateReport],
) {
    let ex = eligibility::Explainer::new(config, attrs);
    for rep in reports {
        for r in &mut rep.reasons {
            r.detail = ex.detail(rep.candidate, r);
        }
    }
}

fn amount(a: eligibility::Amount) -> String {
    match a {
        eligibility::Amount::Count(n) => n.to_string(),
        eligibility::Amount::Money(m) => m.to_string(),
    }
}

/// When a reason lifts, for people.
pub fn until_text(r: &Reason) -> String {
    match r.until {
        Some(t) => render::instant(t),
        None => "-".into(),
    }
}

#[allow(dead_code)] // MERGE-WITH-CLITEXT
fn human(config: &Config, reports: &[CandidateReport], at: Instant) -> String {
    let mut rows = Vec::new();
    for rep in reports {
        let zone = render::candidate_zone(config, rep.candidate);
        let first = vec![
            render::candidate_id(config, rep.candidate).to_string(),
            render::candidate_kind(rep.candidate).to_string(),
            zone.local(at).format("%a %Y-%m-%d %H:%M").to_string()
                + &format!(" {}", zone.local_fixed(at).format("%:z")),
            if rep.eligible { "yes" } else { "no" }.to_string(),
        ];
        if rep.reasons.is_empty() {
            let mut row = first.clone();
            row.push(String::new());
            row.push(String::new());
            rows.push(row);
        }
        for (i, r) in rep.reasons.iter().enumerate() {
            let mut row = if i == 0 {
                first.clone()
            } else {
                vec![String::new(); 4]
            };
            row.push(reason_text(config, r));
            row.push(until_text(r));
            rows.push(row);
        }
    }
    let eligible = reports.iter().filter(|r| r.eligible).count();
    format!(
        "at {}: {} of {} candidates eligible\n\n{}",
        render::instant(at),
        eligible,
        reports.len(),
        table(
            &[
                "CANDIDATE",
                "KIND",
                "LOCAL TIME",
                "ELIGIBLE",
                "REASONS",
                "UNTIL"
            ],
            &rows
        )
    )
}
