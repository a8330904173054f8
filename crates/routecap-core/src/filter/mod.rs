//! Call attributes and target filters: which targets want *this* call.
//!
//! Buyers pay for particular callers — Medicare callers from North Carolina,
//! a topic, an age — so a target (or a group) may carry a [`Filter`] over
//! the call's attributes ([`CallAttrs`]: the caller's number and string tags
//! such as Retreaver's `geo`). A filter is a list of rules, one of which must
//! match (`any_of`); a rule is a list of conditions, all of which must hold
//! (`all_of`).
//!
//! The semantics are meant to be easy to predict:
//! - keys and string values compare ignoring ASCII case and surrounding
//!   whitespace (`" US-NC "` equals `"us-nc"`);
//! - a tag may have several values; a positive operator holds when **any**
//!   call value satisfies it, and every `not_*` operator is exactly the
//!   negation of its positive form, so a call without the key fails `in`
//!   and passes `not_in`;
//! - numbers compare as exact decimals (`kind: number`), never as floats; a
//!   value that is not a number never satisfies a numeric comparison;
//! - the caller's number is visible to filters as the tag `caller`.
//!
//! A router evaluates every candidate's filter for every call, so a config's
//! filters are compiled once into a [`FilterTable`] (keys interned, values
//! pre-folded, numbers pre-parsed, every fact a call can make true an
//! *atom*, equal conditions and filters stored once), and the call is
//! prepared once per decision ([`FilterTable::prepare`]: its atoms, a bit
//! each). [`CompiledFilter::matches`] then allocates nothing, answers each
//! distinct filter once per call, and names the failed condition in a
//! [`Mismatch`]; [`FilterRows`] judges the filters of all targets at once,
//! 64 a word.
//!
//! Where the routing contract is silent (parsing choices are listed in
//! `formats/filter.rs`):
//! - Operators with several condition values (`contains`, `gt`, …) hold
//!   when some call value satisfies the operator against some condition
//!   value (`gt [60, 80]` is `gt 60`).
//! - `kind: number` makes `in` / `not_in` numeric equality (`65` = `65.0`);
//!   `contains`, `starts_with` and `exists` always work on text.
//! - Only ASCII letters are case-folded (`É` ≠ `é`); surrounding Unicode
//!   whitespace is trimmed, inner whitespace counts.
//! - An empty call value is a value (`in [""]` can match it) but does not
//!   make the tag exist.
//! - Only the `geo` tag is split on commas (Retreaver's other tags, such as
//!   `request_id`, also hold commas but are single values).
//! - A known caller is added to any `caller` tag the call also carries;
//!   `anonymous` and `restricted` are recognised in any case.
//! - A negated `gt` … `lte` (imported from Ringba) is kept as a negation, not
//!   turned into the opposite comparison, so it stays exact for calls with
//!   several values, none, or non-numbers.
//!
//! ```
//! use routecap_core::filter::{CallAttrs, Condition, Filter, FilterTable, Op, Rule};
//!
//! // once per config
//! let medicare_nc = Filter::any_of(vec![Rule::all_of(vec![
//!     Condition::new("geo", Op::In, ["us-nc", "us-sc"]),
//!     Condition::new("age", Op::Gte, ["65"]).number(),
//! ])]);
//! let mut table = FilterTable::new();
//! let buyer_a = table.compile(&medicare_nc);
//!
//! // once per decision, then once per target
//! let call = CallAttrs::new().with_tag("geo", "301,us,us-28379,us-tx").with_tag("age", "70");
//! let prepared = table.prepare(&call);
//! let why = buyer_a.matches(&prepared).unwrap_err();
//! assert_eq!(why.detail(), "geo in [us-nc, us-sc]: call has geo = [301, us, us-28379, us-tx]");
//! ```

mod compiled;
mod decimal;
#[cfg(test)]
mod tests;

use std::fmt;
use std::str::FromStr;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

pub use compiled::{CallBuffers, CompiledFilter, FilterRows, FilterTable, Mismatch, PreparedCall};

/// The tag whose single string value is a comma-separated list of tokens.
pub const GEO: &str = "geo";
/// The tag under which a known caller's number is visible to filters.
pub const CALLER: &str = "caller";

/// Trim surrounding whitespace and lowercase ASCII letters: the form in
/// which keys and string values are compared.
pub fn fold(text: &str) -> String {
    text.trim().to_ascii_lowercase()
}

/// Whether `key` (any case, surrounding whitespace) is the `geo` tag.
fn is_geo(key: &str) -> bool {
    key.trim().eq_ignore_ascii_case(GEO)
}

/// The attributes of one call: who is calling, its tags, its campaign.
///
/// Tag keys are stored folded (trimmed, ASCII-lowercased), so `Geo` and
/// `geo` are one key whose values accumulate. Values keep their text as
/// given; a `geo` value is split on commas (`"301,us,us-28379,us-nc"` is
/// four values). The default is a call with no attributes.
///
/// ```
/// use routecap_core::filter::CallAttrs;
///
/// let call = CallAttrs::new()
///     .with_caller("+19195550100")
///     .with_tag("geo", "301,us,us-28379,us-nc")
///     .with_tag("Calling_About", "medicare")
///     .with_campaign("medicare");
/// assert_eq!(call.tag("geo"), ["301", "us", "us-28379", "us-nc"]);
/// assert_eq!(call.tag("calling_about"), ["medicare"]);
/// assert_eq!(CallAttrs::new().with_caller("Anonymous").caller(), None);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CallAttrs {
    caller: Option<String>,
    tags: Vec<(String, Vec<String>)>,
    campaign: Option<String>,
}

impl CallAttrs {
    /// A call with no attributes.
    pub fn new() -> Self {
        Self::default()
    }

    /// With caller `number` (see [`CallAttrs::set_caller`]).
    pub fn with_caller(mut self, number: &str) -> Self {
        self.set_caller(Some(number));
        self
    }

    /// With one more value for tag `key` (see [`CallAttrs::add_tag`]).
    pub fn with_tag(mut self, key: &str, value: &str) -> Self {
        self.add_tag(key, value);
        self
    }

    /// With campaign `id` (see [`CallAttrs::set_campaign`]).
    pub fn with_campaign(mut self, id: &str) -> Self {
        self.set_campaign(Some(id));
        self
    }

    /// Set the caller's number, trimmed. `anonymous`, `restricted` (any
    /// case), empty text and `None` all mean an unknown caller.
    pub fn set_caller(&mut self, number: Option<&str>) {
        self.caller = number.map(str::trim).and_then(|n| {
            let unknown = n.is_empty()
                || n.eq_ignore_ascii_case("anonymous")
                || n.eq_ignore_ascii_case("restricted");
            (!unknown).then(|| n.to_string())
        });
    }

    /// Set the campaign id, trimmed; empty text or `None` means no campaign.
    pub fn set_campaign(&mut self, id: Option<&str>) {
        self.campaign = id
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_string);
    }

    /// Add a value to tag `key` (repeated keys add values). A `geo` value is
    /// split on commas into several values.
    pub fn add_tag(&mut self, key: &str, value: &str) {
        let key = fold(key);
        let at = match self.tags.iter().position(|(k, _)| *k == key) {
            Some(i) => i,
            None => {
                self.tags.push((key, Vec::new()));
                self.tags.len() - 1
            }
        };
        let geo = is_geo(&self.tags[at].0);
        let values = &mut self.tags[at].1;
        if geo {
            values.extend(value.split(',').map(str::to_string));
        } else {
            values.push(value.to_string());
        }
    }

    /// Add a `KEY=VALUE` tag as the CLI's `--tag` gives it (split at the
    /// first `=`; the value may be empty or hold more `=`).
    pub fn add_tag_arg(&mut self, arg: &str) -> Result<(), String> {
        match arg.split_once('=') {
            Some((key, value)) if !key.trim().is_empty() => {
                self.add_tag(key, value);
                Ok(())
            }
            _ => Err(format!("{arg:?} is not a tag KEY=VALUE (e.g. geo=us-nc)")),
        }
    }

    /// The known caller's number (`None` when unknown).
    pub fn caller(&self) -> Option<&str> {
        self.caller.as_deref()
    }

    /// The campaign id, if any.
    pub fn campaign(&self) -> Option<&str> {
        self.campaign.as_deref()
    }

    /// The tags in first-seen order: folded key and values as given.
    pub fn tags(&self) -> impl Iterator<Item = (&str, &[String])> + '_ {
        self.tags.iter().map(|(k, v)| (k.as_str(), v.as_slice()))
    }

    /// The values of tag `key` (any case), as given; empty when absent.
    /// The caller is not included (see [`CallAttrs::filter_values`]).
    pub fn tag(&self, key: &str) -> &[String] {
        let key = fold(key);
        self.tags
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.as_slice())
            .unwrap_or_default()
    }

    /// The values a filter sees for `key`: the tag's values, then for
    /// `caller` the known caller's number.
    pub fn filter_values<'a>(&'a self, key: &str) -> impl Iterator<Item = &'a str> + 'a {
        let caller = if fold(key) == CALLER {
            self.caller()
        } else {
            None
        };
        self.tag(key).iter().map(String::as_str).chain(caller)
    }

    /// Whether the call has no caller, tags or campaign.
    pub fn is_empty(&self) -> bool {
        self.caller.is_none() && self.tags.is_empty() && self.campaign.is_none()
    }
}

/// The text of a scalar JSON value (string, number as written, boolean).
fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A call's attributes as JSON (what [`CallAttrs`] is read from): every
/// field optional, `null` = absent, numbers taken as their text, other
/// fields ignored.
#[derive(Deserialize)]
#[cfg_attr(
    feature = "typescript",
    derive(tsify::Tsify),
    tsify(rename = "CallAttrs")
)]
struct Raw {
    /// E.164 number; `anonymous`, `restricted` or empty = unknown caller.
    #[serde(default)]
    #[cfg_attr(feature = "typescript", tsify(type = "string | number | null"))]
    caller: Option<Value>,
    /// Tag values by key, each a value or a list of them; a `geo` value
    /// splits on commas.
    #[serde(default)]
    #[cfg_attr(
        feature = "typescript",
        tsify(
            type = "Record<string, string | number | boolean | null | (string | number | boolean)[]> | null"
        )
    )]
    tags: Option<Value>,
    /// Route through this campaign (its candidates and fallback).
    #[serde(default)]
    #[cfg_attr(feature = "typescript", tsify(type = "string | number | null"))]
    campaign: Option<Value>,
}

impl<'de> Deserialize<'de> for CallAttrs {
    /// The JSON shape `{"caller": "+1…", "tags": {"k": "v" | ["v", …]},
    /// "campaign": "id"}`; every field optional, `null` = absent, other
    /// fields ignored. Numbers and booleans are taken as their text.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = Raw::deserialize(d)?;
        let mut call = CallAttrs::new();
        let text = |v: Option<Value>, what: &str| -> Result<Option<String>, D::Error> {
            match v {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s)),
                Some(Value::Number(n)) => Ok(Some(n.to_string())),
                Some(other) => Err(D::Error::custom(format!(
                    "{what} must be a string, got {other}"
                ))),
            }
        };
        call.set_caller(text(raw.caller, "caller")?.as_deref());
        call.set_campaign(text(raw.campaign, "campaign")?.as_deref());
        match raw.tags {
            None | Some(Value::Null) => {}
            Some(Value::Object(map)) => {
                for (key, v) in map {
                    let bad = || {
                        D::Error::custom(format!(
                            "tag {key:?} must be a string or an array of strings"
                        ))
                    };
                    match v {
                        Value::Null => {}
                        Value::Array(items) => {
                            for item in &items {
                                call.add_tag(&key, &scalar_text(item).ok_or_else(bad)?);
                            }
                        }
                        other => call.add_tag(&key, &scalar_text(&other).ok_or_else(bad)?),
                    }
                }
            }
            Some(other) => {
                return Err(D::Error::custom(format!(
                    "tags must be an object {{\"key\": \"value\" | [\"value\", ...]}}, got {other}"
                )))
            }
        }
        Ok(call)
    }
}

impl Serialize for CallAttrs {
    /// The shape [`Deserialize`] reads, every tag as an array.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeStruct};
        struct Tags<'a>(&'a [(String, Vec<String>)]);
        impl Serialize for Tags<'_> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut m = s.serialize_map(Some(self.0.len()))?;
                for (k, v) in self.0 {
                    m.serialize_entry(k, v)?;
                }
                m.end()
            }
        }
        let mut st = s.serialize_struct("CallAttrs", 3)?;
        st.serialize_field("caller", &self.caller)?;
        st.serialize_field("tags", &Tags(&self.tags))?;
        st.serialize_field("campaign", &self.campaign)?;
        st.end()
    }
}

/// A filter: the call must match one of the rules. No filter at all
/// (`Option::None` where a filter belongs) matches every call; a filter
/// with no rules matches none (input parsers refuse it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Filter {
    /// The rules, any one of which must match.
    pub any_of: Vec<Rule>,
}

impl Filter {
    /// A filter from its rules.
    pub fn any_of(rules: Vec<Rule>) -> Self {
        Filter { any_of: rules }
    }
}

/// A rule: every condition must hold. No conditions match every call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    /// The conditions, all of which must hold.
    pub all_of: Vec<Condition>,
}

impl Rule {
    /// A rule from its conditions.
    pub fn all_of(conditions: Vec<Condition>) -> Self {
        Rule { all_of: conditions }
    }
}

/// A condition on one tag.
///
/// `negate` inverts the whole condition. It exists because the imported
/// formats can negate operators that have no `not_*` form (Ringba's
/// negative `GREATER_THAN`): `not (age gt 65)` is not `age lte 65` when the
/// call has several ages, none, or a non-number. Every condition therefore
/// has an exact negation ([`Condition::negated`]), whatever its operator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Condition {
    /// The tag key, as written (compared folded).
    pub tag: String,
    /// The operator.
    pub op: Op,
    /// The values, as written (none for `exists` / `not_exists`).
    pub values: Vec<String>,
    /// How `in`, `not_in`, `gt`, `gte`, `lt`, `lte` compare.
    pub kind: Kind,
    /// Invert the condition.
    pub negate: bool,
}

impl Condition {
    /// A string condition `tag op values`.
    pub fn new<S: Into<String>>(tag: &str, op: Op, values: impl IntoIterator<Item = S>) -> Self {
        Condition {
            tag: tag.to_string(),
            op,
            values: values.into_iter().map(Into::into).collect(),
            kind: Kind::String,
            negate: false,
        }
    }

    /// The same condition comparing as numbers.
    pub fn number(mut self) -> Self {
        self.kind = Kind::Number;
        self
    }

    /// The exact negation: the `not_*` twin of the operator when it has
    /// one, else the same operator with `negate` flipped.
    pub fn negated(mut self) -> Self {
        match self.op.twin() {
            Some(twin) => self.op = twin,
            None => self.negate = !self.negate,
        }
        self
    }
}

/// How condition values compare.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Kind {
    /// As folded strings (byte order for `gt` … `lte`).
    #[default]
    String,
    /// As exact decimal numbers: `in`/`not_in` test numeric equality
    /// (`65` = `65.0`), `gt` … `lte` numeric order. Text operators
    /// (`contains`, `starts_with`) and `exists` ignore the kind.
    Number,
}

impl Kind {
    /// `string` or `number`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::String => "string",
            Kind::Number => "number",
        }
    }
}

/// A condition operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    /// Some call value equals one of the values.
    In,
    /// Not [`Op::In`].
    NotIn,
    /// Some call value contains one of the values.
    Contains,
    /// Not [`Op::Contains`].
    NotContains,
    /// Some call value starts with one of the values.
    StartsWith,
    /// Not [`Op::StartsWith`].
    NotStartsWith,
    /// Some call value is greater than a value.
    Gt,
    /// Some call value is greater than or equal to a value.
    Gte,
    /// Some call value is less than a value.
    Lt,
    /// Some call value is less than or equal to a value.
    Lte,
    /// The tag has at least one non-empty value.
    Exists,
    /// Not [`Op::Exists`].
    NotExists,
}

impl Op {
    /// Every operator, in the order error messages list them.
    pub const ALL: [Op; 12] = [
        Op::In,
        Op::NotIn,
        Op::Contains,
        Op::NotContains,
        Op::StartsWith,
        Op::NotStartsWith,
        Op::Gt,
        Op::Gte,
        Op::Lt,
        Op::Lte,
        Op::Exists,
        Op::NotExists,
    ];

    /// The native name (`in`, `not_in`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Op::In => "in",
            Op::NotIn => "not_in",
            Op::Contains => "contains",
            Op::NotContains => "not_contains",
            Op::StartsWith => "starts_with",
            Op::NotStartsWith => "not_starts_with",
            Op::Gt => "gt",
            Op::Gte => "gte",
            Op::Lt => "lt",
            Op::Lte => "lte",
            Op::Exists => "exists",
            Op::NotExists => "not_exists",
        }
    }

    /// Whether this is a `not_*` operator.
    pub fn is_not(self) -> bool {
        matches!(
            self,
            Op::NotIn | Op::NotContains | Op::NotStartsWith | Op::NotExists
        )
    }

    /// The positive form (`not_in` → `in`; positive operators unchanged).
    pub fn positive(self) -> Op {
        match self {
            Op::NotIn => Op::In,
            Op::NotContains => Op::Contains,
            Op::NotStartsWith => Op::StartsWith,
            Op::NotExists => Op::Exists,
            other => other,
        }
    }

    /// The `not_*` twin (`in` ↔ `not_in`, …); `None` for `gt` … `lte`.
    pub fn twin(self) -> Option<Op> {
        Some(match self {
            Op::In => Op::NotIn,
            Op::NotIn => Op::In,
            Op::Contains => Op::NotContains,
            Op::NotContains => Op::Contains,
            Op::StartsWith => Op::NotStartsWith,
            Op::NotStartsWith => Op::StartsWith,
            Op::Exists => Op::NotExists,
            Op::NotExists => Op::Exists,
            Op::Gt | Op::Gte | Op::Lt | Op::Lte => return None,
        })
    }

    /// Whether the operator takes values (all but `exists` / `not_exists`).
    pub fn takes_values(self) -> bool {
        !matches!(self, Op::Exists | Op::NotExists)
    }

    /// Whether `kind` changes how it compares (`in`, `not_in`, `gt` … `lte`).
    pub fn uses_kind(self) -> bool {
        matches!(
            self,
            Op::In | Op::NotIn | Op::Gt | Op::Gte | Op::Lt | Op::Lte
        )
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Op {
    type Err = String;

    /// A native operator name, ignoring ASCII case and surrounding whitespace.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = fold(s);
        Op::ALL
            .into_iter()
            .find(|op| op.as_str() == s)
            .ok_or_else(|| format!("{s:?} is not a filter operator"))
    }
}

/// Whether `text`, trimmed, is a decimal number filters can compare.
pub(crate) fn decimal_text_ok(text: &str) -> bool {
    decimal::parse(text.trim()).is_some()
}
