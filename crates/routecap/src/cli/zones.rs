//! `routecap zones [NAME...] [--json]`.

use routecap_core::render::ZoneRow;
use routecap_core::zone;

use super::{emit, json_text, Failure};

/// Arguments of `routecap zones`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Names to resolve; none lists every accepted name. An empty or blank
    /// name is an error here (in a config, a blank `time_zone` means UTC).
    names: Vec<String>,
    /// Print JSON: `[{"input", "iana", "kind"}]`.
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> Result<i32, Failure> {
    let rows: Vec<ZoneRow> = if args.names.is_empty() {
        zone::known_names()
            .iter()
            .map(|k| ZoneRow {
                input: k.name.to_string(),
                iana: k.tz.name().to_string(),
                kind: k.kind.as_str(),
            })
            .collect()
    } else {
        let mut rows = Vec::with_capacity(args.names.len());
        let mut errors = Vec::new();
        for n in &args.names {
            // `zone::resolve` reads a blank name as UTC, which is right for a
            // config's missing `time_zone` but not for a name asked about.
            if n.trim().is_empty() {
                errors.push(format!("{n:?} is not a time zone name (empty)"));
                continue;
            }
            match zone::resolve(n) {
                Ok(r) => rows.push(ZoneRow {
                    input: n.clone(),
                    iana: r.tz.name().to_string(),
                    kind: r.kind.as_str(),
                }),
                Err(e) => errors.push(e.to_string()),
            }
        }
        if !errors.is_empty() {
            return Err(Failure::input(errors.join("\nroutecap: ")));
        }
        rows
    };
    let text = if args.json {
        json_text(&rows)
    } else {
        human(&rows)
    };
    emit(&text)?;
    Ok(0)
}

/// `routecap zones` for people: the rows `--json` prints, as a table.
fn human(rows: &[ZoneRow]) -> String {
    let w = rows
        .iter()
        .map(|r| r.input.chars().count())
        .max()
        .unwrap_or(4)
        .max(4);
    let mut s = format!("{:<w$}  {:<7}  {}\n", "NAME", "KIND", "IANA");
    for r in rows {
        s.push_str(&format!("{:<w$}  {:<7}  {}\n", r.input, r.kind, r.iana));
    }
    s
}
