//! The core's modules depend on each other one way: the graph of
//! `crate::<module>` paths in each module's non-test code has no cycle
//! (a cycle is how two concepts start to leak into each other), and the
//! layers the docs name hold.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// Module → the modules its non-test code names.
type Graph = BTreeMap<String, BTreeSet<String>>;

/// Every `.rs` file under `dir`, test files (`tests.rs`) left out.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = fs::read_dir(dir).expect("read_dir").flatten().collect();
    entries.sort_by_key(|e| e.path());
    for e in entries {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") && !p.ends_with("tests.rs") {
            out.push(p);
        }
    }
}

/// Module name → the text of the files that make it up (`m.rs` plus
/// `m/**`, or `m/**`).
fn modules(src: &Path) -> BTreeMap<String, Vec<String>> {
    let mut mods = BTreeMap::new();
    for e in fs::read_dir(src).expect("read_dir src").flatten() {
        let p = e.path();
        let name = p.file_stem().unwrap().to_string_lossy().into_owned();
        if name == "lib" {
            continue;
        }
        let mut files = Vec::new();
        if p.is_dir() {
            rust_files(&p, &mut files);
        } else if p.extension().is_some_and(|x| x == "rs") {
            files.push(p);
        }
        let texts: &mut Vec<String> = mods.entry(name).or_default();
        texts.extend(files.iter().map(|f| fs::read_to_string(f).expect("read")));
    }
    mods
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// `text` with comments and the contents of string and char literals
/// blanked (newlines kept): paths and braces in them are not code.
fn code_only(text: &str) -> String {
    let s: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let blank = |out: &mut String, span: &[char]| {
        out.extend(span.iter().map(|&c| if c == '\n' { '\n' } else { ' ' }));
    };
    let mut i = 0;
    while i < s.len() {
        let start = i;
        if s[i] == '/' && s.get(i + 1) == Some(&'/') {
            while i < s.len() && s[i] != '\n' {
                i += 1;
            }
        } else if s[i] == '/' && s.get(i + 1) == Some(&'*') {
            // block comments nest
            let mut depth = 0;
            while i < s.len() {
                if s[i] == '/' && s.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if s[i] == '*' && s.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if let Some(end) = raw_string_end(&s, i) {
            i = end;
        } else if s[i] == '"' {
            i += 1;
            while i < s.len() && s[i] != '"' {
                i += if s[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
        } else if s[i] == '\'' && s.get(i + 1) == Some(&'\\') {
            // an escape: `'\''`, `'\n'`, `'\u{7f}'`
            i += 3;
            while i < s.len() && s[i] != '\'' {
                i += 1;
            }
            i += 1;
        } else if s[i] == '\'' && s.get(i + 2) == Some(&'\'') {
            i += 3;
        } else {
            out.push(s[i]);
            i += 1;
            continue;
        }
        let end = i.min(s.len());
        blank(&mut out, &s[start..end]);
        i = end;
    }
    out
}

/// Where the raw string (`r"…"`, `r#"…"#`, `br"…"`) starting at `i` ends.
fn raw_string_end(s: &[char], i: usize) -> Option<usize> {
    let r = match s[i] {
        'r' => i,
        'b' if s.get(i + 1) == Some(&'r') => i + 1,
        _ => return None,
    };
    if i > 0 && is_ident(s[i - 1]) {
        return None;
    }
    let hashes = s[r + 1..].iter().take_while(|&&c| c == '#').count();
    let open = r + 1 + hashes;
    if s.get(open) != Some(&'"') {
        return None;
    }
    let mut j = open + 1;
    while j < s.len() {
        if s[j] == '"' && s[j + 1..].iter().take_while(|&&c| c == '#').count() >= hashes {
            return Some(j + 1 + hashes);
        }
        j += 1;
    }
    Some(s.len())
}

/// `code` (see [`code_only`]) without the items under `#[cfg(test)]`:
/// from the attribute to the end of the item it marks, a `;` or the
/// `{ … }` block, braces balanced.
fn without_test_items(code: &str) -> String {
    const ATTR: &str = "#[cfg(test)]";
    let mut out = String::with_capacity(code.len());
    let mut rest = code;
    while let Some(at) = rest.find(ATTR) {
        out.push_str(&rest[..at]);
        let item = &rest[at + ATTR.len()..];
        let (mut nesting, mut braces) = (0i32, 0i32);
        let mut end = item.len();
        for (j, c) in item.char_indices() {
            match c {
                '(' | '[' => nesting += 1,
                ')' | ']' => nesting -= 1,
                ';' if nesting == 0 && braces == 0 => {
                    end = j + 1;
                    break;
                }
                '{' => braces += 1,
                '}' => {
                    braces -= 1;
                    if braces == 0 {
                        end = j + 1;
                        break;
                    }
                }
                _ => {}
            }
        }
        rest = &item[end..];
    }
    out.push_str(rest);
    out
}

/// The modules of `known` but `own` that `texts` name as `crate::<m>` in
/// code, outside comments, literals and `#[cfg(test)]` items.
fn deps(texts: &[String], known: &BTreeSet<String>, own: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for text in texts {
        let code = without_test_items(&code_only(text));
        for (i, _) in code.match_indices("crate::") {
            if code[..i].chars().next_back().is_some_and(is_ident) {
                continue;
            }
            let name: String = code[i + 7..]
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
                .collect();
            if name != own && known.contains(&name) {
                out.insert(name);
            }
        }
    }
    out
}

/// A cycle of `graph`, if any (depth-first search with colours).
fn find_cycle(graph: &Graph) -> Option<Vec<String>> {
    fn visit(
        v: &str,
        graph: &Graph,
        state: &mut BTreeMap<String, u8>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        state.insert(v.to_string(), 1);
        path.push(v.to_string());
        for w in &graph[v] {
            match state.get(w.as_str()).copied().unwrap_or(0) {
                0 => {
                    if let Some(c) = visit(w, graph, state, path) {
                        return Some(c);
                    }
                }
                1 => {
                    let at = path.iter().position(|p| p == w).unwrap();
                    let mut cycle = path[at..].to_vec();
                    cycle.push(w.clone());
                    return Some(cycle);
                }
                _ => {}
            }
        }
        path.pop();
        state.insert(v.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for v in graph.keys() {
        if state.get(v.as_str()).copied().unwrap_or(0) == 0 {
            if let Some(c) = visit(v, graph, &mut state, &mut Vec::new()) {
                return Some(c);
            }
        }
    }
    None
}

fn graph_of(mods: &BTreeMap<String, Vec<String>>) -> Graph {
    let known: BTreeSet<String> = mods.keys().cloned().collect();
    mods.iter()
        .map(|(m, texts)| (m.clone(), deps(texts, &known, m)))
        .collect()
}

fn core_sources() -> BTreeMap<String, Vec<String>> {
    modules(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"))
}

/// Lower layers that must not name the higher ones (the docs' layering:
/// counters <- eligibility <- lifecycle, the caller history below the
/// eligibility that judges it, zone clocks below business hours).
const LAYERS: [(&str, &str); 6] = [
    ("counters", "eligibility"),
    ("counters", "lifecycle"),
    ("eligibility", "lifecycle"),
    ("caller_history", "eligibility"),
    ("model", "caller_history"),
    ("zone", "hours"),
];

/// What is wrong with `graph`: a cycle, and each lower layer naming a
/// higher one.
fn violations(graph: &Graph) -> Vec<String> {
    let mut found = Vec::new();
    if let Some(cycle) = find_cycle(graph) {
        found.push(format!("module dependency cycle: {}", cycle.join(" -> ")));
    }
    for (low, high) in LAYERS {
        if graph[low].contains(high) {
            found.push(format!("{low} depends on {high}: {:?}", graph[low]));
        }
    }
    found
}

#[test]
fn the_core_modules_are_layered_without_cycles() {
    let graph = graph_of(&core_sources());
    assert!(graph.len() > 20, "found only {:?}", graph.keys());
    assert!(graph["eligibility"].contains("counters"));
    assert!(graph["lifecycle"].contains("eligibility"));
    let found = violations(&graph);
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn a_zone_to_hours_edge_past_the_tests_fails() {
    let mut sources = core_sources();
    let zone = &mut sources.get_mut("zone").expect("zone.rs")[0];
    // planted at the end of zone.rs, below its `#[cfg(test)]` items
    assert!(zone.contains("#[cfg(test)]"));
    zone.push_str("\nuse crate::hours::WeeklyHours;\n");
    let found = violations(&graph_of(&sources));
    let all = found.join("\n");
    assert!(
        found.iter().any(|v| v.starts_with("zone depends on hours")),
        "{all}"
    );
    assert!(
        found
            .iter()
            .any(|v| v.starts_with("module dependency cycle")
                && (v.contains("zone -> hours") || v.contains("hours -> zone"))),
        "{all}"
    );
}

#[test]
fn only_test_items_comments_and_literals_are_skipped() {
    let text = r####"
use crate::a;
#[cfg(test)]
use crate::b;
#[cfg(test)]
mod tests {
    use crate::c;
    fn braces() {
        let s = "}";
        let c = '}';
        let r = r#"} crate::c"#;
        let q = '\'';
    }
}
// crate::d in a comment
/* crate::e in a /* nested */ block comment */
const S: &str = "crate::f \" }";
fn g<'a>(x: &'a str) -> &'a str {
    crate::g::h(x)
}
#[cfg(test)]
const T: [u8; 2] = [1; 2];
fn after() -> u32 {
    notcrate::h::x() + crate::h::y()
}
"####;
    let known: BTreeSet<String> = ["a", "b", "c", "d", "e", "f", "g", "h"]
        .map(String::from)
        .into();
    let names = deps(&[text.to_string()], &known, "own");
    assert_eq!(names, ["a", "g", "h"].map(String::from).into());
}

#[test]
fn the_cycle_finder_finds_a_cycle() {
    let g: Graph = [
        ("a", vec!["b"]),
        ("b", vec!["c"]),
        ("c", vec!["a"]),
        ("d", vec![]),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.into_iter().map(String::from).collect()))
    .collect();
    assert_eq!(
        find_cycle(&g),
        Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
    );
}
