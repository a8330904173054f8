//! Caller history: what a step sends of it, and reading it back.
//!
//! When some rule of the config reads history (a target's `duplicates`, a
//! `repeat_callers` mode other than `normal`), a connect of a known caller
//! passes the caller's hash to the connect script, which refuses a
//! duplicate (the target's basis and window) or a `different` repeat (the
//! call's campaign's rule, else the config's) and records the connect in
//! the same script: of two concurrent connects of one caller to one
//! target under such a rule, at most one is admitted. The call record
//! keeps the caller, so the convert script records the conversion in the
//! caller's hash (built inside the script from the record: same hash tag,
//! same slot). `check` and `route` for a known caller read that caller's
//! hash in the same read script, and the cache serves them only when it
//! was read with that caller. Reasons (`duplicate_caller`,
//! `repeat_caller`, their `until` and detail) come from the core judging
//! the rebuilt history, as memory's.

use routecap_core::caller_history::{self, Basis, RepeatMode};
use routecap_core::filter::CallAttrs;
use routecap_core::model::Config;
use routecap_core::snapshot::CallerSnapshot;

use super::scripts::CallerArgs;
use super::RedisState;

/// The caller whose history a decision for `attrs` reads: a known caller
/// when some rule of `c` reads history.
pub(super) fn history_of<'a>(c: &Config, attrs: &'a CallAttrs) -> Option<&'a str> {
    attrs.caller().filter(|_| c.caller_window() > 0)
}

/// A caller's history hash (`c:<target>`/`v:<target>` → Unix seconds, as
/// `HGETALL` lists it) as snapshot rows, by target id.
pub(super) fn history_rows(
    caller: &str,
    fields: &[String],
    fmt: &dyn Fn(i64) -> Option<String>,
) -> Vec<CallerSnapshot> {
    let mut rows: Vec<CallerSnapshot> = Vec::new();
    for pair in fields.chunks(2) {
        let [field, value] = pair else { continue };
        let Some((kind, target)) = field.split_once(':') else {
            continue;
        };
        let Some(at) = value.parse::<f64>().ok().and_then(|v| fmt(v as i64)) else {
            continue;
        };
        let i = match rows.iter().position(|r| r.target == target) {
            Some(i) => i,
            None => {
                rows.push(CallerSnapshot {
                    caller: caller.to_string(),
                    target: target.to_string(),
                    connected_at: None,
                    converted_at: None,
                });
                rows.len() - 1
            }
        };
        match kind {
            "c" => rows[i].connected_at = Some(at),
            "v" => rows[i].converted_at = Some(at),
            _ => {}
        }
    }
    rows
}

impl RedisState {
    /// The caller part of a connect to target `t`: the caller is kept in
    /// the call record; its history is read and written only when some
    /// rule of the config reads it.
    pub(super) fn connect_callers(&self, c: &Config, t: usize, attrs: &CallAttrs) -> CallerArgs {
        let Some(caller) = attrs.caller() else {
            return CallerArgs::default();
        };
        let keep = c.caller_window();
        if keep == 0 {
            return CallerArgs {
                key: None,
                args: vec![caller.to_string()],
            };
        }
        let (basis, dw) = match c.targets[t].duplicates() {
            Some(d) => (
                match d.basis {
                    Basis::Connect => "c",
                    Basis::Convert => "v",
                },
                d.window.to_string(),
            ),
            None => ("", String::new()),
        };
        let different = caller_history::repeat_rule(c, attrs)
            .filter(|r| r.mode == RepeatMode::Different)
            .map_or_else(String::new, |r| r.window.to_string());
        CallerArgs {
            key: Some(self.caller_key(caller)),
            args: vec![
                caller.to_string(),
                keep.to_string(),
                basis.to_string(),
                dw,
                different,
            ],
        }
    }
}
