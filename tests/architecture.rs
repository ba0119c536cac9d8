//! The plan of rooms in docs/ARCHITECTURE.md holds: no two modules import each other,
//! directly or through others. A module using its own parent or child (a `mod.rs` and the
//! files beside it) is one room and does not count.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

type Module = Vec<String>;

/// Every source file under `src/` as its module path (`src/db/pool.rs` is `db::pool`).
fn modules(dir: &Path, prefix: &[String], out: &mut BTreeMap<Module, String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        if path.is_dir() {
            let mut p = prefix.to_vec();
            p.push(name);
            modules(&path, &p, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let mut m = prefix.to_vec();
            if !matches!(name.as_str(), "mod" | "lib" | "main" | "build") {
                m.push(name);
            }
            out.insert(m, std::fs::read_to_string(&path).unwrap());
        }
    }
}

/// The paths a file names after `crate::`, `super::` or `self::`, with one level of braces
/// expanded (`super::{a, b::c}` names `super::a` and `super::b::c`). Comments are skipped.
fn paths(text: &str) -> Vec<Vec<String>> {
    let code: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let bytes = code.as_bytes();
    let ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let starts = ["crate::", "super::", "self::"]
            .into_iter()
            .find(|k| bytes[i..].starts_with(k.as_bytes()) && (i == 0 || !ident(bytes[i - 1])));
        let Some(kw) = starts else {
            i += 1;
            continue;
        };
        let mut segs = vec![kw.trim_end_matches("::").to_string()];
        let mut j = i + kw.len();
        loop {
            let s = j;
            while j < bytes.len() && ident(bytes[j]) {
                j += 1;
            }
            if j > s {
                segs.push(code[s..j].to_string());
            }
            if bytes[j..].starts_with(b"::{") {
                let close = bytes[j..]
                    .iter()
                    .position(|&c| c == b'}')
                    .map_or(bytes.len(), |k| j + k);
                for item in code[j + 3..close].split(',') {
                    let item = item.split(" as ").next().unwrap().trim();
                    if !item.is_empty() && item != "self" && !item.contains('{') {
                        let mut p = segs.clone();
                        p.extend(item.split("::").map(str::to_string));
                        out.push(p);
                    }
                }
                j = close;
                break;
            }
            if bytes[j..].starts_with(b"::") && j > s {
                j += 2;
                continue;
            }
            break;
        }
        out.push(segs);
        i = j.max(i + 1);
    }
    out
}

/// The module a path names: the longest prefix of it that is a module.
fn resolve(here: &Module, path: &[String], all: &BTreeMap<Module, String>) -> Option<Module> {
    let mut base: Module = match path[0].as_str() {
        "crate" => Vec::new(),
        "self" => here.clone(),
        _ => here[..here.len().saturating_sub(1)].to_vec(),
    };
    let mut rest = &path[1..];
    while rest.first().is_some_and(|s| s == "super") {
        base.pop();
        rest = &rest[1..];
    }
    let full: Module = base.iter().chain(rest).cloned().collect();
    (0..=full.len())
        .rev()
        .map(|n| full[..n].to_vec())
        .find(|m| all.contains_key(m))
}

#[test]
fn no_two_modules_import_each_other() {
    let mut all = BTreeMap::new();
    modules(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &[],
        &mut all,
    );
    assert!(all.len() > 50, "read {} modules", all.len());
    let mut edges: BTreeMap<Module, BTreeSet<Module>> = BTreeMap::new();
    for (m, text) in &all {
        let out = edges.entry(m.clone()).or_default();
        for p in paths(text) {
            let Some(t) = resolve(m, &p, &all) else {
                continue;
            };
            let related = t.starts_with(m) || m.starts_with(&t);
            if !related {
                out.insert(t);
            }
        }
    }
    assert!(
        edges[&vec!["engine".to_string()]].contains(&vec!["db".to_string()]),
        "the reader of paths finds the engine's use of the database"
    );
    // Each module with every module it reaches; a cycle is a module that reaches itself.
    let reach = |from: &Module| {
        let mut seen = BTreeSet::new();
        let mut todo: Vec<Module> = edges[from].iter().cloned().collect();
        while let Some(m) = todo.pop() {
            if seen.insert(m.clone()) {
                todo.extend(edges[&m].iter().cloned());
            }
        }
        seen
    };
    let cycles: Vec<String> = edges
        .keys()
        .filter(|m| reach(m).contains(*m))
        .map(|m| {
            let back: Vec<String> = edges[m]
                .iter()
                .filter(|t| reach(t).contains(m))
                .map(|t| t.join("::"))
                .collect();
            format!("{} <-> {}", m.join("::"), back.join(", "))
        })
        .collect();
    assert!(cycles.is_empty(), "modules in an import cycle: {cycles:#?}");
}
