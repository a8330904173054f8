//! The core's modules depend on each other one way: the graph of
//! `crate::<module>` paths in each module's non-test code has no cycle
//! (a cycle is how two concepts start to leak into each other).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

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

/// Module name → the files that make it up (`m.rs` plus `m/**`, or `m/**`).
fn modules(src: &Path) -> BTreeMap<String, Vec<PathBuf>> {
    let mut mods = BTreeMap::new();
    for e in fs::read_dir(src).expect("read_dir src").flatten() {
        let p = e.path();
        let name = p.file_stem().unwrap().to_string_lossy().into_owned();
        if name == "lib" {
            continue;
        }
        let files: &mut Vec<PathBuf> = mods.entry(name.clone()).or_default();
        if p.is_dir() {
            rust_files(&p, files);
        } else if p.extension().is_some_and(|x| x == "rs") {
            files.push(p);
        }
    }
    mods
}

/// The modules `files` name as `crate::<m>` outside comments and
/// `#[cfg(test)]` items (everything after the first such attribute).
fn deps(files: &[PathBuf], known: &BTreeSet<String>, own: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for f in files {
        let text = fs::read_to_string(f).expect("read");
        for line in text.lines() {
            if line.contains("#[cfg(test)]") {
                break;
            }
            let code = line.split("//").next().unwrap_or("");
            for (i, _) in code.match_indices("crate::") {
                let name: String = code[i + 7..]
                    .chars()
                    .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                    .collect();
                if name != own && known.contains(&name) {
                    out.insert(name);
                }
            }
        }
    }
    out
}

/// A cycle of `graph`, if any (depth-first search with colours).
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        v: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
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

fn core_graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mods = modules(&src);
    let known: BTreeSet<String> = mods.keys().cloned().collect();
    mods.iter()
        .map(|(m, files)| (m.clone(), deps(files, &known, m)))
        .collect()
}

#[test]
fn the_core_modules_have_no_dependency_cycle() {
    let graph = core_graph();
    assert!(graph.len() > 20, "found only {:?}", graph.keys());
    if let Some(cycle) = find_cycle(&graph) {
        panic!("module dependency cycle: {}", cycle.join(" -> "));
    }
}

#[test]
fn the_layering_named_in_the_docs_holds() {
    let graph = core_graph();
    // counters <- eligibility <- lifecycle, and the caller history below
    // the eligibility that judges it
    assert!(graph["eligibility"].contains("counters"));
    assert!(graph["lifecycle"].contains("eligibility"));
    for (low, high) in [
        ("counters", "eligibility"),
        ("counters", "lifecycle"),
        ("eligibility", "lifecycle"),
        ("callers", "eligibility"),
        ("model", "callers"),
        ("zone", "hours"),
    ] {
        assert!(
            !graph[low].contains(high),
            "{low} depends on {high}: {:?}",
            graph[low]
        );
    }
}

#[test]
fn the_cycle_finder_finds_a_cycle() {
    let g: BTreeMap<String, BTreeSet<String>> = [
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
