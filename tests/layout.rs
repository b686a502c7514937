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

/// Every path `text` names that starts at one of the repository's top-level entries (`roots`),
/// brace groups expanded: `servers/src/{api,kind}.rs` names two files.
fn paths_named(text: &str, roots: &[String]) -> std::collections::BTreeSet<String> {
    let mut tokens = Vec::new();
    let (mut current, mut depth) = (String::new(), 0);
    for c in text.chars().chain(std::iter::once(' ')) {
        let keep = c.is_ascii_alphanumeric()
            || matches!(c, '_' | '.' | '-' | '/' | '{' | '}')
            || (c == ',' && depth > 0);
        if keep {
            depth += usize::from(c == '{');
            depth = depth.saturating_sub(usize::from(c == '}'));
            current.push(c);
        } else {
            tokens.push(std::mem::take(&mut current));
            depth = 0;
        }
    }
    fn expand(t: &str) -> Vec<String> {
        let (Some(open), Some(close)) = (t.find('{'), t.find('}')) else { return vec![t.to_owned()] };
        t[open + 1..close]
            .split(',')
            .flat_map(|alt| expand(&format!("{}{alt}{}", &t[..open], &t[close + 1..])))
            .collect()
    }
    tokens
        .iter()
        .map(|t| t.trim_end_matches(['.', ',', ':']))
        .filter(|t| roots.iter().any(|r| t.split('/').next() == Some(r.as_str())))
        .filter(|t| t.contains('/') || t.contains('.'))
        .flat_map(expand)
        .collect()
}

#[test]
fn the_readme_is_short_names_every_top_level_module_and_only_paths_that_exist() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let lines = readme.lines().count();
    assert!(lines <= 210, "README.md is {lines} lines: a newcomer reads it in five minutes (~200)");
    let roots: Vec<String> = std::fs::read_dir(root)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != "target" && !n.starts_with('.'))
        .collect();
    // An HTML comment marks what a later change fills in (the answer table): not a path yet.
    let mut prose = readme.clone();
    while let (Some(a), Some(b)) = (prose.find("<!--"), prose.find("-->")) {
        prose.replace_range(a..b + 3, "");
    }
    let named = paths_named(&prose, &roots);
    let missing: Vec<&String> = named.iter().filter(|p| !root.join(p).exists()).collect();
    assert!(missing.is_empty(), "README.md names paths that do not exist: {missing:?}");
    let mut unnamed = Vec::new();
    for krate in crates(root) {
        for (_, file) in krate.top_level() {
            // A module in a folder (`plot/mod.rs`) is named by its folder.
            let folder = file.strip_suffix("mod.rs");
            if !named.contains(&file) && !folder.is_some_and(|f| named.contains(f)) {
                unnamed.push(file);
            }
        }
    }
    assert!(unnamed.is_empty(), "README.md's \"Where things are\" does not name: {unnamed:?}");
}

#[test]
fn readme_paths_expand_brace_groups_and_skip_prose() {
    let roots = ["servers".to_owned(), "docs".to_owned()];
    let named = paths_named("see `servers/src/{api,kind}.rs`, docs/faults.md. I/O and login/me", &roots);
    let named: Vec<&str> = named.iter().map(String::as_str).collect();
    assert_eq!(named, ["docs/faults.md", "servers/src/api.rs", "servers/src/kind.rs"]);
}

/// The README's answer table is the reference's `answer.md`, which `authbench report` writes: no
/// figure in it can go stale.
#[test]
fn the_readme_answer_is_the_references_answer_md() {
    let readme =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let start = "<!-- answer: results/reference/answer.md, kept equal to it by tests/layout.rs -->\n";
    let from = readme.find(start).expect("README has the answer block") + start.len();
    let to = from + readme[from..].find("<!-- /answer -->").expect("the answer block ends");
    let answer = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("results/reference/answer.md"),
    )
    .unwrap();
    assert_eq!(
        &readme[from..to],
        answer,
        "README's answer differs from results/reference/answer.md: copy it in"
    );
}
