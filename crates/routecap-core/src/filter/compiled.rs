//! Compiled filters and prepared calls: the fast path of filter evaluation.
//!
//! A router asks every candidate's filter about every call, and candidates
//! mostly share a handful of conditions (a state list, an age bound). So a
//! [`FilterTable`] compiles one config's filters into shared parts:
//! - tag keys, and the strings of `in` / `not_in` sets, interned to small
//!   integers, so membership is an integer comparison;
//! - string values folded once, numbers parsed once into exact decimals,
//!   `gt` … `lte` with several values reduced to their one binding bound;
//! - identical conditions and identical filters stored once.
//!
//! A [`PreparedCall`] resolves the call's keys and values once per decision
//! and memoizes each distinct condition and filter the first time it is
//! asked, so checking 1,000 targets costs a memo lookup per target plus one
//! evaluation per distinct condition, with no allocation.

use std::cell::Cell;
use std::cmp::Ordering;
use std::collections::HashMap;
use std::fmt;
use std::ops::Range;

use super::decimal::{self, Decimal, Parts, View};
use super::{fold, CallAttrs, Condition, Filter, Kind, Op, CALLER};
use crate::sort::{sort_ids, sorted_by};

/// The compiled filters of one config: interned keys and `in` strings,
/// distinct conditions and distinct filters.
///
/// Compile every filter of a config with one table ([`FilterTable::compile`]),
/// keep the table with the config, and prepare each call with it
/// ([`FilterTable::prepare`]); the prepared call borrows the table, so it
/// cannot outlive or miss a later compilation.
#[derive(Clone, Debug, Default)]
pub struct FilterTable {
    keys: HashMap<Box<str>, u32>,
    /// Folded strings of `in` / `not_in` string sets.
    words: HashMap<Box<str>, u32>,
    conds: Vec<Cond>,
    cond_ids: HashMap<Cond, u32>,
    /// Distinct filters: rules of condition ids.
    filters: Vec<Rules>,
    filter_ids: HashMap<Rules, u32>,
    /// The same filters flat, for evaluation without pointer chasing:
    /// filter `f`'s rules are `rule_starts[filter_starts[f]..filter_starts[f + 1]]`,
    /// rule `r`'s conditions `rule_conds[rule_starts[r]..rule_starts[r + 1]]`
    /// (each list ends where the next begins; a final entry closes it).
    filter_starts: Vec<u32>,
    rule_starts: Vec<u32>,
    rule_conds: Vec<u32>,
    /// Per condition, its [`WordTest`] (mask 0: none).
    word_tests: Vec<WordTest>,
    /// Per filter: when it is one rule of one condition with a
    /// [`WordTest`] (the usual state or topic list), that test; mask 0
    /// otherwise.
    filter_tests: Vec<WordTest>,
}

/// An `in` over strings whose interned words all have ids below 64: the
/// set as a bit mask, tested against the call's words under `key` in one
/// `and`, without reading the condition itself.
#[derive(Clone, Copy, Debug, Default)]
struct WordTest {
    mask: u64,
    key: u32,
    invert: bool,
}

type Rules = Box<[Box<[u32]>]>;

fn small_id(n: usize) -> u32 {
    u32::try_from(n).expect("fewer than 2^32 distinct filter parts")
}

impl FilterTable {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many distinct tag keys the compiled filters mention.
    pub fn key_count(&self) -> usize {
        self.keys.len()
    }

    /// How many distinct conditions the compiled filters hold.
    pub fn condition_count(&self) -> usize {
        self.conds.len()
    }

    /// How many distinct filters were compiled.
    pub fn filter_count(&self) -> usize {
        self.filters.len()
    }

    fn intern_key(&mut self, key: &str) -> u32 {
        let key = fold(key);
        let next = small_id(self.keys.len());
        *self.keys.entry(key.into()).or_insert(next)
    }

    fn intern_word(&mut self, word: Box<str>) -> u32 {
        let next = small_id(self.words.len());
        *self.words.entry(word).or_insert(next)
    }

    /// Compile `filter`. Filters and conditions equal to ones compiled
    /// before (after folding) share their memo slots.
    pub fn compile(&mut self, filter: &Filter) -> CompiledFilter {
        let rules: Rules = filter
            .any_of
            .iter()
            .map(|rule| {
                rule.all_of
                    .iter()
                    .map(|c| {
                        let cond = self.compile_condition(c);
                        let next = small_id(self.conds.len());
                        let id = *self.cond_ids.entry(cond.clone()).or_insert(next);
                        if id == next {
                            self.word_tests.push(WordTest {
                                mask: cond.word_mask(),
                                key: cond.key,
                                invert: cond.invert,
                            });
                            self.conds.push(cond);
                        }
                        id
                    })
                    .collect()
            })
            .collect();
        let next = small_id(self.filters.len());
        let id = *self.filter_ids.entry(rules.clone()).or_insert(next);
        if id == next {
            self.push_flat(&rules);
            self.filters.push(rules);
        }
        CompiledFilter {
            id,
            sources: filter
                .any_of
                .iter()
                .map(|r| r.all_of.clone().into_boxed_slice())
                .collect(),
        }
    }

    /// Append a new distinct filter to the flat arrays.
    fn push_flat(&mut self, rules: &Rules) {
        if self.filter_starts.is_empty() {
            self.filter_starts.push(0);
            self.rule_starts.push(0);
        }
        let single = match &rules[..] {
            [rule] => match &rule[..] {
                [c] => self.word_tests.get(*c as usize).copied(),
                _ => None,
            },
            _ => None,
        };
        self.filter_tests.push(single.unwrap_or_default());
        for rule in rules.iter() {
            self.rule_conds.extend_from_slice(rule);
            self.rule_starts.push(small_id(self.rule_conds.len()));
        }
        // rule_starts holds one closing entry more than there are rules
        self.filter_starts
            .push(small_id(self.rule_starts.len().saturating_sub(1)));
    }

    /// Condition ids of each rule of filter `id`.
    #[inline]
    fn flat_rules(&self, id: u32) -> impl Iterator<Item = &[u32]> + '_ {
        let f = id as usize;
        let (from, to) = match (self.filter_starts.get(f), self.filter_starts.get(f + 1)) {
            (Some(&a), Some(&b)) => (a as usize, b as usize),
            _ => (0, 0),
        };
        (from..to).map(
            move |r| match (self.rule_starts.get(r), self.rule_starts.get(r + 1)) {
                (Some(&a), Some(&b)) => self.rule_conds.get(a as usize..b as usize).unwrap_or(&[]),
                _ => &[],
            },
        )
    }

    fn compile_condition(&mut self, c: &Condition) -> Cond {
        let key = self.intern_key(&c.tag);
        let texts = || {
            let mut v: Vec<Box<str>> = c.values.iter().map(|v| fold(v).into()).collect();
            let mut order: Vec<u32> = (0..small_id(v.len())).collect();
            sort_ids(&mut order, &|a, b| v[a as usize].cmp(&v[b as usize]));
            let mut v: Vec<Box<str>> = order
                .iter()
                .map(|&i| std::mem::take(&mut v[i as usize]))
                .collect();
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
        let test = match (c.op.positive(), c.kind) {
            (Op::Exists, _) => Test::Exists,
            (Op::In, Kind::String) => {
                let mut ids: Vec<u32> = texts().into_iter().map(|w| self.intern_word(w)).collect();
                sort_ids(&mut ids, &|a, b| a.cmp(&b));
                nonempty(ids, |v| Test::InWords(v.into()))
            }
            (Op::In, Kind::Number) => nonempty(numbers(), |v| Test::InNumbers(v.into())),
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
                let least = matches!(cmp, Cmp::Gt | Cmp::Gte);
                match kind {
                    Kind::String => {
                        let v = texts();
                        let bound = if least { v.first() } else { v.last() };
                        bound.map_or(Test::Never, |b| Test::TextCmp(cmp, b.clone()))
                    }
                    Kind::Number => {
                        let v = numbers();
                        let bound = if least { v.first() } else { v.last() };
                        bound.map_or(Test::Never, |b| Test::NumberCmp(cmp, b.clone()))
                    }
                }
            }
        };
        Cond {
            key,
            invert: c.op.is_not() != c.negate,
            test,
        }
    }

    /// Prepare a call for this table's filters, once per decision: keys
    /// resolved to ids, values trimmed, folded, interned and parsed as
    /// numbers. Tags no filter mentions are dropped. The caller, when
    /// known, is one more value of the tag `caller`. A call without
    /// attributes is `prepare(&CallAttrs::default())`.
    pub fn prepare(&self, call: &CallAttrs) -> PreparedCall<'_> {
        let mut out = PreparedCall {
            table: self,
            text: String::new(),
            values: Vec::new(),
            slots: Vec::new(),
            cond_memo: vec![Cell::new(UNKNOWN); self.conds.len()],
            filter_memo: vec![Cell::new(UNKNOWN as u64); self.filters.len()],
            words: Vec::new(),
        };
        if self.keys.is_empty() {
            return out;
        }
        let mut entries: Vec<(u32, Value)> = Vec::new();
        for (key, values) in call.tags() {
            if let Some(&id) = self.keys.get(key) {
                for v in values {
                    entries.push((id, out.push_text(v)));
                }
            }
        }
        if let (Some(number), Some(&id)) = (call.caller(), self.keys.get(CALLER)) {
            entries.push((id, out.push_text(number)));
        }
        // Stable: a key's values keep their order, the caller last.
        let entries = sorted_by(entries, &|a, b| a.0.cmp(&b.0));
        out.slots = vec![0..0; self.keys.len()];
        let mut i = 0;
        while i < entries.len() {
            let id = entries[i].0;
            let start = i;
            while i < entries.len() && entries[i].0 == id {
                i += 1;
            }
            out.slots[id as usize] = small_id(start)..small_id(i);
        }
        out.words = vec![0; self.keys.len()];
        for (key, v) in &entries {
            if let (Some(bits), true) = (out.words.get_mut(*key as usize), v.word < 64) {
                *bits |= 1 << v.word;
            }
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

/// Memo states of a condition; a filter's memo is `UNKNOWN`, `MATCH`,
/// `NO_RULES`, or `FIRST_FAIL + (rule << 32 | condition)`.
const UNKNOWN: u8 = 0;
const FALSE: u8 = 1;
const TRUE: u8 = 2;
const MATCH: u64 = 1;
const NO_RULES: u64 = 2;
const FIRST_FAIL: u64 = 3;

/// A call's attributes ready for one decision (see [`FilterTable::prepare`]).
///
/// It remembers each distinct condition's and filter's answer the first
/// time it is asked, so asking again (another target with the same filter
/// or condition) is a lookup. Not `Sync`: one decision, one thread.
#[derive(Clone, Debug)]
pub struct PreparedCall<'t> {
    table: &'t FilterTable,
    /// Every value's trimmed text then its folded text, back to back.
    text: String,
    values: Vec<Value>,
    /// Per key id, the range of `values` holding that key's values.
    slots: Vec<Range<u32>>,
    cond_memo: Vec<Cell<u8>>,
    filter_memo: Vec<Cell<u64>>,
    /// Per key id, bit `w` set when a value under it is interned word `w`
    /// (ids below 64; see [`WordTest`]).
    words: Vec<u64>,
}

/// One call value: where its texts lie in [`PreparedCall::text`], its
/// interned id (`u32::MAX` when no `in` set holds it) and its number.
#[derive(Clone, Debug)]
struct Value {
    raw: Range<u32>,
    folded: Range<u32>,
    word: u32,
    number: Option<Parts>,
}

impl PreparedCall<'_> {
    fn push_text(&mut self, value: &str) -> Value {
        let trimmed = value.trim();
        let start = self.text.len();
        self.text.push_str(trimmed);
        let mid = self.text.len();
        self.text.push_str(trimmed);
        let end = self.text.len();
        self.text[mid..end].make_ascii_lowercase();
        let folded = &self.text[mid..end];
        let number = decimal::parse(folded).map(|p| Parts {
            neg: p.neg,
            int: p.int.start + mid..p.int.end + mid,
            frac: p.frac.start + mid..p.frac.end + mid,
        });
        let word = self.table.words.get(folded).copied().unwrap_or(u32::MAX);
        Value {
            raw: small_id(start)..small_id(mid),
            folded: small_id(mid)..small_id(end),
            word,
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

    fn number(&self, v: &Value) -> Option<View<'_>> {
        v.number.as_ref().map(|p| View::of(&self.text, p))
    }

    /// Condition `id`, memoized (a word-set condition is one `and`).
    #[inline]
    fn condition(&self, id: u32) -> bool {
        let test = self
            .table
            .word_tests
            .get(id as usize)
            .copied()
            .unwrap_or_default();
        if test.mask != 0 {
            let bits = self.words.get(test.key as usize).copied().unwrap_or(0);
            return (bits & test.mask != 0) != test.invert;
        }
        let memo = &self.cond_memo[id as usize];
        match memo.get() {
            FALSE => false,
            TRUE => true,
            _ => {
                let holds = self.table.conds[id as usize].holds(self);
                memo.set(if holds { TRUE } else { FALSE });
                holds
            }
        }
    }

    /// Filter `id`'s memo state (never `UNKNOWN`). The one-`and` word
    /// test is inlined into the caller; anything else is out of line.
    #[inline]
    fn filter(&self, id: u32) -> u64 {
        let test = self
            .table
            .filter_tests
            .get(id as usize)
            .copied()
            .unwrap_or_default();
        if test.mask != 0 {
            let bits = self.words.get(test.key as usize).copied().unwrap_or(0);
            // its first (only) condition of its first rule, as below
            return if (bits & test.mask != 0) != test.invert {
                MATCH
            } else {
                FIRST_FAIL
            };
        }
        self.filter_rules(id)
    }

    /// [`PreparedCall::filter`] of a filter that is not one word test.
    #[inline(never)]
    fn filter_rules(&self, id: u32) -> u64 {
        let memo = &self.filter_memo[id as usize];
        let known = memo.get();
        if known != UNKNOWN as u64 {
            return known;
        }
        let mut state = NO_RULES;
        for (r, rule) in self.table.flat_rules(id).enumerate() {
            if r == 0 {
                state = MATCH;
            }
            match rule.iter().position(|&c| !self.condition(c)) {
                None => {
                    state = MATCH;
                    break;
                }
                Some(c) if r == 0 => state = FIRST_FAIL + ((c as u64) | ((r as u64) << 32)),
                Some(_) => {}
            }
        }
        memo.set(state);
        state
    }
}

/// A filter compiled by [`FilterTable::compile`]: its id in the table and
/// its conditions as written (for details).
#[derive(Clone, Debug)]
pub struct CompiledFilter {
    id: u32,
    sources: Box<[Box<[Condition]>]>,
}

/// A distinct compiled condition.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Cond {
    key: u32,
    /// Negate the positive test (`not_*` operator xor `negate`).
    invert: bool,
    test: Test,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
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

/// The positive test of a condition, values folded / parsed / interned.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Test {
    /// No usable value (an empty list, no parsable number): never holds.
    Never,
    Exists,
    /// Interned folded strings, sorted.
    InWords(Box<[u32]>),
    /// Sorted, deduplicated.
    InNumbers(Box<[Decimal]>),
    Contains(Box<[Box<str>]>),
    StartsWith(Box<[Box<str>]>),
    TextCmp(Cmp, Box<str>),
    NumberCmp(Cmp, Decimal),
}

impl Cond {
    /// The set of an `in` over words as a bit mask, when every id is
    /// below 64 (0: no mask; an empty set never gets here, it is `Never`).
    fn word_mask(&self) -> u64 {
        match &self.test {
            Test::InWords(set) if set.iter().all(|&w| w < 64) => {
                set.iter().fold(0, |m, &w| m | 1 << w)
            }
            _ => 0,
        }
    }

    fn holds(&self, call: &PreparedCall<'_>) -> bool {
        let values = call.values(self.key);
        let positive = match &self.test {
            Test::Never => false,
            Test::Exists => values.iter().any(|v| !v.folded.is_empty()),
            Test::InWords(set) => values.iter().any(|v| {
                if set.len() <= 8 {
                    set.contains(&v.word)
                } else {
                    set.binary_search(&v.word).is_ok()
                }
            }),
            Test::InNumbers(set) => values.iter().any(|v| {
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
            Test::TextCmp(cmp, bound) => values
                .iter()
                .any(|v| cmp.holds(call.folded(v).cmp(&**bound))),
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
    /// `call` must come from the table that compiled this filter. The
    /// first time a distinct filter is asked about a call it evaluates its
    /// conditions (each distinct condition once per call); after that it
    /// is a lookup. It never allocates.
    pub fn matches<'a>(&'a self, call: &'a PreparedCall<'_>) -> Result<(), Mismatch<'a>> {
        let at = match call.filter(self.id) {
            MATCH => return Ok(()),
            NO_RULES => None,
            state => {
                let packed = state - FIRST_FAIL;
                Some((
                    (packed >> 32) as usize,
                    (packed & u64::from(u32::MAX)) as usize,
                ))
            }
        };
        Err(Mismatch {
            filter: self,
            at,
            key: at.map(|(r, c)| {
                call.table.conds[call.table.filters[self.id as usize][r][c] as usize].key
            }),
            text: &call.text,
            values: at.map_or(&[], |_| &call.values[..]),
            slots: &call.slots,
        })
    }

    /// Whether `call` matches (see [`CompiledFilter::matches`]).
    #[inline]
    pub fn is_match(&self, call: &PreparedCall<'_>) -> bool {
        call.filter(self.id) == MATCH
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
    /// The failed condition's key id.
    key: Option<u32>,
    text: &'a str,
    values: &'a [Value],
    slots: &'a [Range<u32>],
}

impl<'a> Mismatch<'a> {
    /// The index of the rule reported (the first), if the filter has rules.
    pub fn rule(&self) -> Option<usize> {
        self.at.map(|(r, _)| r)
    }

    /// The failed condition, as written (`None` when the filter has no rules).
    pub fn condition(&self) -> Option<&'a Condition> {
        let filter: &'a CompiledFilter = self.filter;
        self.at.map(|(r, c)| &filter.sources[r][c])
    }

    /// The human-readable detail (the `Display` text).
    pub fn detail(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for Mismatch<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (Some(cond), Some(key)) = (self.condition(), self.key) else {
            return f.write_str("the filter has no rules, so it matches no call");
        };
        let tag = cond.tag.trim();
        write!(f, "{cond}: call has ")?;
        let values = match self.slots.get(key as usize) {
            Some(r) => &self.values[r.start as usize..r.end as usize],
            None => &[],
        };
        if values.is_empty() {
            write!(f, "no {tag}")
        } else {
            write!(f, "{tag} = ")?;
            let raw = |v: &Value| &self.text[v.raw.start as usize..v.raw.end as usize];
            write_list(f, values.iter().map(raw), values.len())
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
            if self.values.len() == 1 && !matches!(self.op, Op::In | Op::NotIn) {
                write_value(f, self.values[0].trim())?;
            } else {
                write_list(f, self.values.iter().map(|v| v.trim()), self.values.len())?;
            }
        }
        if self.kind == Kind::Number && self.op.uses_kind() {
            f.write_str(" (number)")?;
        }
        Ok(())
    }
}
