//! The three config shapes: native
//! routecap, Retreaver and Ringba exports, parsed into a validated
//! [`Config`].
//!
//! Every refusal is a [`ConfigError`] naming the file, the JSON path
//! (`targets[3].business_hours[2].time_close`), the offending value as JSON
//! text and what is allowed. The native shape is strict (an unknown field is
//! an error naming the known field within two edits; `$…` and `x-…` fields
//! are the operator's); the imported shapes ignore fields they do not read:
//! real exports carry many that routing does not need, but a target record
//! must have a field of the shape it is read as (see `shape_hint`).
//! `null` is treated like an absent field.
//!
//! Decisions where the sources are silent:
//! - Integers must be written as integers: `1.5` or `1.0` where a count,
//!   priority or weight belongs is refused, as is any value too large for
//!   its type (shown verbatim: numbers keep their text).
//! - Money (caps, usage, Ringba sums) is a JSON number or a decimal string,
//!   non-negative, at most 2 decimals, parsed exactly from its text.
//! - An empty hours list means "no table" (open 24/7), like a missing one.
//! - A group listing the same target twice is refused.
//! - Retreaver: `id` is preferred, then `tid`, then `client_tid` (older API);
//!   a group member id that names no target of the document but is
//!   described in the group's embedded `targets` list becomes a target (so a
//!   target-group response stands on its own); any other unknown id is an error;
//!   `business_hours` (as returned) wins over `business_hours_attributes`
//!   (as sent); a `*_cap_attributes` value overrides the `caps` entry of
//!   the same kind; `filled` is the usage of that cap's window.
//! - Ringba: see `formats/ringba.rs` for day order, `-1`, groups and the ignored
//!   top-level `caps`.
//! - [`detect`] prefers native when a document fits several shapes.

mod common;
mod filter_syntax;
mod json;
mod native;
mod native_render;
#[cfg(any(test, feature = "schema"))]
pub mod native_schema;
mod retreaver;
mod ringba;
mod shape_hint;
pub mod source;

use std::fmt;
use std::str::FromStr;

use serde_json::Value;

use crate::model::Config;
use crate::zone_cache::ZoneCache;
use json::{error_at, show, Node};
pub use native_render::to_native;

/// A config shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// The native shape (the README example).
    Routecap,
    /// Retreaver Core API targets and target groups.
    Retreaver,
    /// Ringba targets API responses.
    Ringba,
}

impl Format {
    /// Stable name: `routecap`, `retreaver`, `ringba`.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Routecap => "routecap",
            Format::Retreaver => "retreaver",
            Format::Ringba => "ringba",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A format name that is not one of the three shapes.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown format {name:?}; expected routecap, retreaver or ringba")]
pub struct UnknownFormat {
    name: String,
}

impl UnknownFormat {
    /// The name as given.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl FromStr for Format {
    type Err = UnknownFormat;

    /// `routecap`, `retreaver` or `ringba` (ASCII case ignored).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "routecap" => Ok(Format::Routecap),
            "retreaver" => Ok(Format::Retreaver),
            "ringba" => Ok(Format::Ringba),
            _ => Err(UnknownFormat {
                name: s.to_string(),
            }),
        }
    }
}

/// Why a config was refused: where (file and JSON path), the offending
/// value and what is allowed, so a user can fix the file without guessing.
/// Displayed as `{file}: {path}: {value} {expected}`, without the value
/// when there is none.
/// A file that cannot be read has no JSON path: `{file}: {expected}`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct ConfigError {
    file: String,
    path: String,
    value: String,
    expected: String,
}

/// A value followed by a space, or nothing for an empty value.
struct Spaced<'a>(&'a str);

impl fmt::Display for Spaced<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            Ok(())
        } else {
            write!(f, "{} ", self.0)
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            return write!(f, "{}: {}", self.file, self.expected);
        }
        write!(
            f,
            "{}: {}: {}{}",
            self.file,
            self.path,
            Spaced(&self.value),
            self.expected
        )
    }
}

impl ConfigError {
    /// A config file that could not be read at all (no JSON path, no
    /// value): `reason` is the I/O error.
    pub fn unreadable(file: &str, reason: impl fmt::Display) -> Self {
        ConfigError {
            file: file.to_string(),
            path: String::new(),
            value: String::new(),
            expected: format!("cannot be read: {reason}"),
        }
    }

    /// The file name as given by the caller.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// JSON path (`targets[0].hours[1].open`), `$` for the whole document,
    /// or `line L column C` / `byte N` before there is a JSON value.
    pub fn path(&self) -> &str {
        if self.path.is_empty() {
            "$"
        } else {
            &self.path
        }
    }

    /// The offending value as JSON text (truncated when long); empty when
    /// there is none (missing field, unreadable file).
    pub fn value(&self) -> &str {
        &self.value
    }

    /// What is wrong and what is allowed, phrased to follow the value
    /// (`is not an HHMM time (0000–2400)`).
    pub fn expected(&self) -> &str {
        &self.expected
    }
}

const UNRECOGNISED: &str = "is not a config routecap recognises: expected a routecap config {\"targets\": [...]}, a Retreaver target / array of targets / {\"targets\": [...], \"target_groups\": [...]}, or a Ringba get-targets / get-target response (use --format to choose)";

/// Keys only a Ringba target has.
const RINGBA_KEYS: [&str; 4] = [
    "schedule",
    "enabled",
    "targetCallIncrement",
    "targetGroupId",
];
/// Keys only a native target has (`caps` counts when it is an object).
const NATIVE_KEYS: [&str; 4] = ["hours", "usage", "trigger", "concurrency_matrix"];
/// Keys only a Retreaver target or group has (`caps` counts when it is an array).
const RETREAVER_KEYS: [&str; 11] = [
    "business_hours",
    "business_hours_attributes",
    "concurrency_cap",
    "calls_in_progress",
    "tid",
    "hourly_cap_attributes",
    "daily_cap_attributes",
    "monthly_cap_attributes",
    "hard_cap_attributes",
    "target_ids",
    "behavior",
];

/// The shape a single target object looks like, if it tells.
fn classify_target(v: &Value) -> Option<Format> {
    let m = v.as_object()?;
    let has = |k: &str| m.contains_key(k);
    if NATIVE_KEYS.iter().any(|k| has(k)) || m.get("caps").is_some_and(Value::is_object) {
        Some(Format::Routecap)
    } else if RINGBA_KEYS.iter().any(|k| has(k)) {
        Some(Format::Ringba)
    } else if RETREAVER_KEYS.iter().any(|k| has(k)) || m.get("caps").is_some_and(Value::is_array) {
        Some(Format::Retreaver)
    } else {
        None
    }
}

/// Tell the shape of a document by its content.
///
/// - native: top-level `as_of` or `groups`, or `targets` whose items use
///   native fields (`hours`, `usage`, `trigger`, a `caps` object);
/// - ringba: top-level `stats`, or targets with `schedule`, `enabled`,
///   `targetCallIncrement` or `targetGroupId`;
/// - retreaver: `{"target": ...}` / `{"target_group": ...}` wrappers,
///   `target_groups`, an array, or targets with `business_hours`, a `caps`
///   array, `concurrency_cap`, ….
///
/// An object with `targets` that fits none of these is native (the
/// preferred reading when ambiguous). A top-level object that is none of
/// the above but looks like a lone Retreaver or Ringba target is that;
/// otherwise `None` (for example a number or string).
pub fn detect(value: &Value) -> Option<Format> {
    match value {
        Value::Object(m) => {
            if m.contains_key("as_of") || m.contains_key("groups") {
                return Some(Format::Routecap);
            }
            // config-level settings only the native shape has
            if m.contains_key("call_lease_seconds") || m.contains_key("call_retention_seconds") {
                return Some(Format::Routecap);
            }
            if m.contains_key("stats") {
                return Some(Format::Ringba);
            }
            if m.contains_key("target_groups") || m.contains_key("target_group") {
                return Some(Format::Retreaver);
            }
            if let Some(t) = m.get("target") {
                // Native has no `target` wrapper: Ringba's get-target or Retreaver's.
                return Some(match classify_target(t) {
                    Some(Format::Ringba) => Format::Ringba,
                    _ => Format::Retreaver,
                });
            }
            if let Some(list) = m.get("targets") {
                let items = list.as_array().map(Vec::as_slice).unwrap_or_default();
                for item in items {
                    if item.get("target").is_some() {
                        return Some(Format::Retreaver);
                    }
                    if let Some(f) = classify_target(item) {
                        return Some(f);
                    }
                }
                return Some(Format::Routecap);
            }
            match classify_target(value) {
                Some(Format::Routecap) | None => None,
                other => other,
            }
        }
        Value::Array(items) => {
            let ringba = items
                .iter()
                .any(|i| classify_target(i) == Some(Format::Ringba));
            Some(if ringba {
                Format::Ringba
            } else {
                Format::Retreaver
            })
        }
        _ => None,
    }
}

/// Parse config file bytes: `file` names the file in errors; `format`
/// `None` = [`detect`].
pub fn parse_config(
    bytes: &[u8],
    file: &str,
    format: Option<Format>,
) -> Result<Config, ConfigError> {
    let with_file = |mut e: ConfigError| {
        e.file = file.to_string();
        e
    };
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(with_file(error_at("", String::new(), "empty file")));
    }
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let at = e.valid_up_to();
        let byte = bytes
            .get(at)
            .map(|b| format!("0x{b:02X}"))
            .unwrap_or_default();
        with_file(error_at(
            &format!("byte {at}"),
            byte,
            "is not valid UTF-8 (config files must be UTF-8 text)",
        ))
    })?;
    let value: Value = serde_json::from_str(text).map_err(|e| {
        let msg = e.to_string();
        let suffix = format!(" at line {} column {}", e.line(), e.column());
        let msg = msg.strip_suffix(&suffix).unwrap_or(&msg);
        with_file(error_at(
            &format!("line {} column {}", e.line(), e.column()),
            String::new(),
            format!("invalid JSON: {msg}"),
        ))
    })?;
    let format = match format.or_else(|| detect(&value)) {
        Some(f) => f,
        None => return Err(with_file(error_at("", show(&value), UNRECOGNISED))),
    };
    parse_value(&value, file, format)
}

/// Parse an already-decoded JSON document in the given shape.
pub fn parse_value(value: &Value, file: &str, format: Format) -> Result<Config, ConfigError> {
    let mut cache = ZoneCache::new();
    let root = Node::root(value);
    let parsed = match format {
        Format::Routecap => native::parse(&root, &mut cache),
        Format::Retreaver => retreaver::parse(&root, &mut cache),
        Format::Ringba => ringba::parse(&root, &mut cache),
    };
    parsed.map_err(|mut e| {
        e.file = file.to_string();
        e
    })
}
