//! `routecap validate CONFIG [--format F] [--json] [--strict]`: a config's
//! errors and warnings (SPEC §13), without deciding anything.

use routecap_core::formats::ConfigError;
use routecap_core::validate::{validate, ValidationReport};

use super::common::ConfigArg;
use super::{emit, json_text, Failure};

/// Arguments of `routecap validate`.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    input: ConfigArg,
    /// Print JSON: {"ok", "shape", "errors": [{path, message}], "warnings": [{code, path, message}]}.
    #[arg(long)]
    json: bool,
    /// Exit 1 when there are warnings (and no errors).
    #[arg(long)]
    strict: bool,
}

pub fn run(args: Args) -> Result<i32, Failure> {
    let report = match routecap::load::read_input(&args.input.config) {
        Ok((bytes, name)) => validate(&bytes, name, args.input.format),
        Err(e) => {
            let name = if args.input.config == "-" {
                "<stdin>"
            } else {
                &args.input.config
            };
            ValidationReport {
                ok: false,
                shape: None,
                errors: vec![routecap_core::validate::error_entry(
                    &ConfigError::unreadable(name, e),
                )],
                warnings: Vec::new(),
            }
        }
    };
    let text = if args.json {
        json_text(&report)
    } else {
        human(&report, &args.input.config)
    };
    emit(&text)?;
    Ok(if !report.ok {
        2
    } else if args.strict && !report.warnings.is_empty() {
        1
    } else {
        0
    })
}

/// One line per error and warning, then a summary line.
fn human(report: &ValidationReport, file: &str) -> String {
    let mut out = String::new();
    for e in &report.errors {
        out.push_str(&format!("error: {}: {}\n", e.path, e.message));
    }
    for w in &report.warnings {
        out.push_str(&format!("warning[{}]: {}: {}\n", w.code, w.path, w.message));
    }
    let shape = report.shape.unwrap_or("unrecognised");
    let plural = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
    out.push_str(&format!(
        "{file}: {} ({} shape): {}, {}\n",
        if report.ok { "valid" } else { "invalid" },
        shape,
        plural(report.errors.len(), "error"),
        plural(report.warnings.len(), "warning"),
    ));
    out
}
