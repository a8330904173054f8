//! `routecap usage CONFIG [--at T] [--json]`.

use routecap_core::engine::Engine;
use routecap_core::render::{UsageAmount, UsageView};

use super::common::{at_or_now, table, ConfigArg};
use super::{emit, json_text, Failure};

/// Arguments of `routecap usage`.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    input: ConfigArg,
    /// Instant to read the usage at, RFC 3339 (default: now).
    #[arg(long)]
    at: Option<String>,
    /// Where the state lives: only `memory` (the config's imported usage) for now.
    #[arg(long, default_value = "memory")]
    state: String,
    /// Name of the state inside a state server (unused with `memory`).
    #[arg(long, default_value = "routecap")]
    namespace: String,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> Result<i32, Failure> {
    if args.state != "memory" {
        return Err(Failure::input(format!(
            "--state {:?} is not supported by this build (only \"memory\")",
            args.state
        )));
    }
    let _ = &args.namespace;
    let at = at_or_now(&args.at)?;
    let mut engine = Engine::new(args.input.load()?);
    // the imported usage belongs to `as_of`, else to the instant read
    engine.anchor(at);
    let view = engine.usage_view(at);
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
