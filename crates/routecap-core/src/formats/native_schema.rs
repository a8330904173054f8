//! The native shape as Rust types for `schemars`, which writes
//! `docs/config.schema.json` (JSON Schema 2020-12) from them. A test checks
//! that every object here has exactly the fields the native reader accepts
//! ([`super::native::fields`]) and that the checked-in file is current.
//!
//! The schema is at least as strict as the reader: it gives canonical
//! spellings (lower-case operators and kinds) where the reader also folds
//! case, and leaves the cross-field rules (ids that exist, `open <= close`,
//! one entry per day) to the reader.

// the types exist to be described, never built; their docs are the schema's
#![allow(dead_code, missing_docs)]

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};

/// Fields starting with `$` (e.g. `$schema`) or `x-` are the operator's own.
macro_rules! native_object {
    ($(#[$m:meta])* $name:ident { $($(#[$fm:meta])* $field:ident : $ty:ty),* $(,)? }) => {
        #[derive(JsonSchema)]
        $(#[$m])*
        #[schemars(deny_unknown_fields, extend("patternProperties" = {"^(\\$|x-)": true}))]
        pub struct $name { $($(#[$fm])* pub $field: $ty),* }
    };
}

native_object! {
    /// A routecap config (native shape).
    #[schemars(title = "routecap config")]
    Config {
        /// The instant the `usage` figures were read (RFC 3339, 1970–2100); default: the decision instant.
        as_of: Option<Instant>,
        targets: Option<Vec<Target>>,
        groups: Option<Vec<Group>>,
        campaigns: Option<Vec<Campaign>>,
        /// How long a connected call holds its concurrency slot without an end (default 14400).
        call_lease_seconds: Option<Seconds>,
        /// How long ended calls are remembered for repeat and duplicate caller rules (default 86400).
        call_retention_seconds: Option<Seconds>,
        repeat_callers: Option<RepeatCallers>,
    }
}

native_object! {
    /// A buyer that calls are routed to.
    Target {
        id: Id,
        name: Option<String>,
        priority: Option<Priority>,
        weight: Option<Weight>,
        paused: Option<bool>,
        time_zone: Option<ZoneName>,
        /// What counts against caps: connect (default), convert or revenue.
        trigger: Option<String>,
        hours: Option<Vec<DayEntry>>,
        caps: Option<Caps>,
        usage: Option<Usage>,
        concurrency_matrix: Option<Matrix>,
        filter: Option<Filter>,
        timeout_seconds: Option<Timeout>,
        duplicates: Option<Duplicates>,
    }
}

native_object! {
    /// Targets sharing caps and hours (separate) or dialled together (simultaneous).
    Group {
        id: Id,
        name: Option<String>,
        members: Option<Vec<Id>>,
        mode: Option<GroupMode>,
        priority: Option<Priority>,
        weight: Option<Weight>,
        time_zone: Option<ZoneName>,
        hours: Option<Vec<DayEntry>>,
        caps: Option<Caps>,
        concurrency_matrix: Option<Matrix>,
        usage: Option<Usage>,
        filter: Option<Filter>,
        timeout_seconds: Option<Timeout>,
    }
}

native_object! {
    /// Candidates a call of this campaign may be offered.
    Campaign {
        id: Id,
        /// Target or group ids.
        candidates: Vec<Id>,
        /// A target id tried when no candidate is eligible.
        fallback: Option<Id>,
        filter: Option<Filter>,
        repeat_callers: Option<RepeatCallers>,
    }
}

native_object! {
    /// One day of the weekly table; a day with no entry is open all day.
    DayEntry {
        /// 0 = Sunday … 6 = Saturday.
        #[schemars(range(min = 0, max = 6))]
        day: u8,
        /// Local opening time (default "00:00").
        open: Option<Clock>,
        /// Local closing time (default "24:00").
        close: Option<Clock>,
        /// Open outside open–close instead (overnight shifts).
        invert: Option<bool>,
        /// Closed the whole local day.
        closed: Option<bool>,
    }
}

native_object! {
    /// Limits; a missing or null limit is unlimited.
    Caps {
        hourly: Option<Count>,
        daily: Option<Count>,
        monthly: Option<Count>,
        total: Option<Count>,
        concurrency: Option<Count>,
        hourly_revenue: Option<Money>,
        daily_revenue: Option<Money>,
        monthly_revenue: Option<Money>,
        total_revenue: Option<Money>,
    }
}

native_object! {
    /// Usage at `as_of` (absent = 0).
    Usage {
        hourly: Option<Count>,
        daily: Option<Count>,
        monthly: Option<Count>,
        total: Option<Count>,
        live: Option<Count>,
        hourly_revenue: Option<Money>,
        daily_revenue: Option<Money>,
        monthly_revenue: Option<Money>,
        total_revenue: Option<Money>,
    }
}

native_object! {
    /// Refuse a caller already connected (or converted) within the window.
    Duplicates {
        basis: Option<Basis>,
        window: Seconds,
    }
}

native_object! {
    /// Where a repeat caller goes.
    RepeatCallers {
        mode: RepeatMode,
        /// Required unless mode is "normal".
        window: Option<Seconds>,
    }
}

native_object! {
    /// Calls match when any rule matches.
    Filter {
        #[schemars(length(min = 1))]
        any_of: Vec<Rule>,
    }
}

native_object! {
    /// A rule matches when all its conditions hold ([] matches every call).
    Rule {
        all_of: Vec<Condition>,
    }
}

native_object! {
    /// A test of one call tag.
    Condition {
        tag: TagKey,
        op: Op,
        kind: Option<Kind>,
        negate: Option<bool>,
        value: Option<TagValue>,
        #[schemars(length(min = 1))]
        values: Option<Vec<TagValue>>,
    }
}

/// Declares a schema given as JSON for a type that is only described.
macro_rules! described {
    ($(#[$m:meta])* $name:ident => $schema:expr) => {
        $(#[$m])*
        pub struct $name;
        impl JsonSchema for $name {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                stringify!($name).into()
            }
            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                $schema
            }
        }
    };
}

described!(Id => json_schema!({
    "description": "An id: a non-empty string (at most 256 bytes) or an integer.",
    "oneOf": [
        {"type": "string", "minLength": 1, "maxLength": 256, "pattern": "\\S"},
        {"type": "integer"}
    ]
}));
described!(Instant => json_schema!({
    "description": "An RFC 3339 instant between 1970-01-01 and 2100-01-01.",
    "type": "string", "format": "date-time"
}));
described!(Seconds => json_schema!({
    "description": "Whole seconds, 1 to 315576000 (10 years).",
    "type": "integer", "minimum": 1, "maximum": 315576000
}));
described!(Priority => json_schema!({
    "description": "Lower is tried first (default 1).",
    "type": "integer", "minimum": -2147483648, "maximum": 2147483647
}));
described!(Weight => json_schema!({
    "description": "Share within a priority tier (default 1; 0 = after every positive weight of the tier).",
    "type": "integer", "minimum": 0, "maximum": 4294967295u32
}));
described!(Timeout => json_schema!({
    "description": "Ring timeout in whole seconds.",
    "type": "integer", "minimum": 1, "maximum": 86400
}));
described!(Count => json_schema!({
    "type": "integer", "minimum": 0, "maximum": 18446744073709551615u64
}));
described!(Money => json_schema!({
    "description": "A non-negative amount with at most 2 decimals, as a number or a decimal string (kept exactly).",
    "oneOf": [
        {"type": "number", "minimum": 0},
        {"type": "string", "pattern": "^\\s*\\+?[0-9]+(\\.[0-9]{0,2})?\\s*$"}
    ]
}));
described!(ZoneName => json_schema!({
    "description": "A Rails, Windows or IANA zone name (case-insensitive; blank = UTC); `routecap zones` lists them.",
    "type": "string", "maxLength": 64
}));
described!(Clock => json_schema!({
    "description": "Local time HH:MM, 00:00 to 24:00.",
    "type": "string", "pattern": "^(([01]?[0-9]|2[0-3]):[0-5][0-9]|24:00)$"
}));
described!(Matrix => json_schema!({
    "description": "7 rows (Sunday first) of 24 concurrency limits, one per local hour; -1 or null = unlimited.",
    "type": "array",
    "items": {"type": "array", "minItems": 24, "maxItems": 24,
              "items": {"oneOf": [{"type": "integer", "minimum": -1}, {"type": "null"}]}},
    "minItems": 7, "maxItems": 7
}));
described!(GroupMode => json_schema!({"enum": ["separate", "simultaneous"]}));
described!(Basis => json_schema!({"enum": ["connect", "convert"]}));
described!(RepeatMode => json_schema!({"enum": ["normal", "original", "different"]}));
described!(Kind => json_schema!({"enum": ["string", "number"]}));
described!(Op => json_schema!({"enum": [
    "in", "not_in", "contains", "not_contains", "starts_with", "not_starts_with",
    "gt", "gte", "lt", "lte", "exists", "not_exists"
]}));
described!(TagKey => json_schema!({
    "oneOf": [{"type": "string", "minLength": 1, "maxLength": 256, "pattern": "\\S"}, {"type": "number"}]
}));
described!(TagValue => json_schema!({"type": ["string", "number"]}));

/// `docs/config.schema.json`, as written (pretty JSON and a newline).
pub fn config_schema_text() -> String {
    let schema = schemars::generate::SchemaSettings::draft2020_12()
        .into_generator()
        .into_root_schema_for::<Config>();
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::super::native::fields;
    use super::*;
    use serde_json::Value;

    const REGENERATE: &str = "ROUTECAP_WRITE_SCHEMA=1 cargo test -p routecap-core config_schema";

    fn schema() -> Value {
        serde_json::from_str(&config_schema_text()).unwrap()
    }

    fn keys(object: &Value) -> Vec<String> {
        let mut k: Vec<String> = object["properties"]
            .as_object()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        k.sort();
        k
    }

    fn sorted(list: &[&str]) -> Vec<String> {
        let mut k: Vec<String> = list.iter().map(|s| s.to_string()).collect();
        k.sort();
        k
    }

    /// Every object of the schema has exactly the reader's fields, so the
    /// schema cannot accept a field the reader refuses or miss one it reads.
    #[test]
    fn config_schema_has_the_fields_the_reader_accepts() {
        let s = schema();
        assert_eq!(keys(&s), sorted(fields::CONFIG), "config");
        let defs = &s["$defs"];
        for (name, list) in [
            ("Target", fields::TARGET),
            ("Group", fields::GROUP),
            ("Campaign", fields::CAMPAIGN),
            ("DayEntry", fields::DAY),
            ("Caps", fields::CAPS),
            ("Usage", fields::USAGE),
            ("Duplicates", fields::DUPLICATES),
            ("RepeatCallers", fields::REPEAT_CALLERS),
            ("Filter", fields::FILTER),
            ("Rule", fields::RULE),
            ("Condition", fields::CONDITION),
        ] {
            assert_eq!(keys(&defs[name]), sorted(list), "{name}");
            assert_eq!(
                defs[name]["additionalProperties"],
                Value::Bool(false),
                "{name}"
            );
        }
        let ops: Vec<&str> = crate::filter::Op::ALL.iter().map(|o| o.as_str()).collect();
        let listed: Vec<&str> = defs["Op"]["enum"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert_eq!(listed, ops);
        assert_eq!(s["$schema"], "https://json-schema.org/draft/2020-12/schema");
    }

    /// The checked-in `docs/config.schema.json` is what the types give.
    #[test]
    fn config_schema_file_is_current() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/config.schema.json");
        let fresh = config_schema_text();
        if std::env::var_os("ROUTECAP_WRITE_SCHEMA").is_some() {
            std::fs::write(path, &fresh).unwrap();
        }
        let on_disk = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            on_disk == fresh,
            "docs/config.schema.json is stale or missing; regenerate it with: {REGENERATE}"
        );
    }
}
