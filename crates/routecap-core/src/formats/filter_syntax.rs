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
    node.known_fields(super::native::fields::FILTER)?;
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
        rule.known_fields(super::native::fields::RULE)?;
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
    node.known_fields(super::native::fields::CONDITION)?;
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
        Value::String(s) if s.len() > crate::model::MAX_NAME_BYTES => {
            return Err(node.err(format!(
                "is not a tag key: longer than {} bytes",
                crate::model::MAX_NAME_BYTES
            )))
        }
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
        // a `>>>,` not followed by `<<<`: the next item lacks its opening
        // (unless a later `>>>` ends this one, its value holding `>>>,`)
        let mut unopened = false;
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
                unopened = true;
            }
            from = i + 1;
        }
        let Some((i, next)) = end else {
            return Err(if unopened {
                format!("item {} does not start with <<<", items.len() + 2)
            } else {
                format!("item {} has no closing >>>", items.len() + 1)
            });
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

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;
    use crate::filter::{CallAttrs, FilterTable};

    /// Parse `json`, walk `path` (field names and array indices) from the
    /// root, and read that node with `read`.
    fn at<T>(json: &str, path: &[&str], read: impl Fn(&Node<'_>) -> Res<T>) -> Result<T, String> {
        let value: Value = serde_json::from_str(json).expect("test JSON");
        let mut node = Node::root(&value);
        for step in path {
            node = match step.parse::<usize>() {
                Ok(i) => node.array("array").unwrap().swap_remove(i),
                Err(_) => node.get(step).expect("path exists"),
            };
        }
        read(&node).map_err(|e| {
            if e.value.is_empty() {
                format!("{}: {}", e.path, e.expected)
            } else {
                format!("{}: {} {}", e.path, e.value, e.expected)
            }
        })
    }

    fn native_at(json: &str) -> Result<Filter, String> {
        at(json, &["targets", "0", "filter"], native)
    }

    fn target_filter(filter: &str) -> String {
        format!(r#"{{"targets": [{{"id": "a", "filter": {filter}}}]}}"#)
    }

    fn c(tag: &str, op: Op, values: &[&str]) -> Condition {
        Condition::new(tag, op, values.iter().copied())
    }

    fn one_rule(all_of: Vec<Condition>) -> Filter {
        Filter::any_of(vec![Rule::all_of(all_of)])
    }

    fn matches(filter: &Filter, call: &CallAttrs) -> bool {
        let mut keys = FilterTable::new();
        let f = keys.compile(filter);
        f.is_match(&keys.prepare(call))
    }

    #[test]
    fn native_interface_example() {
        let f = native_at(&target_filter(
            r#"{"any_of": [{"all_of": [
                {"tag": "geo", "op": "in", "values": ["us-nc", "us-sc"]},
                {"tag": "age", "op": "gte", "value": "65", "kind": "number"}]},
               {"all_of": []}]}"#,
        ))
        .unwrap();
        assert_eq!(
            f,
            Filter::any_of(vec![
                Rule::all_of(vec![
                    c("geo", Op::In, &["us-nc", "us-sc"]),
                    c("age", Op::Gte, &["65"]).number(),
                ]),
                Rule::all_of(vec![]),
            ])
        );
    }

    #[test]
    fn native_values_numbers_negate_and_geo() {
        let f = native_at(&target_filter(
            r#"{"any_of": [{"all_of": [
                {"tag": "age", "op": " GT ", "value": 64.5, "kind": "Number", "negate": true},
                {"tag": "zip", "op": "exists"},
                {"tag": "geo", "op": "not_in", "value": "us-tx, us-ca"},
                {"tag": "geo", "op": "contains", "value": "us-2,8"}]}]}"#,
        ))
        .unwrap();
        let mut negated = c("age", Op::Gt, &["64.5"]).number();
        negated.negate = true;
        assert_eq!(
            f,
            one_rule(vec![
                negated,
                c("zip", Op::Exists, &[]),
                c("geo", Op::NotIn, &["us-tx", " us-ca"]),
                c("geo", Op::Contains, &["us-2,8"]),
            ])
        );
    }

    #[test]
    fn native_errors_name_path_value_and_what_is_allowed() {
        let cases: &[(&str, &str)] = &[
            (
                r#"{"any_of": [{"all_of": [{"tag": "a", "op": "in", "value": "x"}, {"tag": "b", "op": "eq", "value": "y"}]}]}"#,
                r#"targets[0].filter.any_of[0].all_of[1].op: "eq" is not a filter operator (in, not_in, contains, not_contains, starts_with, not_starts_with, gt, gte, lt, lte, exists, not_exists)"#,
            ),
            (
                r#"{"any_of": []}"#,
                r#"targets[0].filter.any_of: [] is not a non-empty array of rules ({"all_of": [conditions]}); omit the filter to match every call"#,
            ),
            (
                r#"{}"#,
                r#"targets[0].filter.any_of: is missing: a non-empty array of rules ({"all_of": [conditions]})"#,
            ),
            (
                r#"[{"tag": "a"}]"#,
                r#"targets[0].filter: [{"tag":"a"}] is not a filter (an object {"any_of": [{"all_of": [conditions]}]})"#,
            ),
            (
                r#"{"any_of": [{"tag": "a", "op": "exists"}]}"#,
                r#"targets[0].filter.any_of[0].all_of: is missing: an array of conditions ([] matches every call)"#,
            ),
            (
                r#"{"any_of": [{"all_of": {"tag": "a"}}]}"#,
                r#"targets[0].filter.any_of[0].all_of: {"tag":"a"} is not an array of conditions ([] matches every call)"#,
            ),
            (
                r#"{"any_of": [{"all_of": [{"op": "exists"}]}]}"#,
                r#"targets[0].filter.any_of[0].all_of[0].tag: is missing: the tag key the condition tests"#,
            ),
            (
                r#"{"any_of": [{"all_of": [{"tag": " ", "op": "exists"}]}]}"#,
                r#"targets[0].filter.any_of[0].all_of[0].tag: " " is not a tag key (a non-empty string)"#,
            ),
            (
                r#"{"any_of": [{"all_of": [{"tag": "a", "value": "x"}]}]}"#,
                r#"targets[0].filter.any_of[0].all_of[0].op: is missing: an operator (in, not_in, contains, not_contains, starts_with, not_starts_with, gt, gte, lt, lte, exists, not_exists)"#,
            ),
            (
                r#"{"any_of": [{"all_of": [{"tag": "a", "op": "in"}]}]}"#,
                r#"targets[0].filter.any_of[0].all_of[0].value: is missing: a value (or "values": [...]) is required for "in""#,
            ),
            (
                r#"{"any_of": [{"all_of": [{"tag": "a", "op": "in", "value": "x", "values": ["y"]}]}]}"#,
                r#"targets[0].filter.any_of[0].all_of[0].values: ["y"] is not allowed together with "value" (give one or the other)"#,
            ),
            (
                r#"{"any_of": [{"all_of": [{"tag": "a", "op": "in", "values": []}]}]}"#,
                r#"targets[0].filter.any_of[0].all_of[0].values: [] is not a non-empty array of filter values (strings or numbers)"#,
            ),
            (
                r#"{"any_of": [{"all_of": [{"tag": "a", "op": "in", "values": ["x", true]}]}]}"#,
                r#"targets[0].filter.any_of[0].all_of[0].values[1]: true is not a filter value (a string or number)"#,
            ),
            (
                r#"{"any_of": [{"all_of": [{"tag": "a", "op": "exists", "value": "x"}]}]}"#,
                r#"targets[0].filter.any_of[0].all_of[0].value: "x" is not allowed with "exists" (it takes no value)"#,
            ),
            (
                r#"{"any_of": [{"all_of": [{"tag": "a", "op": "gt", "value": "1", "kind": "integer"}]}]}"#,
                r#"targets[0].filter.any_of[0].all_of[0].kind: "integer" is not a filter kind ("string" or "number")"#,
            ),
            (
                r#"{"any_of": [{"all_of": [{"tag": "a", "op": "contains", "value": "1", "kind": "number"}]}]}"#,
                r#"targets[0].filter.any_of[0].all_of[0].kind: "number" is not a kind for "contains" (only in, not_in, gt, gte, lt, lte compare numbers)"#,
            ),
            (
                r#"{"any_of": [{"all_of": [{"tag": "age", "op": "in", "values": ["65", "old"], "kind": "number"}]}]}"#,
                r#"targets[0].filter.any_of[0].all_of[0].values[1]: "old" is not a decimal number (kind "number": digits with an optional sign and decimal point, e.g. "65" or "-1.5")"#,
            ),
            (
                r#"{"any_of": [{"all_of": [{"tag": "age", "op": "gt", "value": "1e3", "kind": "number"}]}]}"#,
                r#"targets[0].filter.any_of[0].all_of[0].value: "1e3" is not a decimal number (kind "number": digits with an optional sign and decimal point, e.g. "65" or "-1.5")"#,
            ),
            (
                r#"{"any_of": [{"all_of": [{"tag": "a", "op": "in", "value": "x", "negate": "yes"}]}]}"#,
                r#"targets[0].filter.any_of[0].all_of[0].negate: "yes" is not a boolean (true or false)"#,
            ),
        ];
        for (filter, expected) in cases {
            assert_eq!(
                native_at(&target_filter(filter)).unwrap_err(),
                *expected,
                "{filter}"
            );
        }
    }

    #[test]
    fn retreaver_tag_values_as_in_the_seeds() {
        // the seed's target after tagging, plus a geo string, a != and numbers
        let json = r#"{"target": {"id": 22592, "tag_values": [
            {"key": "calling_about", "value": "support", "operator": "==", "id": 67589},
            {"key": "geo", "value": "us-nc,us-sc", "operator": "==", "id": 1},
            {"key": "calling_about", "value": "other", "operator": "==", "id": 67591},
            {"key": "state", "value": "TX", "operator": "!=", "id": 2},
            {"key": "age", "value": "64", "operator": ">", "id": 3},
            {"key": "Geo", "value": "us-va", "id": 4},
            {"key": "age", "value": 80, "operator": "<=", "id": 5},
            {"key": "state", "value": "CA", "operator": "!=", "id": 6},
            {"key": "score", "value": "0.5", "operator": ">=", "id": 7},
            {"key": "score", "value": "1", "operator": "<", "id": 8}]}}"#;
        let f = at(json, &["target", "tag_values"], retreaver_tag_values).unwrap();
        assert_eq!(
            f,
            Some(one_rule(vec![
                c("calling_about", Op::In, &["support", "other"]),
                c("geo", Op::In, &["us-nc", "us-sc", "us-va"]),
                c("state", Op::NotIn, &["TX", "CA"]),
                c("age", Op::Gt, &["64"]).number(),
                c("age", Op::Lte, &["80"]).number(),
                c("score", Op::Gte, &["0.5"]).number(),
                c("score", Op::Lt, &["1"]).number(),
            ]))
        );
        let f = f.unwrap();
        let call = CallAttrs::new()
            .with_tag("calling_about", "Support")
            .with_tag("geo", "301,us,us-28379,us-nc")
            .with_tag("state", "nc")
            .with_tag("age", "70")
            .with_tag("score", "0.75");
        assert!(matches(&f, &call));
        assert!(!matches(&f, &call.clone().with_tag("state", "tx")));
        let empty = at(
            r#"{"tag_values": []}"#,
            &["tag_values"],
            retreaver_tag_values,
        )
        .unwrap();
        assert_eq!(empty, None);
    }

    #[test]
    fn retreaver_tag_list_items() {
        let json = r#"{"target": {"tag_list": "<<<calling_about:support>>>,<<<calling_about:other>>>, <<<geo:us-28379,us-28380>>>,<<<state:!=TX>>>,<<<age:>=65>>>,<<<age:<80>>>,<<<note:a>b>>>,<<<topic:==Medicare: A>>>"}}"#;
        let f = at(json, &["target", "tag_list"], retreaver_tag_list).unwrap();
        assert_eq!(
            f,
            Some(one_rule(vec![
                c("calling_about", Op::In, &["support", "other"]),
                c("geo", Op::In, &["us-28379", "us-28380"]),
                c("state", Op::NotIn, &["TX"]),
                c("age", Op::Gte, &["65"]).number(),
                c("age", Op::Lt, &["80"]).number(),
                c("note", Op::In, &["a>b"]),
                c("topic", Op::In, &["Medicare: A"]),
            ]))
        );
        for blank in [r#"{"tag_list": ""}"#, r#"{"tag_list": "  "}"#] {
            assert_eq!(at(blank, &["tag_list"], retreaver_tag_list).unwrap(), None);
        }
    }

    #[test]
    fn retreaver_errors() {
        let tv =
            |json: &str| at(json, &["target", "tag_values"], retreaver_tag_values).unwrap_err();
        assert_eq!(
            tv(
                r#"{"target": {"tag_values": [{"key": "a", "value": "1"}, {"key": "a", "value": "1", "operator": "=~"}]}}"#
            ),
            r#"target.tag_values[1].operator: "=~" is not a Retreaver tag operator (==, !=, <, >, <=, >=)"#
        );
        assert_eq!(
            tv(r#"{"target": {"tag_values": [{"key": "age", "value": "old", "operator": ">"}]}}"#),
            r#"target.tag_values[0].value: "old" is not a decimal number (kind "number": digits with an optional sign and decimal point, e.g. "65" or "-1.5")"#
        );
        assert_eq!(
            tv(r#"{"target": {"tag_values": [{"value": "x"}]}}"#),
            "target.tag_values[0].key: is missing: the tag key"
        );
        assert_eq!(
            tv(r#"{"target": {"tag_values": [{"key": "a"}]}}"#),
            "target.tag_values[0].value: is missing: the tag value"
        );
        assert_eq!(
            tv(r#"{"target": {"tag_values": "a"}}"#),
            r#"target.tag_values: "a" is not an array of Retreaver tag values ({"key", "value", "operator"})"#
        );
        let tl = |list: &str| {
            let json = serde_json::json!({ "tag_list": list }).to_string();
            at(&json, &["tag_list"], retreaver_tag_list).unwrap_err()
        };
        let head = "is not a Retreaver tag list (\"<<<key:value>>>,<<<key:!=value>>>\"; operators ==, !=, <, >, <=, >=)";
        assert_eq!(
            tl("<<<a:1>>>,<<<b:2"),
            format!(r#"tag_list: "<<<a:1>>>,<<<b:2" {head}: item 2 has no closing >>>"#)
        );
        assert_eq!(
            tl("<<<a:1>>>,b:2"),
            format!(r#"tag_list: "<<<a:1>>>,b:2" {head}: item 2 does not start with <<<"#)
        );
        assert_eq!(
            tl("<<<a:1>>>,<<<b:2>>>,c:3"),
            format!(
                r#"tag_list: "<<<a:1>>>,<<<b:2>>>,c:3" {head}: item 3 does not start with <<<"#
            )
        );
        assert_eq!(
            tl("a:1"),
            format!(r#"tag_list: "a:1" {head}: item 1 does not start with <<<"#)
        );
        assert_eq!(
            tl("<<<a:1>>>,<<<b>>>"),
            format!(r#"tag_list: "<<<a:1>>>,<<<b>>>" {head}: item 2 <<<b>>> has no "key:value""#)
        );
        assert_eq!(
            tl("<<<a:=1>>>"),
            format!(r#"tag_list: "<<<a:=1>>>" {head}: item 1 <<<a:=1>>> has an unknown operator"#)
        );
        assert_eq!(
            tl("<<<:1>>>"),
            format!(r#"tag_list: "<<<:1>>>" {head}: item 1 <<<:1>>> has an empty key"#)
        );
        assert_eq!(
            tl("<<<a:!=>>>"),
            format!(r#"tag_list: "<<<a:!=>>>" {head}: item 1 <<<a:!=>>> has an empty value"#)
        );
        assert_eq!(
            tl("<<<age:>old>>>"),
            format!(
                r#"tag_list: "<<<age:>old>>>" {head}: item 1 <<<age:>old>>> compares with a value that is not a decimal number"#
            )
        );
    }

    #[test]
    fn ringba_criteria_rule_for_rule() {
        let json = r#"{"criteria": [
            {"tagCriteria": [
                {"tagName": "geo", "comparisonType": "EQUALS", "value": "us-nc,us-sc"},
                {"tagName": "age", "comparisonType": "GREATER_THAN", "value": 64, "isNumber": true},
                {"tagName": "age", "comparisonType": "LESS_THAN", "value": "80", "isNumber": true, "isNegativeMatch": true}]},
            {"tagCriteria": [
                {"tagId": "topic", "comparisonType": "contains", "value": "medicare", "isNegativeMatch": false},
                {"tagName": "source", "comparisonType": "BEGINS_WITH", "value": "goog", "isNegativeMatch": true, "isNumber": true},
                {"tagName": "state", "comparisonType": "EQUALS", "value": "TX", "isNegativeMatch": true},
                {"tagName": "zip", "comparisonType": "GREATER_THAN", "value": "27", "isNegativeMatch": true},
                {"tagName": "plan", "comparisonType": "CONTAINS", "value": "gold", "isNegativeMatch": true}]},
            {"tagCriteria": []}]}"#;
        let f = at(json, &["criteria"], ringba_criteria).unwrap().unwrap();
        let mut not_lt = c("age", Op::Lt, &["80"]).number();
        not_lt.negate = true;
        let mut not_gt = c("zip", Op::Gt, &["27"]);
        not_gt.negate = true;
        assert_eq!(
            f,
            Filter::any_of(vec![
                Rule::all_of(vec![
                    c("geo", Op::In, &["us-nc", "us-sc"]),
                    c("age", Op::Gt, &["64"]).number(),
                    not_lt,
                ]),
                Rule::all_of(vec![
                    c("topic", Op::Contains, &["medicare"]),
                    c("source", Op::NotStartsWith, &["goog"]),
                    c("state", Op::NotIn, &["TX"]),
                    not_gt,
                    c("plan", Op::NotContains, &["gold"]),
                ]),
                Rule::all_of(vec![]),
            ])
        );
        let old_nc = CallAttrs::new()
            .with_tag("geo", "301,us,us-28379,us-nc")
            .with_tag("age", "85");
        assert!(matches(&Filter::any_of(vec![f.any_of[0].clone()]), &old_nc));
        let young = CallAttrs::new()
            .with_tag("geo", "us-nc")
            .with_tag("age", "70");
        assert!(!matches(&Filter::any_of(vec![f.any_of[0].clone()]), &young));
        assert_eq!(
            at(r#"{"criteria": []}"#, &["criteria"], ringba_criteria).unwrap(),
            None
        );
    }

    #[test]
    fn ringba_errors() {
        let r = |json: &str| at(json, &["criteria"], ringba_criteria).unwrap_err();
        assert_eq!(
            r(
                r#"{"criteria": [{"tagCriteria": [{"tagName": "a", "comparisonType": "EQUAL", "value": "1"}]}]}"#
            ),
            r#"criteria[0].tagCriteria[0].comparisonType: "EQUAL" is not a Ringba comparison type (EQUALS, CONTAINS, BEGINS_WITH, GREATER_THAN, LESS_THAN)"#
        );
        assert_eq!(
            r(r#"{"criteria": [{"tagCriteria": [{"comparisonType": "EQUALS", "value": "1"}]}]}"#),
            r#"criteria[0].tagCriteria[0].tagName: is missing: a tag name (or "tagId") is required"#
        );
        assert_eq!(
            r(
                r#"{"criteria": [{"tagCriteria": [{"tagName": "age", "comparisonType": "GREATER_THAN", "value": "old", "isNumber": true}]}]}"#
            ),
            r#"criteria[0].tagCriteria[0].value: "old" is not a decimal number (kind "number": digits with an optional sign and decimal point, e.g. "65" or "-1.5")"#
        );
        assert_eq!(
            r(r#"{"criteria": [{"tagCriteria": [{"tagName": "a", "comparisonType": "EQUALS"}]}]}"#),
            "criteria[0].tagCriteria[0].value: is missing: the value to compare with"
        );
        assert_eq!(
            r(
                r#"{"criteria": [{"tagCriteria": [{"tagName": "a", "comparisonType": "EQUALS", "value": "1", "isNegativeMatch": "no"}]}]}"#
            ),
            r#"criteria[0].tagCriteria[0].isNegativeMatch: "no" is not a boolean (true or false)"#
        );
        assert_eq!(
            r(r#"{"criteria": [{"rules": []}]}"#),
            "criteria[0].tagCriteria: is missing: an array of tag criteria"
        );
        assert_eq!(
            r(r#"{"criteria": {"tagCriteria": []}}"#),
            r#"criteria: {"tagCriteria":[]} is not an array of Ringba routing rules ({"tagCriteria": [...]})"#
        );
    }
}
