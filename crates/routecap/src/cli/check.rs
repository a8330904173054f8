//! `routecap check CONFIG [--at T] [--json]`.

use routecap_core::render::{self, CampaignView, CheckView, ReasonView};
use routecap_core::Call;

use super::common::{at_or_now, rows_of, state_failure, table, CallArgs, ConfigArg, StateArgs};
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
    let text = if args.json {
        json_text(&view)
    } else {
        human(&view)
    };
    emit(&text)?;
    Ok(0)
}

/// A candidate's wall clock for people: `Sun 2026-11-22 10:00 -05:00`
/// (the view's `2026-11-22T10:00:00-05:00` with its weekday).
fn local_text(local_time: &str) -> String {
    match chrono::DateTime::parse_from_rfc3339(local_time) {
        Ok(t) => t.format("%a %Y-%m-%d %H:%M %:z").to_string(),
        Err(_) => local_time.to_string(),
    }
}

/// The reasons of a list, one line, for a sentence.
pub fn reasons_inline(reasons: &[ReasonView]) -> String {
    let texts: Vec<String> = reasons.iter().map(render::reason_text).collect();
    texts.join(", ")
}

/// The campaign line of `check`: whether it takes the call, and its fallback.
fn campaign_text(c: &CampaignView) -> String {
    let verdict = if c.eligible {
        format!("campaign {} takes the call", c.id)
    } else {
        format!(
            "campaign {} refuses the call: {}",
            c.id,
            reasons_inline(&c.reasons)
        )
    };
    match &c.fallback {
        Some(f) => format!("{verdict}; fallback {f}\n"),
        None => format!("{verdict}; no fallback\n"),
    }
}

/// `routecap check` for people: the view `--json` prints, one row per
/// reason (and a simultaneous group's eligible members).
fn human(view: &CheckView) -> String {
    let mut rows = Vec::new();
    for c in &view.candidates {
        let mut lines: Vec<String> = c.reasons.iter().map(render::reason_text).collect();
        if let Some(members) = &c.eligible_members {
            lines.push(if members.is_empty() {
                "eligible members: none".to_string()
            } else {
                format!("eligible members: {}", members.join(", "))
            });
        }
        let head = vec![
            c.id.clone(),
            c.kind.to_string(),
            local_text(&c.local_time),
            if c.eligible { "yes" } else { "no" }.to_string(),
        ];
        rows.extend(rows_of(head, lines));
    }
    let eligible = view.candidates.iter().filter(|c| c.eligible).count();
    let mut out = format!(
        "at {}: {} of {} candidates eligible\n",
        view.at,
        eligible,
        view.candidates.len(),
    );
    if let Some(c) = &view.campaign {
        out.push_str(&campaign_text(c));
    }
    out.push('\n');
    out.push_str(&table(
        &["CANDIDATE", "KIND", "LOCAL TIME", "ELIGIBLE", "REASONS"],
        &rows,
    ));
    out
}
