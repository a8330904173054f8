//! Target and group filters in the three config shapes, parsed into
//! [`Filter`]: the native `filter` object, Retreaver `tag_values` /
//! `tag_list`, and Ringba tag routing `criteria`.
//!
//! Decisions where the sources are silent:
//! - Operator, kind and Ringba comparison names ignore ASCII case and
//!   surrounding whitespace. Values may be JSON strings or numbers (kept as
//!   written); with `kind: number` every value must be a decimal number.
//! - Native: `exists` / `not_exists` take no value; other operators take
//!   exactly one of `value` and `values` (a non-empty array). `kind` applies
//!   to `in`, `not_in`, `gt`, `gte`, `lt`, `lte` only. An optional
//!   `"negate": true` inverts any condition, so every import (Ringba's
//!   negated `GREATER_THAN`) can be written natively.
//! - A `geo` condition's `in` / `not_in` values are split on commas, as the
//!   call's `geo` tag is, in every shape (`"us-nc,us-sc"` = two states).
//! - Retreaver: a missing `operator` is `==`; numeric operators each make
//!   their own condition (`> 18` and `< 65` on one key both hold);
//!   conditions are in the order their key/operator first appears;
//!   `tag_values` wins over `tag_list` when a target has both (as returned
//!   beats as sent). In a `tag_list`, an item's value may start with
//!   `!=`, `==`, `<=`, `>=`, `<` or `>`; any other leading `!` or `=` is an
//!   unknown operator.
//! - Ringba: `tagName` is preferred over `tagId`; `isNumber` sets the kind
//!   of `EQUALS`, `GREATER_THAN`, `LESS_THAN` (so without it those compare
//!   as strings) and is ignored by the text comparisons; `isNegativeMatch`
//!   gives `not_in`, `not_contains`, `not_starts_with`, and a negated
//!   `gt` / `lt` (`negate`) since those have no `not_*` form. A rule
//!   without conditions matches every call.
//! - An empty `tag_values`, blank `tag_list` or empty `criteria` is no filter.

// Wired into the target and group parsers by the eligibility work.
#![allow(dead_code)]

use serde_json::Value;

use super::json::{Node, Res};
use crate::filter::{decimal_text_ok, Condition, Filter, Kind, Op, Rule, GEO};

const FILTER: &str = "is not a filter (an object {\"any_of\": [{\"all_of\": [conditions]}]})";
const RULES: &str =
    "is not a non-empty array of rules ({\"all_of\": [conditions]}); omit the filter to match every call";
const RULE: &str = "is not a rule (an object {\"all_of\": [conditions]})";
const CONDITIONS: &str = "is not an array of conditions ([] matches every call)";
const CONDITION: &str =
    "is not a condition (an object with \"tag\", \"op\" and \"value\" or \"values\")";
const TAG: &str = "is not a tag key (a non-empty string)";
const KIND: &str = "is not a filter kind (\"string\" or \"number\")";
const VALUE: &str = "is not a filter value (a string or number)";
const VALUES: &str = "is not a non-empty array of filter values (strings or numbers)";
const NUMBER: &str = "is not a decimal number (kind \"number\": digits with an optional sign and decimal point, e.g. \"65\" or \"-1.5\")";

fn op_expected() -> String {
    let names: Vec<&str> = Op::ALL.iter().map(|o| o.as_str()).collect();
    format!("is not a filter operator ({})", names.join(", "))
}

/// A native `filter` object.
pub(crate) fn native(node: &Node<'_>) -> Res<Filter> {
    node.object(FILTER)?;
    let rules = node.get("any_of").ok_or_else(|| {
        node.missing(
            "any_of",
            "a non-empty array of rules ({\"all_of\": [conditions]})",
        )
    })?;
    let items = rules.array(RULES)?;
    if items.is_empty() {
        return Err(rules.err(RULES));
    }
    let mut any_of = Vec::with_capacity(items.len());
    for rule in items {
        rule.object(RULE)?;
        let list = rule.get("all_of").ok_or_else(|| {
            rule.missing("all_of", "an array of conditions ([] matches every call)")
        })?;
        let mut all_of = Vec::new();
        for c in list.array(CONDITIONS)? {
            all_of.push(native_condition(&c)?);
        }
        any_of.push(Rule { all_of });
    }
    Ok(Filter { any_of })
}

fn native_condition(node: &Node<'_>) -> Res<Condition> {
    node.object(CONDITION)?;
    let tag_node = node
        .get("tag")
        .ok_or_else(|| node.missing("tag", "the tag key the condition tests"))?;
    let tag = tag_key(&tag_node)?;
    let op_node = node
        .get("op")
        .ok_or_else(|| node.missing("op", &format!("an operator ({})", op_names())))?;
    let op: Op = op_node
        .str(&op_expected())?
        .parse()
        .map_err(|_| op_node.err(op_expected()))?;
    let kind = match node.get("kind") {
        None => Kind::String,
        Some(k) => {
            let kind = match k.str(KIND)?.trim().to_ascii_lowercase().as_str() {
                "string" => Kind::String,
                "number" => Kind::Number,
                _ => return Err(k.err(KIND)),
            };
            if kind == Kind::Number && !op.uses_kind() {
                return Err(k.err(format!(
                    "is not a kind for \"{op}\" (only in, not_in, gt, gte, lt, lte compare numbers)"
                )));
            }
            kind
        }
    };
    let negate = node.opt("negate", Node::bool)?.unwrap_or(false);
    let value = node.get("value");
    let values = node.get("values");
    let mut texts = Vec::new();
    if !op.takes_values() {
        if let Some(extra) = value.or(values) {
            return Err(extra.err(format!("is not allowed with \"{op}\" (it takes no value)")));
        }
    } else {
        match (value, values) {
            (Some(_), Some(vs)) => {
                return Err(vs.err("is not allowed together with \"value\" (give one or the other)"))
            }
            (None, None) => {
                return Err(node.missing(
                    "value",
                    &format!("a value (or \"values\": [...]) is required for \"{op}\""),
                ))
            }
            (Some(v), None) => texts.push(value_text(&v, kind)?),
            (None, Some(vs)) => {
                let items = vs.array(VALUES)?;
                if items.is_empty() {
                    return Err(vs.err(VALUES));
                }
                for v in items {
                    texts.push(value_text(&v, kind)?);
                }
            }
        }
    }
    Ok(condition(&tag, op, texts, kind, negate))
}

fn op_names() -> String {
    Op::ALL
        .iter()
        .map(|o| o.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn tag_key(node: &Node<'_>) -> Res<String> {
    let key = match node.v {
        Value::String(s) if !s.trim().is_empty() => s.trim().to_string(),
        Value::Number(n) => n.to_string(),
        _ => return Err(node.err(TAG)),
    };
    Ok(key)
}

/// A value's text: a string or a number as written; a decimal when `kind`
/// is number.
fn value_text(node: &Node<'_>, kind: Kind) -> Res<String> {
    let text = match node.v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return Err(node.err(VALUE)),
    };
    if kind == Kind::Number && !decimal_text_ok(&text) {
        return Err(node.err(NUMBER));
    }
    Ok(text)
}

/// A condition, `geo` membership values split on commas.
fn condition(tag: &str, op: Op, values: Vec<String>, kind: Kind, negate: bool) -> Condition {
    let split = kind == Kind::String
        && matches!(op, Op::In | Op::NotIn)
        && tag.trim().eq_ignore_ascii_case(GEO);
    let values = if split {
        values
            .iter()
            .flat_map(|v| v.split(','))
            .map(str::to_string)
            .collect()
    } else {
        values
    };
    Condition {
        tag: tag.to_string(),
        op,
        values,
        kind,
        negate,
    }
}

/// A Retreaver tag operator.
#[derive(Clone, Copy, PartialEq, Eq)]
enum RetreaverOp {
    Eq,
    Ne,
    Cmp(Op),
}

const RETREAVER_OP: &str = "is not a Retreaver tag operator (==, !=, <, >, <=, >=)";

fn retreaver_op(text: &str) -> Option<RetreaverOp> {
    Some(match text.trim() {
        "==" => RetreaverOp::Eq,
        "!=" => RetreaverOp::Ne,
        "<" => RetreaverOp::Cmp(Op::Lt),
        ">" => RetreaverOp::Cmp(Op::Gt),
        "<=" => RetreaverOp::Cmp(Op::Lte),
        ">=" => RetreaverOp::Cmp(Op::Gte),
        _ => return None,
    })
}

/// Retreaver tags `(key, operator, value)` as one rule: per key, its `==`
/// values one `in`, its `!=` values one `not_in`; each numeric comparison
/// its own condition. `None` when there are no tags.
fn retreaver_rule(tags: Vec<(String, RetreaverOp, String)>) -> Option<Filter> {
    if tags.is_empty() {
        return None;
    }
    let mut all_of: Vec<Condition> = Vec::new();
    // (folded key, membership op) → index in all_of
    let mut groups: Vec<(String, Op, usize)> = Vec::new();
    for (key, op, value) in tags {
        let member = match op {
            RetreaverOp::Eq => Op::In,
            RetreaverOp::Ne => Op::NotIn,
            RetreaverOp::Cmp(cmp) => {
                all_of.push(condition(&key, cmp, vec![value], Kind::Number, false));
                continue;
            }
        };
        let folded = key.trim().to_ascii_lowercase();
        match groups.iter().find(|(k, o, _)| *k == folded && *o == member) {
            Some(&(_, _, i)) => {
                let extra = condition(&key, member, vec![value], Kind::String, false);
                all_of[i].values.extend(extra.values);
            }
            None => {
                groups.push((folded, member, all_of.len()));
                all_of.push(condition(&key, member, vec![value], Kind::String, false));
            }
        }
    }
    Some(Filter {
        any_of: vec![Rule { all_of }],
    })
}

const TAG_VALUES: &str =
    "is not an array of Retreaver tag values ({\"key\", \"value\", \"operator\"})";
const TAG_VALUE: &str =
    "is not a Retreaver tag value (an object {\"key\", \"value\", \"operator\"})";

/// Retreaver `tag_values`: `[{"key", "value", "operator"}]` (other fields,
/// such as `id`, ignored).
pub(crate) fn retreaver_tag_values(node: &Node<'_>) -> Res<Option<Filter>> {
    let mut tags = Vec::new();
    for item in node.array(TAG_VALUES)? {
        item.object(TAG_VALUE)?;
        let key_node = item
            .get("key")
            .ok_or_else(|| item.missing("key", "the tag key"))?;
        let key = tag_key(&key_node)?;
        let op = match item.get("operator") {
            None => RetreaverOp::Eq,
            Some(o) => retreaver_op(o.str(RETREAVER_OP)?).ok_or_else(|| o.err(RETREAVER_OP))?,
        };
        let value_node = item
            .get("value")
            .ok_or_else(|| item.missing("value", "the tag value"))?;
        let kind = match op {
            RetreaverOp::Cmp(_) => Kind::Number,
            _ => Kind::String,
        };
        let value = value_text(&value_node, kind)?;
        tags.push((key, op, value));
    }
    Ok(retreaver_rule(tags))
}

const TAG_LIST: &str =
    "is not a Retreaver tag list (\"<<<key:value>>>,<<<key:!=value>>>\"; operators ==, !=, <, >, <=, >=)";

/// Retreaver `tag_list`: `<<<key:value>>>,<<<key:!=value>>>`; blank = no filter.
pub(crate) fn retreaver_tag_list(node: &Node<'_>) -> Res<Option<Filter>> {
    let text = node.str(TAG_LIST)?;
    let items = split_tag_list(text).map_err(|why| node.err(format!("{TAG_LIST}: {why}")))?;
    let mut tags = Vec::new();
    for (n, item) in items.into_iter().enumerate() {
        let n = n + 1;
        let bad = |why: &str| node.err(format!("{TAG_LIST}: item {n} <<<{item}>>> {why}"));
        let (key, rest) = item
            .split_once(':')
            .ok_or_else(|| bad("has no \"key:value\""))?;
        if key.trim().is_empty() {
            return Err(bad("has an empty key"));
        }
        let (op, value) = tag_list_op(rest).ok_or_else(|| bad("has an unknown operator"))?;
        if value.trim().is_empty() {
            return Err(bad("has an empty value"));
        }
        if matches!(op, RetreaverOp::Cmp(_)) && !decimal_text_ok(value.trim()) {
            return Err(bad("compares with a value that is not a decimal number"));
        }
        tags.push((key.trim().to_string(), op, value.to_string()));
    }
    Ok(retreaver_rule(tags))
}

/// The operator at the start of a tag list value, and the value after it.
fn tag_list_op(rest: &str) -> Option<(RetreaverOp, &str)> {
    let rest = rest.trim_start();
    for (prefix, op) in [
        ("!=", RetreaverOp::Ne),
        ("==", RetreaverOp::Eq),
        ("<=", RetreaverOp::Cmp(Op::Lte)),
        (">=", RetreaverOp::Cmp(Op::Gte)),
        ("<", RetreaverOp::Cmp(Op::Lt)),
        (">", RetreaverOp::Cmp(Op::Gt)),
    ] {
        if let Some(value) = rest.strip_prefix(prefix) {
            return Some((op, value));
        }
    }
    if rest.starts_with(['!', '=']) {
        return None;
    }
    Some((RetreaverOp::Eq, rest))
}

/// The insides of the `<<<…>>>` items of a tag list. An item ends at the
/// first `>>>` followed by the end or by `,` and the next `<<<`, so values
/// may hold commas (concatenated geo tags) and `>`.
fn split_tag_list(text: &str) -> Result<Vec<&str>, String> {
    let mut items = Vec::new();
    let mut rest = text.trim();
    while !rest.is_empty() {
        let Some(body) = rest.strip_prefix("<<<") else {
            return Err(format!("item {} does not start with <<<", items.len() + 1));
        };
        let mut end = None;
        let mut from = 0;
        while let Some(i) = body[from..].find(">>>").map(|i| i + from) {
            let after = body[i + 3..].trim_start();
            if after.is_empty() {
                end = Some((i, ""));
                break;
            }
            if let Some(next) = after.strip_prefix(',') {
                let next = next.trim_start();
                if next.starts_with("<<<") {
                    end = Some((i, next));
                    break;
                }
            }
            from = i + 1;
        }
        let Some((i, next)) = end else {
            return Err(format!("item {} has no closing >>>", items.len() + 1));
        };
        items.push(&body[..i]);
        rest = next;
    }
    Ok(items)
}

const CRITERIA: &str = "is not an array of Ringba routing rules ({\"tagCriteria\": [...]})";
const CRITERION_RULE: &str = "is not a Ringba routing rule (an object with \"tagCriteria\")";
const TAG_CRITERIA: &str = "is not an array of Ringba tag criteria ({\"tagName\", \"comparisonType\", \"value\", \"isNegativeMatch\", \"isNumber\"})";
const TAG_CRITERION: &str = "is not a Ringba tag criterion (an object {\"tagName\", \"comparisonType\", \"value\", \"isNegativeMatch\", \"isNumber\"})";
const COMPARISON: &str =
    "is not a Ringba comparison type (EQUALS, CONTAINS, BEGINS_WITH, GREATER_THAN, LESS_THAN)";

/// Ringba tag routing `criteria`: a list of rules, each with `tagCriteria`
/// conditions, mapped rule for rule. Empty = no filter.
pub(crate) fn ringba_criteria(node: &Node<'_>) -> Res<Option<Filter>> {
    let rules = node.array(CRITERIA)?;
    if rules.is_empty() {
        return Ok(None);
    }
    let mut any_of = Vec::with_capacity(rules.len());
    for rule in rules {
        rule.object(CRITERION_RULE)?;
        let list = rule
            .get("tagCriteria")
            .ok_or_else(|| rule.missing("tagCriteria", "an array of tag criteria"))?;
        let mut all_of = Vec::new();
        for c in list.array(TAG_CRITERIA)? {
            all_of.push(ringba_condition(&c)?);
        }
        any_of.push(Rule { all_of });
    }
    Ok(Some(Filter { any_of }))
}

fn ringba_condition(node: &Node<'_>) -> Res<Condition> {
    node.object(TAG_CRITERION)?;
    let tag = match (node.get("tagName"), node.get("tagId")) {
        (Some(n), _) | (None, Some(n)) => tag_key(&n)?,
        (None, None) => {
            return Err(node.missing("tagName", "a tag name (or \"tagId\") is required"))
        }
    };
    let cmp_node = node.get("comparisonType").ok_or_else(|| {
        node.missing(
            "comparisonType",
            "EQUALS, CONTAINS, BEGINS_WITH, GREATER_THAN or LESS_THAN",
        )
    })?;
    let (positive, negative) = match cmp_node
        .str(COMPARISON)?
        .trim()
        .to_ascii_uppercase()
        .as_str()
    {
        "EQUALS" => (Op::In, Some(Op::NotIn)),
        "CONTAINS" => (Op::Contains, Some(Op::NotContains)),
        "BEGINS_WITH" => (Op::StartsWith, Some(Op::NotStartsWith)),
        "GREATER_THAN" => (Op::Gt, None),
        "LESS_THAN" => (Op::Lt, None),
        _ => return Err(cmp_node.err(COMPARISON)),
    };
    let negative_match = node.opt("isNegativeMatch", Node::bool)?.unwrap_or(false);
    let is_number = node.opt("isNumber", Node::bool)?.unwrap_or(false);
    let kind = if is_number && positive.uses_kind() {
        Kind::Number
    } else {
        Kind::String
    };
    let value_node = node
        .get("value")
        .ok_or_else(|| node.missing("value", "the value to compare with"))?;
    let value = value_text(&value_node, kind)?;
    let (op, negate) = match (negative_match, negative) {
        (false, _) => (positive, false),
        (true, Some(not_op)) => (not_op, false),
        (true, None) => (positive, true),
    };
    Ok(condition(&tag, op, vec![value], kind, negate))
}
