//! No import cycle inside any crate of the workspace (issue 24): every `crate::m`, `super::m` and
//! `self::m` path — in `use` trees, signatures and bodies, test modules included — and every path
//! through a module brought into scope (`use super::phase; phase::checks::run()`) is an edge from
//! the file it is written in to the file of the module it names (an item of `lib.rs` or `mod.rs`,
//! a re-export included, is an edge to that file). `mod` declarations are not edges. Each crate's
//! file graph must have no cycle; a failure names every circle and the paths that close it.

mod rust_source;

use std::collections::BTreeMap;
use std::path::Path;

use rust_source::{Crate, Edge, crates};

/// Strongly connected components of more than one file (Tarjan, iterative enough for ~100 files).
fn circles(files: &[String], edges: &[Edge]) -> Vec<Vec<usize>> {
    let n = files.len();
    let mut out: Vec<Vec<usize>> = vec![Vec::new(); n];
    for e in edges {
        if e.from != e.to && !out[e.from].contains(&e.to) {
            out[e.from].push(e.to);
        }
    }
    struct State {
        index: Vec<Option<usize>>,
        low: Vec<usize>,
        on_stack: Vec<bool>,
        stack: Vec<usize>,
        next: usize,
        found: Vec<Vec<usize>>,
    }
    fn visit(v: usize, out: &[Vec<usize>], s: &mut State) {
        s.index[v] = Some(s.next);
        s.low[v] = s.next;
        s.next += 1;
        s.stack.push(v);
        s.on_stack[v] = true;
        for &w in &out[v] {
            match s.index[w] {
                None => {
                    visit(w, out, s);
                    s.low[v] = s.low[v].min(s.low[w]);
                }
                Some(i) if s.on_stack[w] => s.low[v] = s.low[v].min(i),
                Some(_) => {}
            }
        }
        if Some(s.low[v]) == s.index[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack[w] = false;
                component.push(w);
                if w == v {
                    break;
                }
            }
            if component.len() > 1 {
                component.sort();
                s.found.push(component);
            }
        }
    }
    let mut s = State {
        index: vec![None; n],
        low: vec![0; n],
        on_stack: vec![false; n],
        stack: Vec::new(),
        next: 0,
        found: Vec::new(),
    };
    for v in 0..n {
        if s.index[v].is_none() {
            visit(v, &out, &mut s);
        }
    }
    s.found
}

fn describe(krate: &Crate, circle: &[usize]) -> String {
    let mut lines = vec![format!(
        "{}: {} files in a circle: {}",
        krate.name,
        circle.len(),
        circle.iter().map(|&f| krate.files[f].as_str()).collect::<Vec<_>>().join(", ")
    )];
    let mut why: BTreeMap<(usize, usize), Vec<&str>> = BTreeMap::new();
    for e in krate.edges.iter().filter(|e| e.from != e.to) {
        if circle.contains(&e.from) && circle.contains(&e.to) {
            let paths = why.entry((e.from, e.to)).or_default();
            if !paths.contains(&e.path.as_str()) && paths.len() < 3 {
                paths.push(&e.path);
            }
        }
    }
    for ((from, to), paths) in why {
        lines.push(format!("  {} -> {}: {}", krate.files[from], krate.files[to], paths.join(", ")));
    }
    lines.join("\n")
}

#[test]
fn no_crate_has_an_import_cycle() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let crates = crates(root);
    assert!(crates.len() >= 7, "found only {} crates", crates.len());
    let mut failures = Vec::new();
    for krate in &crates {
        for circle in circles(&krate.files, &krate.edges) {
            failures.push(describe(krate, &circle));
        }
    }
    assert!(failures.is_empty(), "import cycles:\n{}", failures.join("\n"));
}

#[test]
fn the_checker_sees_paths_in_bodies_and_through_imported_modules() {
    let files = [
        ("lib.rs", "mod a;\nmod b;\npub use a::Thing;\n"),
        ("a.rs", "pub struct Thing;\nfn f() { let _ = crate::b::g(); }\n"),
        ("b/mod.rs", "mod c;\nmod e;\nuse super::a; // crate::c in a comment is no edge\n"),
        ("b/c.rs", "fn h() -> char { let _ = \"crate::a\"; let _ = r#\"super::e\"#; '\\'' }\n"),
        ("b/e.rs", "fn l<'a>(x: &'a u8) { super::super::a::Thing; }\n"),
        ("d.rs", "use crate::{a::{self}, b};\nfn k() { b::c::h(); a::Thing; }\n"),
    ];
    let krate =
        rust_source::parse_crate("t", files.iter().map(|(p, s)| (p.to_string(), s.to_string())).collect());
    let edges: Vec<(&str, &str)> =
        krate.edges.iter().map(|e| (krate.files[e.from].as_str(), krate.files[e.to].as_str())).collect();
    for expected in [
        ("lib.rs", "a.rs"),
        ("a.rs", "b/mod.rs"),
        ("b/mod.rs", "a.rs"),
        ("b/e.rs", "a.rs"),
        ("d.rs", "a.rs"),
        ("d.rs", "b/mod.rs"),
        ("d.rs", "b/c.rs"),
    ] {
        assert!(edges.contains(&expected), "missing {expected:?} in {edges:?}");
    }
    assert!(!edges.iter().any(|&(f, _)| f == "b/c.rs"), "strings are no edges: {edges:?}");
    assert_eq!(circles(&krate.files, &krate.edges).len(), 1, "a.rs <-> b/mod.rs");
}

/// Folders whose files are one topic each, drawn or written for that room: the report's charts
/// (`plot/`) and sections (`content/`) may share a topic's name, and nothing else may.
const ROOMS: [&str; 2] = ["report/src/plot/", "report/src/content/"];

#[test]
fn no_two_modules_of_one_crate_share_a_name() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut failures = Vec::new();
    for krate in crates(root) {
        let mut by_name: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for (module, file) in krate.modules.iter().zip(&krate.files) {
            // `plan/tests.rs` and the like: a test module is named for what it tests.
            if let Some(name) = module.last().filter(|n| *n != "tests") {
                by_name.entry(name).or_default().push(file);
            }
        }
        for (name, files) in by_name {
            let in_rooms = files.iter().all(|f| ROOMS.iter().any(|r| f.starts_with(r)));
            if files.len() > 1 && !in_rooms {
                failures.push(format!("{}: `{name}` names {}", krate.name, files.join(" and ")));
            }
        }
    }
    assert!(failures.is_empty(), "lookalike module names:\n{}", failures.join("\n"));
}
