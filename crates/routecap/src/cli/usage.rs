//! `routecap usage CONFIG [--at T] [--json]`.

use routecap_core::render::{UsageAmount, UsageView};

use super::common::{at_or_now, state_failure, table, ConfigArg, StateArgs};
use super::{emit, json_text, Failure};

/// Arguments of `routecap usage`.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    input: ConfigArg,
    /// Instant to read the usage at, RFC 3339 (default: now).
    #[arg(long)]
    at: Option<String>,
    #[command(flatten)]
    state: StateArgs,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> Result<i32, Failure> {
    let at = at_or_now(&args.at)?;
    let backend = args.state.open(&args.input)?;
    // the imported usage belongs to `as_of`, else to the instant read
    let view = backend.usage(at).map_err(|e| state_failure(&e))?;
    let text = if args.json {
        json_text(&view)
    } else {
        human(&view)
    };
    emit(&text)?;
    Ok(0)
}

fn amount(a: &UsageAmount) -> String {
    match a {
        UsageAmount::Count(n) => n.to_string(),
        UsageAmount::Money(m) => m.clone(),
    }
}

/// One row per cap (one per owner without caps), windows in UTC.
fn human(view: &UsageView) -> String {
    let mut rows = Vec::new();
    for o in &view.owners {
        let head = vec![
            o.id.clone(),
            o.kind.to_string(),
            format!("{}+{}", o.live, o.reserved),
        ];
        if o.caps.is_empty() {
            let mut row = head.clone();
            row.extend(["-".into(), String::new(), String::new(), String::new()]);
            rows.push(row);
        }
        for (i, c) in o.caps.iter().enumerate() {
            let mut row = if i == 0 {
                head.clone()
            } else {
                vec![String::new(); 3]
            };
            row.push(c.cap.to_string());
            row.push(amount(&c.used));
            row.push(amount(&c.limit));
            row.push(match (&c.window_start, &c.window_end) {
                (Some(s), Some(e)) => format!("{s} .. {e}"),
                _ => "-".into(),
            });
            rows.push(row);
        }
    }
    format!(
        "usage at {}\n\n{}",
        view.at,
        table(
            &[
                "OWNER",
                "KIND",
                "LIVE+RESERVED",
                "CAP",
                "USED",
                "LIMIT",
                "WINDOW"
            ],
            &rows
        )
    )
}
