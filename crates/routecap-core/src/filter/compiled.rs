//! Compiled filters and prepared calls: the fast path of filter evaluation.
//!
//! A router asks every candidate's filter about every call. So a
//! [`FilterTable`] compiles one config's filters into *atoms*, the facts a
//! call can make true, each a bit:
//! - `(key, word)` for every string an `in` / `not_in` set holds (found by
//!   one hash lookup per call value);
//! - every other distinct positive test (`contains`, `starts_with`, a
//!   number bound, `exists`, …) with its key, evaluated once per call.
//!
//! A condition is then "some of its atoms is set" (xor its negation), a
//! rule an `and` of conditions, a filter an `or` of rules; identical
//! conditions and filters are stored once. A [`PreparedCall`] holds the
//! call's atoms, built in one pass over its tags.
//!
//! For many owners at once, [`FilterRows`] turns the atoms around: for each
//! condition slot of the usual filter shape (at most two rules of at most
//! two conditions), a bit set of the owners whose condition there holds
//! each atom. A call's verdicts for all owners are then a few `or`s of
//! those bit sets, one per atom the call sets, 64 owners per word.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::fmt;
use std::ops::Range;

use std::hash::BuildHasherDefault;

use super::decimal::{self, Decimal, Parts, View};
use super::{fold, CallAttrs, Condition, Filter, Kind, Op, CALLER};
use crate::intern_hasher::InternHasher;

/// Hash maps over a config's own short strings and ids: the checker's
/// multiply-rotate hasher (SipHash was a third of preparing a call; the
/// maps hold the config's keys, calls only look them up).
type Map<K, V> = HashMap<K, V, BuildHasherDefault<InternHasher>>;

/// The compiled filters of one config: interned keys, atoms, distinct
/// conditions and distinct filters.
///
/// Compile every filter of a config with one table ([`FilterTable::compile`]),
/// keep the table with the config, and prepare each call with it
/// ([`FilterTable::prepare`]); the prepared call borrows the table, so it
/// cannot outlive or miss a later compilation.
#[derive(Clone, Debug, Default)]
pub struct FilterTable {
    keys: Map<Box<str>, u32>,
    /// Folded key of each key id.
    key_names: Vec<Box<str>>,
    /// Per key id: folded `in` string → its atom.
    words: Vec<Map<Box<str>, u32>>,
    /// Positive tests evaluated once per call, each setting its atom.
    computed: Vec<(u32, Test, u32)>,
    computed_ids: Map<(u32, Test), u32>,
    atoms: u32,
    conds: Vec<Cond>,
    cond_ids: Map<Cond, u32>,
    /// Condition `c`'s atoms: `cond_atoms[cond_starts[c]..cond_starts[c + 1]]`.
    cond_starts: Vec<u32>,
    cond_atoms: Vec<u32>,
    /// Distinct filters: rules of condition ids.
    filters: Vec<Rules>,
    filter_ids: Map<Rules, u32>,
}

type Rules = Box<[Box<[u32]>]>;

/// Up to this many keys, a call's tag keys are found by a scan.
const SCANNED_KEYS: usize = 8;

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

    /// How many atoms (facts a call can make true) the filters test.
    pub fn atom_count(&self) -> usize {
        self.atoms as usize
    }

    fn intern_key(&mut self, key: &str) -> u32 {
        let key = fold(key);
        let next = small_id(self.keys.len());
        let id = *self.keys.entry(key.as_str().into()).or_insert(next);
        if id == next {
            self.words.push(Map::default());
            self.key_names.push(key.into());
        }
        id
    }

    /// The id of folded tag `key`: a scan while there are a few keys (the
    /// usual case, faster than hashing), else a lookup.
    #[inline]
    fn key_id(&self, key: &str) -> Option<u32> {
        if self.key_names.len() <= SCANNED_KEYS {
            let at = self.key_names.iter().position(|k| **k == *key)?;
            return u32::try_from(at).ok();
        }
        self.keys.get(key).copied()
    }

    fn new_atom(&mut self) -> u32 {
        self.atoms += 1;
        self.atoms - 1
    }

    /// Compile `filter`. Filters and conditions equal to ones compiled
    /// before (after folding) are stored once.
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
                            self.push_atoms(&cond);
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

    /// Record the atoms of a new distinct condition.
    fn push_atoms(&mut self, cond: &Cond) {
        if self.cond_starts.is_empty() {
            self.cond_starts.push(0);
        }
        match &cond.test {
            Test::Never => {}
            Test::InWords(set) => {
                for w in set.iter() {
                    let known = self.words.get(cond.key as usize).and_then(|m| m.get(w));
                    let atom = match known {
                        Some(&a) => a,
                        None => {
                            let a = self.new_atom();
                            if let Some(m) = self.words.get_mut(cond.key as usize) {
                                m.insert(w.clone(), a);
                            }
                            a
                        }
                    };
                    self.cond_atoms.push(atom);
                }
            }
            test => {
                let k = (cond.key, test.clone());
                let atom = match self.computed_ids.get(&k) {
                    Some(&a) => a,
                    None => {
                        let a = self.new_atom();
                        self.computed.push((cond.key, test.clone(), a));
                        self.computed_ids.insert(k, a);
                        a
                    }
                };
                self.cond_atoms.push(atom);
            }
        }
        self.cond_starts.push(small_id(self.cond_atoms.len()));
    }

    /// The atoms of condition `c`.
    #[inline]
    fn atoms_of(&self, c: u32) -> &[u32] {
        let c = c as usize;
        match (self.cond_starts.get(c), self.cond_starts.get(c + 1)) {
            (Some(&a), Some(&b)) => self.cond_atoms.get(a as usize..b as usize).unwrap_or(&[]),
            _ => &[],
        }
    }

    fn compile_condition(&mut self, c: &Condition) -> Cond {
        let key = self.intern_key(&c.tag);
        let texts = || {
            let mut v: Vec<Box<str>> = c.values.iter().map(|v| fold(v).into()).collect();
            let mut order: Vec<u32> = (0..small_id(v.len())).collect();
            order.sort_unstable_by(|&a, &b| v[a as usize].cmp(&v[b as usize]));
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
            (Op::In, Kind::String) => nonempty(texts(), |v| Test::InWords(v.into())),
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
    /// resolved to ids, values trimmed, folded and parsed as numbers, and
    /// the call's atoms set. Tags no filter mentions are dropped. The
    /// caller, when known, is one more value of the tag `caller`. A call
    /// without attributes is `prepare(&CallAttrs::default())`.
    pub fn prepare(&self, call: &CallAttrs) -> PreparedCall<'_> {
        self.prepare_with(call, CallBuffers::default())
    }

    /// [`FilterTable::prepare`] into the buffers of an earlier prepared
    /// call ([`PreparedCall::into_buffers`]): a service preparing call
    /// after call allocates nothing once they are large enough.
    pub fn prepare_with(&self, call: &CallAttrs, buffers: CallBuffers) -> PreparedCall<'_> {
        let mut out = PreparedCall {
            table: self,
            b: buffers,
        };
        let b = &mut out.b;
        b.text.clear();
        b.values.clear();
        b.entries.clear();
        b.set.clear();
        b.refused.clear();
        b.slots.clear();
        b.slots.resize(self.keys.len(), 0..0);
        b.atoms.clear();
        b.atoms.resize(self.atom_count().div_ceil(64), 0);
        if self.keys.is_empty() {
            return out;
        }
        for (key, values) in call.tags() {
            if let Some(id) = self.key_id(key) {
                for v in values {
                    let value = push_text(&mut b.text, v);
                    b.entries.push((id, value));
                }
            }
        }
        if let (Some(number), Some(id)) = (call.caller(), self.key_id(CALLER)) {
            let value = push_text(&mut b.text, number);
            b.entries.push((id, value));
        }
        // group the values by key, keeping their order (the caller last):
        // a counting sort, so no allocation
        for (id, _) in &b.entries {
            if let Some(r) = b.slots.get_mut(*id as usize) {
                r.end += 1;
            }
        }
        let mut at = 0;
        for r in &mut b.slots {
            let len = r.end;
            *r = at..at;
            at += len;
        }
        b.values.resize(b.entries.len(), EMPTY_VALUE);
        for (id, v) in &b.entries {
            if let Some(r) = b.slots.get_mut(*id as usize) {
                if let Some(slot) = b.values.get_mut(r.end as usize) {
                    *slot = v.clone();
                }
                r.end += 1;
            }
        }
        // atoms: `in` strings by lookup, other tests evaluated once
        for (id, v) in &b.entries {
            let folded = &b.text[v.folded.start as usize..v.folded.end as usize];
            if let Some(&atom) = self.words.get(*id as usize).and_then(|m| m.get(folded)) {
                set_bit(&mut b.atoms, atom as usize);
            }
        }
        for (key, test, atom) in &self.computed {
            let values = match b.slots.get(*key as usize) {
                Some(r) => b
                    .values
                    .get(r.start as usize..r.end as usize)
                    .unwrap_or(&[]),
                None => &[],
            };
            if test.holds(values, &b.text) {
                set_bit(&mut b.atoms, *atom as usize);
            }
        }
        for (w, &bits) in b.atoms.iter().enumerate() {
            let mut bits = bits;
            while bits != 0 {
                b.set.push(small_id(w * 64) + bits.trailing_zeros());
                bits &= bits - 1;
            }
        }
        out
    }
}

fn set_bit(bits: &mut [u64], i: usize) {
    if let Some(w) = bits.get_mut(i / 64) {
        *w |= 1 << (i % 64);
    }
}

fn bit(bits: &[u64], i: usize) -> bool {
    bits.get(i / 64).is_some_and(|w| w >> (i % 64) & 1 != 0)
}

/// `value` trimmed then folded, appended to `text`.
fn push_text(text: &mut String, value: &str) -> Value {
    let trimmed = value.trim();
    let start = text.len();
    text.push_str(trimmed);
    let mid = text.len();
    text.push_str(trimmed);
    let end = text.len();
    text[mid..end].make_ascii_lowercase();
    let number = decimal::parse(&text[mid..end]).map(|p| Parts {
        neg: p.neg,
        int: p.int.start + mid..p.int.end + mid,
        frac: p.frac.start + mid..p.frac.end + mid,
    });
    Value {
        raw: small_id(start)..small_id(mid),
        folded: small_id(mid)..small_id(end),
        number,
    }
}

fn nonempty<T>(v: Vec<T>, make: impl FnOnce(Vec<T>) -> Test) -> Test {
    if v.is_empty() {
        Test::Never
    } else {
        make(v)
    }
}

/// The buffers of a [`PreparedCall`], kept between calls.
#[derive(Clone, Debug, Default)]
pub struct CallBuffers {
    /// Every value's trimmed text then its folded text, back to back.
    text: String,
    /// The values, grouped by key id.
    values: Vec<Value>,
    /// The values in call order, with their key id.
    entries: Vec<(u32, Value)>,
    /// Per key id, the range of `values` holding that key's values.
    slots: Vec<Range<u32>>,
    /// The call's atoms, a bit each.
    atoms: Vec<u64>,
    /// The set atoms, ascending.
    set: Vec<u32>,
    /// Owners refused (see [`FilterRows::refuse`]).
    refused: Vec<u64>,
    /// Per condition slot of [`FilterRows`], the owners whose condition
    /// there some set atom makes hold.
    scratch: Vec<u64>,
}

/// A call's attributes ready for one decision (see [`FilterTable::prepare`]).
///
/// Asking a filter tests a few of its atoms; [`FilterRows`] asks many
/// owners' filters at once.
#[derive(Clone, Debug)]
pub struct PreparedCall<'t> {
    table: &'t FilterTable,
    b: CallBuffers,
}

/// One call value: where its texts lie in [`CallBuffers::text`] and its
/// number.
#[derive(Clone, Debug)]
struct Value {
    raw: Range<u32>,
    folded: Range<u32>,
    number: Option<Parts>,
}

const EMPTY_VALUE: Value = Value {
    raw: 0..0,
    folded: 0..0,
    number: None,
};

impl CallBuffers {
    /// The owners the last prepared call in these buffers was refused by
    /// ([`PreparedCall::refused_bits`]).
    pub fn refused(&self) -> &[u64] {
        &self.refused
    }
}

impl PreparedCall<'_> {
    /// The buffers, for the next call ([`FilterTable::prepare_with`]).
    pub fn into_buffers(self) -> CallBuffers {
        self.b
    }

    /// Whether condition `c` holds: some atom of it set, xor its negation.
    #[inline]
    fn condition(&self, c: u32) -> bool {
        let positive = (self.table.atoms_of(c).iter()).any(|&a| bit(&self.b.atoms, a as usize));
        let invert = self.table.conds.get(c as usize).is_some_and(|c| c.invert);
        positive != invert
    }

    /// Whether distinct filter `id` matches: a few tests of the call's
    /// atoms, so not memoized (and a prepared call stays `Sync`).
    #[inline]
    fn filter(&self, id: u32) -> bool {
        let rules = (self.table.filters.get(id as usize)).map_or(&[][..], |r| &r[..]);
        rules.iter().any(|r| r.iter().all(|&c| self.condition(c)))
    }

    /// Whether owner `i` of the [`FilterRows`] last applied to this call
    /// ([`FilterRows::refuse`]) refuses it.
    #[inline]
    pub fn refused(&self, i: usize) -> bool {
        bit(&self.b.refused, i)
    }

    /// The owners refused by the [`FilterRows`] last applied, 64 a word.
    pub fn refused_bits(&self) -> &[u64] {
        &self.b.refused
    }
}

/// How the condition slots of [`FilterRows`] find the owners of an atom:
/// `len` owners from `start`, in `dense` (a bit set of all owners, when
/// at least one owner in 64 has it) or `sparse` (their indices).
#[derive(Clone, Copy, Debug, Default)]
struct AtomOwners {
    start: u32,
    len: u32,
    dense: bool,
}

/// Slots of the shape [`FilterRows`] evaluates at once: rule `r`'s
/// condition `c` is slot `2 r + c`.
const SLOTS: usize = 4;

/// The filters of many owners (a config's targets) turned around for
/// evaluating them all at once: per condition slot (four: two rules of two conditions), which
/// owners' condition there each atom makes hold, and which owners'
/// condition is negated. A filter of another shape is asked on its own.
#[derive(Clone, Debug, Default)]
pub struct FilterRows {
    owners: usize,
    /// Per slot, per atom: where its owners are.
    index: Vec<[AtomOwners; SLOTS]>,
    dense: Vec<u64>,
    sparse: Vec<u32>,
    /// Per slot, a bit set of owners: the condition there is negated (an
    /// empty slot of a rule: negated, with no atom, so it holds; an empty
    /// second rule: not negated, so it never holds).
    invert: [Vec<u64>; SLOTS],
    /// Owners whose filter has another shape, with its distinct id.
    other: Vec<(u32, u32)>,
}

impl FilterRows {
    /// The rows of `owners` (`None`: no filter, every call matches), all
    /// compiled by `table`.
    pub fn new<'f>(
        table: &FilterTable,
        owners: impl ExactSizeIterator<Item = Option<&'f CompiledFilter>>,
    ) -> Self {
        let n = owners.len();
        let words = n.div_ceil(64);
        let mut invert: [Vec<u64>; SLOTS] = Default::default();
        for v in &mut invert {
            v.resize(words, 0);
        }
        // (slot, atom) of each owner's conditions, grouped by a counting
        // sort (no sort code; an owner has one condition per slot, so no
        // duplicates), owners ascending within a group
        let atoms = table.atom_count();
        let mut refs: Vec<(u32, u32)> = Vec::new();
        let mut other = Vec::new();
        let mut counts = vec![0u32; SLOTS * atoms + 1];
        for (i, f) in owners.enumerate() {
            let owner = small_id(i);
            let rules = f.and_then(|f| table.filters.get(f.id as usize));
            let fits = rules.is_none_or(|r| r.len() <= 2 && r.iter().all(|r| r.len() <= 2));
            let (Some(rules), true) = (rules, fits) else {
                // no filter (or another shape, judged on its own): rule 0
                // of two empty, negated slots holds
                set_bit(&mut invert[0], i);
                set_bit(&mut invert[1], i);
                if let Some(f) = f.filter(|_| !fits) {
                    other.push((owner, f.id));
                }
                continue;
            };
            for (r, rule) in rules.iter().enumerate() {
                for c in 0..2 {
                    let slot = 2 * r + c;
                    match rule.get(c) {
                        Some(&cond) => {
                            if table.conds.get(cond as usize).is_some_and(|c| c.invert) {
                                set_bit(&mut invert[slot], i);
                            }
                            for &a in table.atoms_of(cond) {
                                let group = slot * atoms + a as usize;
                                refs.push((small_id(group), owner));
                                if let Some(k) = counts.get_mut(group) {
                                    *k += 1;
                                }
                            }
                        }
                        // a rule of one condition (or none) holds its
                        // empty slots
                        None => set_bit(&mut invert[slot], i),
                    }
                }
            }
        }
        let mut index = vec![[AtomOwners::default(); SLOTS]; atoms];
        let (mut dense, mut sparse) = (Vec::new(), Vec::new());
        // where each group's owners go in `sparse`, or in `dense`
        let mut at = vec![0u32; SLOTS * atoms];
        for (group, &k) in counts.iter().enumerate().take(SLOTS * atoms) {
            if k == 0 {
                continue;
            }
            let entry = if k as usize * 64 >= n {
                let start = dense.len();
                dense.resize(start + words, 0);
                AtomOwners {
                    start: small_id(start),
                    len: small_id(words),
                    dense: true,
                }
            } else {
                let start = sparse.len();
                sparse.resize(start + k as usize, 0);
                AtomOwners {
                    start: small_id(start),
                    len: k,
                    dense: false,
                }
            };
            if let Some(a) = at.get_mut(group) {
                *a = entry.start;
            }
            let (slot, atom) = (group / atoms, group % atoms);
            if let Some(e) = index.get_mut(atom).and_then(|e| e.get_mut(slot)) {
                *e = entry;
            }
        }
        for (group, owner) in refs {
            let (slot, atom) = (group as usize / atoms, group as usize % atoms);
            let (Some(e), Some(next)) = (
                index.get(atom).and_then(|e| e.get(slot)),
                at.get_mut(group as usize),
            ) else {
                continue;
            };
            if e.dense {
                let start = e.start as usize;
                if let Some(bits) = dense.get_mut(start..start + words) {
                    set_bit(bits, owner as usize);
                }
            } else if let Some(o) = sparse.get_mut(*next as usize) {
                *o = owner;
                *next += 1;
            }
        }
        FilterRows {
            owners: n,
            index,
            dense,
            sparse,
            invert,
            other,
        }
    }

    /// How many owners the rows hold.
    pub fn len(&self) -> usize {
        self.owners
    }

    /// Whether the rows hold no owner.
    pub fn is_empty(&self) -> bool {
        self.owners == 0
    }

    /// Judge every owner's filter for `call` (from the table that compiled
    /// them): afterwards [`PreparedCall::refused`] tells which refuse it.
    /// Costs one pass over the owners' bit sets per atom the call sets.
    pub fn refuse(&self, call: &mut PreparedCall<'_>) {
        let words = self.owners.div_ceil(64);
        let b = &mut call.b;
        b.scratch.clear();
        b.scratch.resize(SLOTS * words, 0);
        for &atom in &b.set {
            let Some(entry) = self.index.get(atom as usize) else {
                continue;
            };
            for (slot, e) in entry.iter().enumerate() {
                let Some(acc) = b.scratch.get_mut(slot * words..(slot + 1) * words) else {
                    continue;
                };
                let (start, len) = (e.start as usize, e.len as usize);
                if e.dense {
                    let Some(owners) = self.dense.get(start..start + len) else {
                        continue;
                    };
                    for (a, &o) in acc.iter_mut().zip(owners) {
                        *a |= o;
                    }
                } else {
                    for &o in self.sparse.get(start..start + len).unwrap_or(&[]) {
                        set_bit(acc, o as usize);
                    }
                }
            }
        }
        b.refused.clear();
        b.refused.resize(words, 0);
        let (s0, rest) = b.scratch.split_at(words.min(b.scratch.len()));
        let (s1, rest) = rest.split_at(words.min(rest.len()));
        let (s2, s3) = rest.split_at(words.min(rest.len()));
        let [i0, i1, i2, i3] = &self.invert;
        for (w, out) in b.refused.iter_mut().enumerate() {
            let h = |s: &[u64], i: &[u64]| {
                s.get(w).copied().unwrap_or(0) ^ i.get(w).copied().unwrap_or(0)
            };
            let pass = (h(s0, i0) & h(s1, i1)) | (h(s2, i2) & h(s3, i3));
            *out = !pass;
        }
        if let Some(last) = b.refused.last_mut() {
            if self.owners % 64 != 0 {
                *last &= (1 << (self.owners % 64)) - 1;
            }
        }
        for &(owner, f) in &self.other {
            let refused = !call.filter(f);
            if let Some(w) = call.b.refused.get_mut(owner as usize / 64) {
                *w |= u64::from(refused) << (owner % 64);
            }
        }
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

/// The positive test of a condition, values folded / parsed.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Test {
    /// No usable value (an empty list, no parsable number): never holds.
    Never,
    Exists,
    /// Folded strings, sorted (each an atom with the key).
    InWords(Box<[Box<str>]>),
    /// Sorted, deduplicated.
    InNumbers(Box<[Decimal]>),
    Contains(Box<[Box<str>]>),
    StartsWith(Box<[Box<str>]>),
    TextCmp(Cmp, Box<str>),
    NumberCmp(Cmp, Decimal),
}

impl Test {
    /// Whether some of `values` (of the test's key, texts in `text`)
    /// satisfies the test.
    fn holds(&self, values: &[Value], text: &str) -> bool {
        let folded = |v: &Value| text.get(v.folded.start as usize..v.folded.end as usize);
        let number = |v: &Value| v.number.as_ref().map(|p| View::of(text, p));
        match self {
            Test::Never => false,
            Test::Exists => values.iter().any(|v| !v.folded.is_empty()),
            Test::InWords(set) => (values.iter().filter_map(folded))
                .any(|t| set.binary_search_by(|w| (**w).cmp(t)).is_ok()),
            Test::InNumbers(set) => values.iter().any(|v| {
                number(v).is_some_and(|n| set.binary_search_by(|s| s.view().cmp(n)).is_ok())
            }),
            Test::Contains(xs) => {
                (values.iter().filter_map(folded)).any(|t| xs.iter().any(|x| t.contains(&**x)))
            }
            Test::StartsWith(xs) => {
                (values.iter().filter_map(folded)).any(|t| xs.iter().any(|x| t.starts_with(&**x)))
            }
            Test::TextCmp(cmp, bound) => {
                (values.iter().filter_map(folded)).any(|t| cmp.holds(t.cmp(&**bound)))
            }
            Test::NumberCmp(cmp, bound) => values
                .iter()
                .any(|v| number(v).is_some_and(|n| cmp.holds(n.cmp(bound.view())))),
        }
    }
}

impl CompiledFilter {
    /// `Ok` when some rule has all its conditions holding for `call`; else
    /// the first failing condition of the first rule.
    ///
    /// `call` must come from the table that compiled this filter. Each
    /// condition is a test of the call's atoms. It never allocates.
    pub fn matches<'a>(&'a self, call: &'a PreparedCall<'_>) -> Result<(), Mismatch<'a>> {
        if call.filter(self.id) {
            return Ok(());
        }
        let table = call.table;
        let first = (table.filters.get(self.id as usize)).and_then(|rules| rules.first());
        let at = first.map(|rule| {
            let c = rule.iter().position(|&c| !call.condition(c));
            // a failing filter fails its first rule somewhere
            (0, c.unwrap_or(0))
        });
        let key = first
            .and_then(|rule| rule.get(at.map_or(0, |a| a.1)))
            .and_then(|&c| table.conds.get(c as usize))
            .map(|c| c.key);
        Err(Mismatch {
            filter: self,
            at,
            key,
            text: &call.b.text,
            values: &call.b.values,
            slots: &call.b.slots,
        })
    }

    /// Whether `call` matches (see [`CompiledFilter::matches`]).
    #[inline]
    pub fn is_match(&self, call: &PreparedCall<'_>) -> bool {
        call.filter(self.id)
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
