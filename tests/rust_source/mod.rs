//! The workspace's Rust sources as module trees: which file is which module, and every path from
//! one module to another (the edges `tests/layout.rs` checks for cycles). A small lexer, not a
//! Rust parser: comments and literals are blanked, then `use` trees and `a::b::c` paths are read.
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::Path;

mod lex;

use lex::{blank, tokenize};

/// The library crates (directory, display name); each has `src/lib.rs`. The root crate's
/// `src/main.rs` is a thin binary over its library and is not part of the tree.
pub const LIBRARIES: [(&str, &str); 7] = [
    (".", "authbench"),
    ("contract", "authbench-contract"),
    ("util", "authbench-util"),
    ("procs", "authbench-procs"),
    ("servers", "authbench-servers"),
    ("loadgen", "authbench-loadgen"),
    ("report", "authbench-report"),
];

/// One crate: its files (paths relative to the workspace), and the edges between them.
pub struct Crate {
    pub name: String,
    pub files: Vec<String>,
    /// The module path of each file (`[]` for `lib.rs`).
    pub modules: Vec<Vec<String>>,
    pub edges: Vec<Edge>,
}

/// `from` names `to` by `path` (as written, for the failure message).
#[derive(Debug, Clone)]
pub struct Edge {
    pub from: usize,
    pub to: usize,
    pub path: String,
}

impl Crate {
    /// The top-level modules: files whose module path has one segment.
    pub fn top_level(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = (self.modules.iter().zip(&self.files))
            .filter(|(m, _)| m.len() == 1)
            .map(|(m, f)| (m[0].clone(), f.clone()))
            .collect();
        out.sort();
        out
    }
}

/// Every library crate and the benches of the workspace at `root`.
pub fn crates(root: &Path) -> Vec<Crate> {
    let mut out = Vec::new();
    for (dir, name) in LIBRARIES {
        let src = root.join(dir).join("src");
        let mut files = Vec::new();
        collect(&src, &src, &mut files);
        files.retain(|(rel, _)| !(dir == "." && rel == "main.rs"));
        let mut krate = parse_crate(name, files);
        let prefix = if dir == "." { "src".to_owned() } else { format!("{dir}/src") };
        krate.files = krate.files.iter().map(|f| format!("{prefix}/{f}")).collect();
        out.push(krate);
    }
    // benches/micro.rs and its modules in benches/micro/: one crate, `micro.rs` its root.
    let benches = root.join("benches");
    let mut files = Vec::new();
    collect(&benches.join("micro"), &benches.join("micro"), &mut files);
    if let Ok(text) = std::fs::read_to_string(benches.join("micro.rs")) {
        files.push(("lib.rs".to_owned(), text));
        let mut krate = parse_crate("benches/micro", files);
        krate.files = krate
            .files
            .iter()
            .map(|f| if f == "lib.rs" { "benches/micro.rs".to_owned() } else { format!("benches/micro/{f}") })
            .collect();
        out.push(krate);
    }
    out
}

fn collect(base: &Path, dir: &Path, out: &mut Vec<(String, String)>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            collect(base, &path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let rel = path.strip_prefix(base).unwrap().to_string_lossy().replace('\\', "/");
            out.push((rel, std::fs::read_to_string(&path).unwrap()));
        }
    }
}

/// The module path of a file relative to the crate root's directory (`lib.rs` → `[]`).
fn module_of(rel: &str) -> Vec<String> {
    let stem = rel.strip_suffix(".rs").unwrap_or(rel);
    let mut parts: Vec<String> = stem.split('/').map(str::to_owned).collect();
    if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
        parts.pop();
    }
    parts
}

/// Build one crate from `(path relative to the root's directory, source)`; the root is `lib.rs`.
pub fn parse_crate(name: &str, files: Vec<(String, String)>) -> Crate {
    let modules: Vec<Vec<String>> = files.iter().map(|(rel, _)| module_of(rel)).collect();
    let mut by_module: HashMap<Vec<String>, usize> =
        modules.iter().enumerate().map(|(i, m)| (m.clone(), i)).collect();
    let tokens: Vec<Vec<String>> = files.iter().map(|(_, src)| tokenize(&blank(src))).collect();
    // Inline modules (`mod tests { … }`) belong to the file that holds them.
    for (i, toks) in tokens.iter().enumerate() {
        for (path, _) in inline_modules(toks) {
            let mut full = modules[i].clone();
            full.extend(path);
            by_module.entry(full).or_insert(i);
        }
    }
    let mut edges = Vec::new();
    for (i, toks) in tokens.iter().enumerate() {
        edges.extend(file_edges(i, &modules[i], toks, &by_module));
    }
    Crate { name: name.to_owned(), files: files.into_iter().map(|(rel, _)| rel).collect(), modules, edges }
}

/// `(path of the inline module inside the file, index of its opening brace)`.
fn inline_modules(toks: &[String]) -> Vec<(Vec<String>, usize)> {
    let mut out = Vec::new();
    let mut stack: Vec<(String, usize)> = Vec::new();
    let mut depth = 0usize;
    for (i, t) in toks.iter().enumerate() {
        match t.as_str() {
            "{" => {
                depth += 1;
                if i >= 2 && toks[i - 2] == "mod" {
                    stack.push((toks[i - 1].clone(), depth));
                    out.push((stack.iter().map(|(n, _)| n.clone()).collect(), i));
                }
            }
            "}" => {
                if stack.last().is_some_and(|(_, d)| *d == depth) {
                    stack.pop();
                }
                depth = depth.saturating_sub(1);
            }
            _ => {}
        }
    }
    out
}

/// One leaf of a `use` tree: the full path and the name it binds (`None` for `*`).
fn use_leaves(
    toks: &[String],
    mut i: usize,
    prefix: &[String],
    out: &mut Vec<(Vec<String>, Option<String>)>,
) -> usize {
    let mut path = prefix.to_vec();
    loop {
        match toks.get(i).map(String::as_str) {
            Some("{") => {
                i += 1;
                while toks.get(i).is_some_and(|t| t != "}") {
                    i = use_leaves(toks, i, &path, out);
                    if toks.get(i).is_some_and(|t| t == ",") {
                        i += 1;
                    }
                }
                return i + 1;
            }
            Some("*") => {
                out.push((path, None));
                return i + 1;
            }
            Some("self") if !path.is_empty() => {
                let name = path.last().cloned();
                i += 1;
                let name = alias(toks, &mut i).or(name);
                out.push((path, name));
                return i;
            }
            Some(t) if t.chars().next().is_some_and(|ch| ch.is_alphabetic() || ch == '_') => {
                path.push(t.to_owned());
                i += 1;
                if toks.get(i).is_some_and(|t| t == "::") {
                    i += 1;
                    continue;
                }
                let name = path.last().cloned();
                let name = alias(toks, &mut i).or(name);
                out.push((path, name));
                return i;
            }
            Some("::") => i += 1,
            _ => return i + 1,
        }
    }
}

fn alias(toks: &[String], i: &mut usize) -> Option<String> {
    if toks.get(*i).is_some_and(|t| t == "as") {
        *i += 2;
        return toks.get(*i - 1).cloned();
    }
    None
}

/// Resolve `path` written in module `here` to the deepest module it names, and whether the whole
/// path is that module.
fn resolve(
    here: &[String],
    path: &[String],
    aliases: &HashMap<String, Vec<String>>,
    by_module: &HashMap<Vec<String>, usize>,
) -> Option<(Vec<String>, bool)> {
    let mut at: Vec<String>;
    let mut rest = path;
    match path.first()?.as_str() {
        "crate" => {
            at = Vec::new();
            rest = &path[1..];
        }
        "self" => {
            at = here.to_vec();
            rest = &path[1..];
        }
        "super" => {
            at = here.to_vec();
            while rest.first().is_some_and(|s| s == "super") {
                at.pop()?;
                rest = &rest[1..];
            }
        }
        first => {
            let mut child = here.to_vec();
            child.push(first.to_owned());
            if by_module.contains_key(&child) {
                at = child;
            } else {
                at = aliases.get(first)?.clone();
            }
            rest = &path[1..];
        }
    }
    let mut consumed = 0;
    for seg in rest {
        let mut next = at.clone();
        next.push(seg.clone());
        if !by_module.contains_key(&next) {
            break;
        }
        at = next;
        consumed += 1;
    }
    Some((at, consumed == rest.len()))
}

fn file_edges(
    file: usize,
    module: &[String],
    toks: &[String],
    by_module: &HashMap<Vec<String>, usize>,
) -> Vec<Edge> {
    // Inline modules open at this token, for the module each path is written in.
    let mut stack: Vec<(String, usize)> = Vec::new();
    let mut depth = 0usize;
    let mut edges = Vec::new();
    let mut aliases: HashMap<String, Vec<String>> = HashMap::new();
    let mut i = 0;
    let push = |to: &[String], path: String, edges: &mut Vec<Edge>| {
        if let Some(&to) = by_module.get(to) {
            edges.push(Edge { from: file, to, path });
        }
    };
    while i < toks.len() {
        let mut here = module.to_vec();
        here.extend(stack.iter().map(|(n, _)| n.clone()));
        let t = toks[i].as_str();
        let after_path = i > 0 && (toks[i - 1] == "::" || toks[i - 1] == "$");
        if t == "{" {
            depth += 1;
            if i >= 2 && toks[i - 2] == "mod" {
                stack.push((toks[i - 1].clone(), depth));
            }
        } else if t == "}" {
            if stack.last().is_some_and(|(_, d)| *d == depth) {
                stack.pop();
            }
            depth = depth.saturating_sub(1);
        } else if t == "use" && !after_path {
            let mut leaves = Vec::new();
            let end = use_leaves(toks, i + 1, &[], &mut leaves);
            for (path, name) in leaves {
                if let Some((target, whole)) = resolve(&here, &path, &aliases, by_module) {
                    push(&target, format!("use {}", path.join("::")), &mut edges);
                    if whole && let Some(name) = name {
                        aliases.insert(name, target);
                    }
                }
            }
            i = end;
            continue;
        } else if !after_path && toks.get(i + 1).is_some_and(|n| n == "::") && t != "mod" {
            let mut path = vec![t.to_owned()];
            let mut k = i + 1;
            while toks.get(k).is_some_and(|n| n == "::")
                && toks
                    .get(k + 1)
                    .is_some_and(|n| n.chars().next().is_some_and(|c| c.is_alphabetic() || c == '_'))
            {
                path.push(toks[k + 1].clone());
                k += 2;
            }
            if path.len() > 1
                && let Some((target, _)) = resolve(&here, &path, &aliases, by_module)
            {
                push(&target, path.join("::"), &mut edges);
            }
            i = k;
            continue;
        }
        i += 1;
    }
    edges
}
