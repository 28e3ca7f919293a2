//! The viz crate's modules are layers (issue 29): each imports only from the layers below
//! it, never from its own layer or one above, so no two modules can import each other. Every
//! `crate::` path of every source file (its `use` lines and paths written in code; comments
//! are not read) is checked against the table below, which `src/lib.rs` describes, and
//! what a layer must not touch (sqlx in the model, plotters in a page) is checked too.

use std::path::{Path, PathBuf};

/// Bottom to top.
const LAYERS: [&[&str]; 7] = [
    &["numbers", "filter", "palette", "html"],
    &["error"],
    &["model"],
    &["query", "chart", "role"],
    &["page", "png"],
    &["dashboard", "eda"],
    &["serve"],
];

/// Crates a layer's modules must not name: the model is the figures only, the charts do not
/// query, the queries do not draw, the pages neither.
const FORBIDDEN: [(&str, &[&str]); 4] = [
    ("model", &["sqlx", "plotters", "maud"]),
    ("query", &["plotters", "maud"]),
    ("chart", &["sqlx"]),
    ("page", &["sqlx", "plotters"]),
];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| layer.contains(&module))
}

/// The top-level module a source file belongs to (`src/query/eda/sql.rs` → `query`);
/// `None` for the crate root and the binary.
fn module_of(relative: &Path) -> Option<String> {
    let first = relative.components().next()?.as_os_str().to_str()?;
    match first {
        "lib.rs" | "main.rs" => None,
        file => Some(file.trim_end_matches(".rs").to_owned()),
    }
}

/// The code of `source` without its comments (line comments, doc comments, block comments)
/// and string literals' contents, so that a path in a comment or a message is not an import.
fn code_of(source: &str) -> String {
    let mut out = String::with_capacity(source.len());
    let mut chars = source.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '/' if chars.peek() == Some(&'/') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'*') => {
                let mut last = ' ';
                for c in chars.by_ref() {
                    if last == '*' && c == '/' {
                        break;
                    }
                    last = c;
                }
            }
            '"' => {
                out.push('"');
                let mut escaped = false;
                for c in chars.by_ref() {
                    if c == '"' && !escaped {
                        break;
                    }
                    escaped = c == '\\' && !escaped;
                }
                out.push('"');
            }
            // A char literal such as '"' or '{' (a lifetime has no closing quote near).
            '\'' => {
                let rest: String = chars.clone().take(3).collect();
                let len =
                    if rest.starts_with('\\') { rest.find('\'').filter(|i| *i > 1) } else { rest.find('\'') };
                match len {
                    Some(1) | Some(2) => {
                        for _ in 0..=len.unwrap_or(0) {
                            chars.next();
                        }
                        out.push_str("' '");
                    }
                    _ => out.push('\''),
                }
            }
            c => out.push(c),
        }
    }
    out
}

/// The top-level modules that `code` names after `crate::`, with `use crate::{a, b::c}`
/// groups opened.
fn crate_modules(code: &str) -> Vec<String> {
    let ident = |s: &str| s.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect::<String>();
    let mut found = Vec::new();
    for (at, _) in code.match_indices("crate::") {
        // `$crate::` in a macro is this crate too; `atl_core::` and the like are other crates.
        let before = code[..at].chars().last();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
            continue;
        }
        let rest = &code[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 0;
            let mut start = true;
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => start = true,
                    c if c.is_whitespace() => {}
                    _ if start => {
                        start = false;
                        found.push(ident(&group[i..]));
                    }
                    _ => {}
                }
            }
        } else {
            found.push(ident(rest));
        }
    }
    found.retain(|m| !m.is_empty() && m != "self");
    found
}

/// Every violation of the layers in one file of `module`.
fn violations(module: &str, file: &str, source: &str) -> Vec<String> {
    let code = code_of(source);
    let mut out = Vec::new();
    let Some(own) = layer_of(module) else {
        return vec![format!("{file}: module {module} is in no layer of tests/layers.rs")];
    };
    for used in crate_modules(&code) {
        if used == module {
            continue;
        }
        match layer_of(&used) {
            // A re-export at the crate root (`crate::Mart`) is the top of the crate.
            None => out.push(format!("{file}: crate::{used} is not a module of a layer below {module}")),
            Some(layer) if layer >= own => out.push(format!(
                "{file}: {module} (layer {own}) imports crate::{used} (layer {layer}), not a layer below"
            )),
            Some(_) => {}
        }
    }
    for (layer_module, crates) in FORBIDDEN {
        if layer_module == module {
            for name in crates {
                let named = code.match_indices(&format!("{name}::")).any(|(at, _)| {
                    !code[..at].chars().last().is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':')
                });
                if named {
                    out.push(format!("{file}: {module} must not use {name}"));
                }
            }
        }
    }
    out
}

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_module_imports_only_from_the_layers_below_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    files.sort();
    let mut problems = Vec::new();
    let mut checked = 0;
    for path in &files {
        let relative = path.strip_prefix(&src).unwrap();
        let Some(module) = module_of(relative) else { continue };
        let source = std::fs::read_to_string(path).unwrap();
        problems.extend(violations(&module, &relative.display().to_string(), &source));
        checked += 1;
    }
    assert!(checked >= 20, "only {checked} files read under {}", src.display());
    assert!(problems.is_empty(), "the layers are broken:\n{}", problems.join("\n"));

    // The table lists the crate's modules, no more, no fewer.
    let lib = std::fs::read_to_string(src.join("lib.rs")).unwrap();
    let mut declared: Vec<&str> =
        lib.lines().filter_map(|l| l.strip_prefix("pub mod ")?.strip_suffix(';')).collect();
    let mut table: Vec<&str> = LAYERS.iter().flat_map(|l| l.iter().copied()).collect();
    declared.sort_unstable();
    table.sort_unstable();
    assert_eq!(declared, table, "src/lib.rs's modules and the layer table differ");
}

#[test]
fn the_check_finds_an_import_going_up_or_sideways() {
    let model = "//! Uses crate::page in a comment only.\nuse crate::numbers::thousands;\nuse crate::{filter::Filter, page::{self, dashboard}};\nfn f() { let _ = crate::chart::all; let s = \"crate::serve\"; }\n";
    let found = violations("model", "model/x.rs", model);
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(found[0].contains("imports crate::page (layer 4)"), "{found:?}");
    assert!(found[1].contains("imports crate::chart (layer 3)"), "{found:?}");
    // Sideways: a module of the same layer.
    assert_eq!(violations("query", "query/x.rs", "use crate::chart::Chart;").len(), 1);
    assert!(
        violations("query", "query/x.rs", "use crate::model::Totals;\nuse crate::query::month_id;")
            .is_empty()
    );
    // The crate root's re-exports are above every layer.
    assert_eq!(violations("page", "page/x.rs", "fn f(m: crate::Mart) {}").len(), 1);
    // A module outside the table, and a crate a layer must not use.
    assert_eq!(violations("widgets", "widgets.rs", "").len(), 1);
    assert_eq!(violations("model", "model/x.rs", "use sqlx::FromRow;").len(), 1);
    assert!(violations("model", "model/x.rs", "// sqlx::FromRow is the query's\n").is_empty());
    assert_eq!(
        crate_modules("$crate::x; atl_core::raw::quote_ident; crate::a::b; other::crate::c"),
        ["x", "a"]
    );
}
