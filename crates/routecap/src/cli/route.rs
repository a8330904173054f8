//! `routecap route CONFIG [--at T] [--seed N] [--json]`.

use routecap_core::render::{self, RejectedView, RouteView, StepView};
use routecap_core::route::Draws;
use routecap_core::Call;

use super::check::reasons_inline;
use super::common::{
    at_or_now, rows_of, seed_or_random, state_failure, table, CallArgs, ConfigArg, StateArgs,
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
    let text = if args.json {
        json_text(&view)
    } else {
        human(&view)
    };
    emit(&text)?;
    Ok(0)
}

/// One plan step for people: `acme`, `spare (fallback)`,
/// `night-pool (simultaneous: a, b)`.
fn step_text(s: &StepView) -> (String, u32) {
    match s {
        StepView::Target {
            target,
            timeout_seconds,
            fallback,
        } => {
            let what = if *fallback {
                format!("{target} (fallback)")
            } else {
                target.clone()
            };
            (what, *timeout_seconds)
        }
        StepView::Group {
            group,
            targets,
            timeout_seconds,
        } => (
            format!("{group} (simultaneous: {})", targets.join(", ")),
            *timeout_seconds,
        ),
    }
}

/// `routecap route` for people: the view `--json` prints — every step in
/// order with its ring timeout (the campaign's fallback marked), then the
/// rejected candidates with every reason.
fn human(view: &RouteView) -> String {
    let mut out = format!(
        "route at {} (seed {}): {} step(s)\n",
        view.at,
        view.seed,
        view.plan.len()
    );
    let (campaigns, candidates): (Vec<&RejectedView>, Vec<&RejectedView>) = (view.rejected)
        .iter()
        .partition(|r| r.kind == Some("campaign"));
    for r in &campaigns {
        out.push_str(&format!(
            "campaign {} refuses the call: {}\n",
            r.id,
            reasons_inline(&r.reasons)
        ));
    }
    out.push('\n');
    if view.plan.is_empty() && campaigns.is_empty() {
        out.push_str("no eligible target: the call cannot be routed\n");
    } else if view.plan.is_empty() {
        out.push_str("the call cannot be routed\n");
    } else {
        let rows: Vec<Vec<String>> = (view.plan.iter().enumerate())
            .map(|(i, s)| {
                let (what, timeout) = step_text(s);
                vec![format!("{}.", i + 1), what, format!("{timeout} s")]
            })
            .collect();
        out.push_str(&table(&["#", "STEP", "TIMEOUT"], &rows));
    }
    let rows: Vec<Vec<String>> = (candidates.iter())
        .flat_map(|r| {
            let lines = r.reasons.iter().map(render::reason_text).collect();
            rows_of(vec![r.id.clone()], lines)
        })
        .collect();
    if !rows.is_empty() {
        out.push_str("\nrejected:\n");
        out.push_str(&table(&["CANDIDATE", "REASONS"], &rows));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::common::{ConfigArg, StateArgs};

    /// `examples/callers.json` after the caller +19195550100 connected to
    /// acme at 10:00 (the first events of `examples/callers-events.jsonl`):
    /// the view of a route at `at` for that caller, through `campaign`.
    fn repeat_caller_view(at: &str, campaign: Option<&str>) -> RouteView {
        let input = ConfigArg {
            config: concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/callers.json").into(),
            format: None,
        };
        let state = StateArgs {
            state: "memory".into(),
            namespace: "routecap".into(),
        };
        let backend = state.open(&input).unwrap();
        let history = concat!(
            r#"{"at": "2026-11-23T10:00:00Z", "type": "connect", "call": "c1", "target": "acme", "caller": "+19195550100"}"#,
            "\n",
            r#"{"at": "2026-11-23T10:01:00Z", "type": "end", "call": "c1"}"#,
            "\n",
        );
        let summary = backend
            .block_on(routecap::replay::replay(
                &**backend.backend(),
                history.as_bytes(),
                1,
                std::io::sink(),
            ))
            .unwrap();
        assert_eq!(summary.errors, 0);
        let mut attrs = routecap_core::filter::CallAttrs::new();
        attrs.set_caller(Some("+19195550100"));
        attrs.set_campaign(campaign);
        let at = crate::cli::common::parse_instant("--at", at).unwrap();
        let call = routecap_core::Call::with_attrs("", attrs);
        (backend.route(&call, at, &mut routecap_core::route::Draws::new(5))).unwrap()
    }

    /// The text holds every step of the JSON plan, in order, with its
    /// timeout, and every reason of every rejected candidate.
    fn assert_rendered(view: &RouteView, text: &str) {
        let v = serde_json::to_value(view).unwrap();
        let plan = v["plan"].as_array().unwrap();
        assert!(text.starts_with(&format!(
            "route at {} (seed 5): {} step(s)\n",
            view.at,
            plan.len()
        )));
        let mut rest = text;
        let mut see = |fact: String| match rest.find(&fact) {
            Some(i) => rest = &rest[i + fact.len()..],
            None => panic!("{fact:?} missing or out of order in\n{text}"),
        };
        for (i, s) in plan.iter().enumerate() {
            see(format!("{}.  {}", i + 1, s["target"].as_str().unwrap()));
            if s["fallback"] == true {
                see("(fallback)".into());
            }
            see(format!("{} s", s["timeout_seconds"]));
        }
        for r in v["rejected"].as_array().unwrap() {
            see(r["id"].as_str().unwrap().into());
            for reason in r["reasons"].as_array().unwrap() {
                see(reason["code"].as_str().unwrap().into());
                see(format!("until {}", reason["until"].as_str().unwrap()));
            }
        }
    }

    /// 11:00, acme's duplicate window over: `repeat_callers: original`
    /// rings the caller's last target, acme, first — the text used to
    /// re-plan without it (bolt first).
    #[test]
    fn a_repeat_callers_original_target_comes_first_in_the_text() {
        let view = repeat_caller_view("2026-11-23T11:00:00Z", None);
        let text = human(&view);
        assert_rendered(&view, &text);
        assert_eq!(
            text,
            "route at 2026-11-23T11:00:00Z (seed 5): 3 step(s)\n\
             \n\
             #   STEP   TIMEOUT\n\
             1.  acme   30 s\n\
             2.  bolt   30 s\n\
             3.  spare  30 s\n"
        );
    }

    /// 10:30 through campaign `fresh`: acme refuses the caller twice, bolt
    /// is the plan and spare the fallback — the text used to print "1
    /// step(s)" and the fallback below the table.
    #[test]
    fn a_repeat_caller_through_a_campaign_with_a_fallback() {
        let view = repeat_caller_view("2026-11-23T10:30:00Z", Some("fresh"));
        let text = human(&view);
        assert_rendered(&view, &text);
        assert_eq!(
            text,
            "route at 2026-11-23T10:30:00Z (seed 5): 2 step(s)\n\
             \n\
             #   STEP              TIMEOUT\n\
             1.  bolt              30 s\n\
             2.  spare (fallback)  30 s\n\
             \n\
             rejected:\n\
             CANDIDATE  REASONS\n\
             acme       duplicate_caller until 2026-11-23T11:00:00Z (caller +19195550100 connected at 2026-11-23T10:00:00Z (window 3600 s))\n           \
             repeat_caller until 2026-11-24T10:00:00Z (caller +19195550100 connected at 2026-11-23T10:00:00Z (window 86400 s))\n"
        );
    }
}
