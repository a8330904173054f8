//! Bad input, tried systematically (SPEC §13): every bundled config is
//! mutated — field renames (one-letter typos of known fields, and any
//! rename in the native shape), type swaps, truncation, the wrong shape —
//! and each mutant must be refused with a JSON path, or be a valid config;
//! a renamed field the reader reads must never give a valid config that
//! means something else. Bounded: at most [`MAX_PER_KIND`] mutants of each
//! kind per file, all read in-process, and every [`CLI_EVERY`]th one also
//! through `routecap validate` (exit 2 and the same path).

use routecap_core::formats::{detect, parse_config, Format};
use serde_json::{Map, Value};

use super::cli_support::{json, run};

const FILES: [&str; 5] = [
    "examples/native.json",
    "examples/attributes.json",
    "examples/callers.json",
    "examples/retreaver.json",
    "examples/ringba.json",
];
const MAX_PER_KIND: usize = 80;
const CLI_EVERY: usize = 20;

/// Where a value sits: object keys and array indices from the root.
#[derive(Clone, Debug)]
enum Step {
    Key(String),
    Index(usize),
}

/// Every object field's path, in document order.
fn field_paths(v: &Value, at: &mut Vec<Step>, out: &mut Vec<Vec<Step>>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                at.push(Step::Key(k.clone()));
                out.push(at.clone());
                field_paths(x, at, out);
                at.pop();
            }
        }
        Value::Array(items) => {
            for (i, x) in items.iter().enumerate() {
                at.push(Step::Index(i));
                field_paths(x, at, out);
                at.pop();
            }
        }
        _ => {}
    }
}

fn parent_mut<'a>(doc: &'a mut Value, path: &[Step]) -> &'a mut Value {
    path[..path.len() - 1].iter().fold(doc, |v, s| match s {
        Step::Key(k) => &mut v[k.as_str()],
        Step::Index(i) => &mut v[*i],
    })
}

fn last_key(path: &[Step]) -> &str {
    match path.last() {
        Some(Step::Key(k)) => k,
        _ => unreachable!("field paths end in a key"),
    }
}

/// `doc` with the field at `path` renamed to `to` (None if `to` exists).
fn renamed(doc: &Value, path: &[Step], to: &str) -> Option<Value> {
    let mut out = doc.clone();
    let key = last_key(path).to_string();
    let obj: &mut Map<String, Value> = parent_mut(&mut out, path).as_object_mut()?;
    if obj.contains_key(to) {
        return None;
    }
    let v = obj.remove(&key)?;
    obj.insert(to.to_string(), v);
    Some(out)
}

/// `doc` with the field at `path` given a value of another JSON type.
fn swapped(doc: &Value, path: &[Step]) -> Value {
    let mut out = doc.clone();
    let key = last_key(path).to_string();
    let slot = &mut parent_mut(&mut out, path)[key.as_str()];
    *slot = match slot {
        Value::String(_) => Value::from(17),
        Value::Number(_) => Value::from("seventeen"),
        Value::Bool(_) => Value::from("yes"),
        Value::Array(_) => Value::Object(Map::new()),
        Value::Object(_) => Value::Array(Vec::new()),
        Value::Null => Value::from(true),
    };
    out
}

/// One-letter typos of a field name: the last letter dropped, doubled, and
/// a middle letter replaced.
fn typos(key: &str) -> Vec<String> {
    let chars: Vec<char> = key.chars().collect();
    let mut out = vec![
        chars[..chars.len() - 1].iter().collect::<String>(),
        format!("{key}{}", chars[chars.len() - 1]),
    ];
    let mid = chars.len() / 2;
    let mut replaced = chars.clone();
    replaced[mid] = if chars[mid] == 'q' { 'z' } else { 'q' };
    out.push(replaced.into_iter().collect());
    out.retain(|t| !t.is_empty() && !t.starts_with('$') && !t.starts_with("x-"));
    out
}

/// At most `n` items spread evenly over `items`.
fn spread<T: Clone>(items: &[T], n: usize) -> Vec<T> {
    if items.len() <= n {
        return items.to_vec();
    }
    (0..n).map(|i| items[i * items.len() / n].clone()).collect()
}

struct Tally {
    mutants: usize,
    refused: usize,
    cli_runs: usize,
}

impl Tally {
    /// Read `bytes` as `format`: refused with a path, or valid; `same` =
    /// the meaning must equal `original` when valid.
    fn judge(
        &mut self,
        what: &str,
        bytes: &[u8],
        format: Option<Format>,
        same: Option<&routecap_core::model::Config>,
    ) {
        self.mutants += 1;
        let parsed = parse_config(bytes, "mutant.json", format);
        match &parsed {
            Err(e) => {
                self.refused += 1;
                assert!(!e.path().is_empty(), "{what}: an error without a path: {e}");
            }
            Ok(config) => {
                if let Some(original) = same {
                    assert!(
                        config == original,
                        "{what}: accepted with a different meaning (a renamed field read silently)"
                    );
                }
            }
        }
        if self.mutants % CLI_EVERY == 0 {
            self.cli_runs += 1;
            let mut args = vec!["validate", "-", "--json"];
            if let Some(f) = format {
                args.extend(["--format", f.as_str()]);
            }
            let (code, out, err) = run(&args, bytes);
            let report = json(&out);
            match parsed {
                Err(e) => {
                    assert_eq!(code, 2, "{what}: {out} {err}");
                    let path = report["errors"][0]["path"].as_str().unwrap_or_default();
                    assert!(path.starts_with('$'), "{what}: {out}");
                    let reader = e.path();
                    assert!(
                        path == "$" || path.ends_with(reader.trim_start_matches('$')),
                        "{what}: path {path} vs {reader}"
                    );
                }
                Ok(_) => assert!(code == 0 && report["ok"] == true, "{what}: {out} {err}"),
            }
        }
    }
}

#[test]
fn every_mutant_of_every_example_is_refused_with_a_path_or_valid() {
    let mut tally = Tally {
        mutants: 0,
        refused: 0,
        cli_runs: 0,
    };
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../");
    for file in FILES {
        let text = std::fs::read_to_string(format!("{root}{file}")).unwrap();
        let doc: Value = serde_json::from_str(&text).unwrap();
        let shape = detect(&doc).unwrap();
        let original = parse_config(text.as_bytes(), file, None).unwrap();
        let mut fields = Vec::new();
        field_paths(&doc, &mut Vec::new(), &mut fields);

        // renames: a native field must never be read under another name;
        // in the imported shapes one-letter typos of names of 4+ letters
        // Ringba `stats` keys are target ids (data, not fields)
        let named: Vec<Vec<Step>> = fields
            .iter()
            .filter(|p| !matches!(p.len().checked_sub(2).map(|i| &p[i]), Some(Step::Key(k)) if k == "stats"))
            .cloned()
            .collect();
        for path in spread(&named, MAX_PER_KIND) {
            let key = last_key(&path).to_string();
            let mut names = typos(&key);
            if shape == Format::Routecap {
                names.push(format!("zz{key}"));
            } else if key.chars().count() < 4 {
                continue;
            }
            for to in names {
                if let Some(m) = renamed(&doc, &path, &to) {
                    let what = format!("{file}: {path:?} renamed to {to:?}");
                    tally.judge(
                        &what,
                        m.to_string().as_bytes(),
                        Some(shape),
                        Some(&original),
                    );
                }
            }
        }
        // type swaps: refused with a path, or a valid config
        for path in spread(&fields, MAX_PER_KIND) {
            let m = swapped(&doc, &path);
            let what = format!("{file}: {path:?} given another type");
            tally.judge(&what, m.to_string().as_bytes(), None, None);
        }
        // truncation: never a config
        for i in 1..=10 {
            let cut = text.len() * i / 11;
            let what = format!("{file}: cut at byte {cut}");
            tally.judge(&what, &text.as_bytes()[..cut], None, None);
            assert!(
                parse_config(&text.as_bytes()[..cut], file, None).is_err(),
                "{what}"
            );
        }
        // the wrong shape: refused
        for other in [Format::Routecap, Format::Retreaver, Format::Ringba] {
            if other != shape {
                let what = format!("{file} read as {other}");
                tally.judge(&what, text.as_bytes(), Some(other), None);
                assert!(
                    parse_config(text.as_bytes(), file, Some(other)).is_err(),
                    "{what}"
                );
            }
        }
    }
    assert!(
        tally.mutants > 500 && tally.refused > tally.mutants / 2,
        "{} mutants, {} refused",
        tally.mutants,
        tally.refused
    );
    assert!(tally.cli_runs >= 25, "{} CLI runs", tally.cli_runs);
}
