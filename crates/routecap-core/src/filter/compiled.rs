//! Compiled filters and prepared calls: the fast path of filter evaluation.
//!
//! Compiling turns tag keys into dense integer ids shared by one config's
//! filters ([`TagKeys`]), folds every string value once, parses numeric
//! values once into exact decimals, sorts `in` sets for binary search and
//! reduces `gt` … `lte` with several values to their one binding bound.
//! Preparing a call resolves its keys to those ids and folds and parses its
//! values once, so evaluating a filter is a few slice lookups and
//! comparisons, with no allocation and no hashing.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::fmt;
use std::ops::Range;

use super::decimal::{self, Decimal, Parts, View};
use super::{fold, CallAttrs, Condition, Filter, Kind, Op, CALLER};

/// The interned tag keys of one config's filters.
///
/// Compile every filter of a config with the same `TagKeys`, keep it with
/// the compiled filters, and prepare each call with it: a [`PreparedCall`]
/// only carries the tags some compiled filter mentions, indexed by id.
#[derive(Clone, Debug, Default)]
pub struct TagKeys {
    ids: HashMap<Box<str>, u32>,
    names: Vec<Box<str>>,
}

impl TagKeys {
    /// No keys yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many distinct keys the compiled filters mention.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether no filter mentions any key.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    fn intern(&mut self, key: &str) -> u32 {
        let key = fold(key);
        if let Some(&id) = self.ids.get(key.as_str()) {
            return id;
        }
        let id = u32::try_from(self.names.len()).expect("fewer than 2^32 tag keys");
        self.names.push(key.clone().into());
        self.ids.insert(key.into(), id);
        id
    }

    /// Compile `filter`, interning its keys.
    pub fn compile(&mut self, filter: &Filter) -> CompiledFilter {
        let rules = filter
            .any_of
            .iter()
            .map(|rule| {
                rule.all_of
                    .iter()
                    .map(|c| self.compile_condition(c))
                    .collect()
            })
            .collect();
        CompiledFilter { rules }
    }

    fn compile_condition(&mut self, c: &Condition) -> Compiled {
        let key = self.intern(&c.tag);
        let texts = || {
            let mut v: Vec<Box<str>> = c.values.iter().map(|v| fold(v).into()).collect();
            v.sort_unstable();
            v.dedup();
            v
        };
        let numbers = || {
            let mut v: Vec<Decimal> = c
                .values
                .iter()
                .filter_map(|v| Decimal::parse(v.trim()))
                .collect();
            v.sort_unstable();
            v.dedup();
            v
        };
        let positive = c.op.positive();
        let test = match (positive, c.kind) {
            (Op::Exists, _) => Test::Exists,
            (Op::In, Kind::String) => nonempty(texts(), |v| Test::InText(v.into())),
            (Op::In, Kind::Number) => nonempty(numbers(), |v| Test::InNumber(v.into())),
            (Op::Contains, _) => nonempty(texts(), |v| Test::Contains(v.into())),
            (Op::StartsWith, _) => nonempty(texts(), |v| Test::StartsWith(v.into())),
            (op, kind) => {
                let cmp = match op {
                    Op::Gt => Cmp::Gt,
                    Op::Gte => Cmp::Gte,
                    Op::Lt => Cmp::Lt,
                    _ => Cmp::Lte,
                };
                // "some value > some bound" is "some value > the least bound".
                let lower = matches!(cmp, Cmp::Gt | Cmp::Gte);
                match kind {
                    Kind::String => {
                        let v = texts();
                        let bound = if lower { v.first() } else { v.last() };
                        bound.map_or(Test::Never, |b| Test::TextCmp(cmp, b.clone()))
                    }
                    Kind::Number => {
                        let v = numbers();
                        let bound = if lower { v.first() } else { v.last() };
                        bound.map_or(Test::Never, |b| Test::NumberCmp(cmp, b.clone()))
                    }
                }
            }
        };
        Compiled {
            key,
            invert: c.op.is_not() != c.negate,
            test,
            source: c.clone(),
        }
    }

    /// Prepare a call for evaluation against filters compiled with these
    /// keys: keys resolved to ids, values trimmed, folded and parsed as
    /// numbers once. Tags no filter mentions are dropped. The caller, when
    /// known, is one more value of the tag `caller`.
    pub fn prepare(&self, call: &CallAttrs) -> PreparedCall {
        let mut out = PreparedCall::default();
        if self.names.is_empty() {
            return out;
        }
        let mut entries: Vec<(u32, Value)> = Vec::new();
        for (key, values) in call.tags() {
            if let Some(&id) = self.ids.get(key) {
                for v in values {
                    entries.push((id, out.push_text(v)));
                }
            }
        }
        if let (Some(number), Some(&id)) = (call.caller(), self.ids.get(CALLER)) {
            entries.push((id, out.push_text(number)));
        }
        // Stable: a key's values keep their order, the caller last.
        entries.sort_by_key(|(id, _)| *id);
        out.slots = vec![0..0; self.names.len()];
        let mut i = 0;
        while i < entries.len() {
            let id = entries[i].0;
            let start = i;
            while i < entries.len() && entries[i].0 == id {
                i += 1;
            }
            out.slots[id as usize] = start as u32..i as u32;
        }
        out.values = entries.into_iter().map(|(_, v)| v).collect();
        out
    }
}

fn nonempty<T>(v: Vec<T>, make: impl FnOnce(Vec<T>) -> Test) -> Test {
    if v.is_empty() {
        Test::Never
    } else {
        make(v)
    }
}

/// A call's attributes ready for evaluation (see [`TagKeys::prepare`]).
///
/// The default is a call with no tags. A key compiled after the call was
/// prepared is seen as absent.
#[derive(Clone, Debug, Default)]
pub struct PreparedCall {
    /// Every value's trimmed text then its folded text, back to back.
    text: String,
    values: Vec<Value>,
    /// Per key id, the range of `values` holding that key's values.
    slots: Vec<Range<u32>>,
}

/// One call value: where its texts lie in [`PreparedCall::text`], and its
/// number when it is one.
#[derive(Clone, Debug)]
struct Value {
    raw: Range<u32>,
    folded: Range<u32>,
    number: Option<Parts>,
}

impl PreparedCall {
    fn push_text(&mut self, value: &str) -> Value {
        let trimmed = value.trim();
        let start = self.text.len();
        self.text.push_str(trimmed);
        let mid = self.text.len();
        self.text.push_str(trimmed);
        let end = self.text.len();
        self.text[mid..end].make_ascii_lowercase();
        let number = decimal::parse(&self.text[mid..end]).map(|p| Parts {
            neg: p.neg,
            int: p.int.start + mid..p.int.end + mid,
            frac: p.frac.start + mid..p.frac.end + mid,
        });
        Value {
            raw: start as u32..mid as u32,
            folded: mid as u32..end as u32,
            number,
        }
    }

    fn values(&self, key: u32) -> &[Value] {
        match self.slots.get(key as usize) {
            Some(r) => &self.values[r.start as usize..r.end as usize],
            None => &[],
        }
    }

    fn folded(&self, v: &Value) -> &str {
        &self.text[v.folded.start as usize..v.folded.end as usize]
    }

    fn raw(&self, v: &Value) -> &str {
        &self.text[v.raw.start as usize..v.raw.end as usize]
    }

    fn number(&self, v: &Value) -> Option<View<'_>> {
        v.number.as_ref().map(|p| View::of(&self.text, p))
    }
}

/// A filter compiled by [`TagKeys::compile`].
#[derive(Clone, Debug)]
pub struct CompiledFilter {
    rules: Box<[Box<[Compiled]>]>,
}

/// A compiled condition.
#[derive(Clone, Debug)]
struct Compiled {
    key: u32,
    /// Negate the positive test (`not_*` operator xor `negate`).
    invert: bool,
    test: Test,
    /// The condition as written, for [`Mismatch`] details.
    source: Condition,
}

#[derive(Clone, Copy, Debug)]
enum Cmp {
    Gt,
    Gte,
    Lt,
    Lte,
}

impl Cmp {
    /// Whether `value.cmp(bound) == ord` satisfies the comparison.
    fn holds(self, ord: Ordering) -> bool {
        match self {
            Cmp::Gt => ord == Ordering::Greater,
            Cmp::Gte => ord != Ordering::Less,
            Cmp::Lt => ord == Ordering::Less,
            Cmp::Lte => ord != Ordering::Greater,
        }
    }
}

/// The positive test of a condition, values folded / parsed.
#[derive(Clone, Debug)]
enum Test {
    /// No usable value (an empty list, no parsable number): never holds.
    Never,
    Exists,
    /// Sorted, deduplicated.
    InText(Box<[Box<str>]>),
    /// Sorted, deduplicated.
    InNumber(Box<[Decimal]>),
    Contains(Box<[Box<str>]>),
    StartsWith(Box<[Box<str>]>),
    TextCmp(Cmp, Box<str>),
    NumberCmp(Cmp, Decimal),
}

impl Compiled {
    fn holds(&self, call: &PreparedCall) -> bool {
        let values = call.values(self.key);
        let positive = match &self.test {
            Test::Never => false,
            Test::Exists => values.iter().any(|v| !v.folded.is_empty()),
            Test::InText(set) => values
                .iter()
                .any(|v| set.binary_search_by(|s| (**s).cmp(call.folded(v))).is_ok()),
            Test::InNumber(set) => values.iter().any(|v| {
                call.number(v)
                    .is_some_and(|n| set.binary_search_by(|s| s.view().cmp(n)).is_ok())
            }),
            Test::Contains(xs) => values.iter().any(|v| {
                let text = call.folded(v);
                xs.iter().any(|x| text.contains(&**x))
            }),
            Test::StartsWith(xs) => values.iter().any(|v| {
                let text = call.folded(v);
                xs.iter().any(|x| text.starts_with(&**x))
            }),
            Test::TextCmp(cmp, bound) => {
                values.iter().any(|v| cmp.holds(call.folded(v).cmp(bound)))
            }
            Test::NumberCmp(cmp, bound) => values.iter().any(|v| {
                call.number(v)
                    .is_some_and(|n| cmp.holds(n.cmp(bound.view())))
            }),
        };
        positive != self.invert
    }
}

impl CompiledFilter {
    /// `Ok` when some rule has all its conditions holding for `call`; else
    /// the first failing condition of the first rule.
    ///
    /// Costs one pass over the conditions, each a lookup of the key's
    /// values and a comparison per value; it allocates nothing.
    pub fn matches<'a>(&'a self, call: &'a PreparedCall) -> Result<(), Mismatch<'a>> {
        let mut first = None;
        for (r, rule) in self.rules.iter().enumerate() {
            match rule.iter().position(|c| !c.holds(call)) {
                None => return Ok(()),
                Some(c) => {
                    first.get_or_insert((r, c));
                }
            }
        }
        Err(Mismatch {
            filter: self,
            at: first,
            call,
        })
    }

    /// Whether `call` matches (see [`CompiledFilter::matches`]).
    pub fn is_match(&self, call: &PreparedCall) -> bool {
        self.matches(call).is_ok()
    }
}

/// Why a call does not match a filter: the first failing condition of the
/// first rule. Rendering the detail (its `Display`) is the only part that
/// allocates, so a router builds it only for reports that show it.
///
/// Detail format: the condition, then what the call has for its tag:
/// `geo in [us-nc, us-sc]: call has geo = [301, us, us-28379, us-tx]`,
/// `age gte 65 (number): call has no age`,
/// `age not gt 65 (number): call has age = [70]` (a negated condition
/// with no `not_*` form). Values are shown as written, trimmed; a value
/// that is empty or holds `,` `[` `]` `"` is shown as a JSON string; lists
/// longer than 10 end with `… (N more)`.
#[derive(Clone, Debug)]
pub struct Mismatch<'a> {
    filter: &'a CompiledFilter,
    /// (rule, condition) indices; `None` when the filter has no rules.
    at: Option<(usize, usize)>,
    call: &'a PreparedCall,
}

impl<'a> Mismatch<'a> {
    /// The index of the rule reported (the first), if the filter has rules.
    pub fn rule(&self) -> Option<usize> {
        self.at.map(|(r, _)| r)
    }

    /// The failed condition, as written (`None` when the filter has no rules).
    pub fn condition(&self) -> Option<&'a Condition> {
        let filter: &'a CompiledFilter = self.filter;
        self.at.map(|(r, c)| &filter.rules[r][c].source)
    }

    /// The human-readable detail (the `Display` text).
    pub fn detail(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for Mismatch<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some((r, c)) = self.at else {
            return f.write_str("the filter has no rules, so it matches no call");
        };
        let cond = &self.filter.rules[r][c];
        let tag = cond.source.tag.trim();
        write!(f, "{}: call has ", cond.source)?;
        let values = self.call.values(cond.key);
        if values.is_empty() {
            write!(f, "no {tag}")
        } else {
            write!(f, "{tag} = ")?;
            write_list(f, values.iter().map(|v| self.call.raw(v)), values.len())
        }
    }
}

/// Most values shown in a detail list.
const SHOWN: usize = 10;

fn write_value(f: &mut fmt::Formatter<'_>, v: &str) -> fmt::Result {
    if v.is_empty() || v.contains([',', '[', ']', '"']) {
        write!(f, "{}", serde_json::Value::from(v))
    } else {
        f.write_str(v)
    }
}

fn write_list<'s>(
    f: &mut fmt::Formatter<'_>,
    values: impl Iterator<Item = &'s str>,
    len: usize,
) -> fmt::Result {
    f.write_str("[")?;
    for (i, v) in values.take(SHOWN).enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write_value(f, v)?;
    }
    if len > SHOWN {
        write!(f, ", … ({} more)", len - SHOWN)?;
    }
    f.write_str("]")
}

impl fmt::Display for Condition {
    /// `tag op values`: `geo in [us-nc, us-sc]`, `age gte 65 (number)`,
    /// `name contains smith`, `age not gt 65 (number)`, `zip exists`.
    /// `in` / `not_in` always show a list; other operators a bare value
    /// when there is one.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ", self.tag.trim())?;
        if self.negate {
            f.write_str("not ")?;
        }
        f.write_str(self.op.as_str())?;
        if self.op.takes_values() {
            f.write_str(" ")?;
            let values = self.values.iter().map(|v| v.trim());
            if self.values.len() == 1 && !matches!(self.op, Op::In | Op::NotIn) {
                write_value(f, self.values[0].trim())?;
            } else {
                write_list(f, values, self.values.len())?;
            }
        }
        if self.kind == Kind::Number && self.op.uses_kind() {
            f.write_str(" (number)")?;
        }
        Ok(())
    }
}
