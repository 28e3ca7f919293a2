//! The workspace's shape as its docs state it: the crates depend on each other exactly as
//! docs/architecture.md draws it (its table "How the crates depend on each other" against
//! `cargo metadata`'s normal dependencies between workspace members, so neither the doc nor a
//! Cargo.toml can drift from the other), and a file in `crates/` over 400 lines says why.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

type Graph = BTreeMap<String, BTreeSet<String>>;

fn workspace() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap()
}

/// Every workspace member and the members it names as normal (not dev, not build)
/// dependencies.
fn cargo_graph() -> Graph {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--no-deps", "--offline", "--manifest-path"])
        .arg(workspace().join("Cargo.toml"))
        .output()
        .unwrap();
    assert!(output.status.success(), "cargo metadata: {}", String::from_utf8_lossy(&output.stderr));
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let packages = metadata["packages"].as_array().unwrap();
    let members: BTreeSet<String> = packages.iter().map(|p| p["name"].as_str().unwrap().to_owned()).collect();
    packages
        .iter()
        .map(|p| {
            let deps = p["dependencies"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|d| d["kind"].is_null())
                .map(|d| d["name"].as_str().unwrap().to_owned())
                .filter(|name| members.contains(name))
                .collect();
            (p["name"].as_str().unwrap().to_owned(), deps)
        })
        .collect()
}

/// The table under the doc's heading: `| `crate` | `dep`, `dep` (or none) | why |`.
fn drawn_graph(doc: &str) -> Graph {
    let heading = "## How the crates depend on each other";
    let section =
        doc.split_once(heading).unwrap_or_else(|| panic!("docs/architecture.md has no {heading:?}")).1;
    let section = section.split("\n## ").next().unwrap();
    let names =
        |cell: &str| -> BTreeSet<String> { cell.split('`').skip(1).step_by(2).map(str::to_owned).collect() };
    let mut graph = Graph::new();
    for row in section.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let krate = names(cells[1]).into_iter().next().unwrap();
        let deps = names(cells[2]);
        assert!(
            !deps.is_empty() || cells[2] == "none",
            "docs/architecture.md: {krate}'s dependencies are neither named in backquotes nor `none`: {row}"
        );
        assert!(graph.insert(krate.clone(), deps).is_none(), "docs/architecture.md draws {krate} twice");
    }
    graph
}

#[test]
fn the_crates_depend_on_each_other_as_the_architecture_doc_draws() {
    let doc = std::fs::read_to_string(workspace().join("docs/architecture.md")).unwrap();
    let drawn = drawn_graph(&doc);
    let actual = cargo_graph();
    let crates: BTreeSet<&String> = drawn.keys().chain(actual.keys()).collect();
    let mut differences = Vec::new();
    for krate in crates {
        match (drawn.get(krate), actual.get(krate)) {
            (None, _) => differences.push(format!("{krate} is a workspace member the doc does not draw")),
            (_, None) => differences.push(format!("{krate} is drawn but is no workspace member")),
            (Some(d), Some(a)) if d != a => {
                let missing: Vec<&String> = a.difference(d).collect();
                let extra: Vec<&String> = d.difference(a).collect();
                differences.push(format!(
                    "{krate}: Cargo.toml depends on {missing:?} the doc does not draw; the doc draws {extra:?} Cargo.toml does not name"
                ));
            }
            _ => {}
        }
    }
    assert!(
        differences.is_empty(),
        "docs/architecture.md and the Cargo.toml files differ:\n{}",
        differences.join("\n")
    );
}

#[test]
fn the_doc_table_is_read_as_written() {
    let doc = "## How the crates depend on each other\n\n| crate | depends on | why |\n|---|---|---|\n\
               | `a` | none | |\n| `b` | `a`, `c` | reads `x` |\n\n## Next\n| `d` | `a` | |\n";
    let graph = drawn_graph(doc);
    assert_eq!(graph.len(), 2, "{graph:?}");
    assert!(graph["a"].is_empty());
    assert_eq!(graph["b"], BTreeSet::from(["a".to_owned(), "c".to_owned()]));
}

/// Files longer than this are split, or say on their first line why they are not.
const LONG_FILE: usize = 400;

/// Not held to [`LONG_FILE`]: pg_dump output remade by its `make.sh`.
const LONG_FILE_EXEMPT: &[&str] = &["crates/mart/tests/fixtures/"];

fn source_files(dir: &Path, found: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            source_files(&path, found);
        } else if path.extension().is_some_and(|e| ["rs", "sql", "sh", "toml", "py"].iter().any(|x| e == *x))
        {
            found.push(path);
        }
    }
}

#[test]
fn every_long_file_in_crates_says_why_on_its_first_line() {
    let mut files = Vec::new();
    source_files(&workspace().join("crates"), &mut files);
    let mut unexplained = Vec::new();
    for path in files {
        let relative = path.strip_prefix(workspace()).unwrap().to_string_lossy().into_owned();
        if LONG_FILE_EXEMPT.iter().any(|prefix| relative.starts_with(prefix)) {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let lines = text.lines().count();
        let first = text.lines().next().unwrap_or_default();
        let explained = ["// ", "-- ", "# "]
            .iter()
            .any(|comment| first.strip_prefix(comment).is_some_and(|t| t.starts_with("Over 400 lines: ")));
        if lines > LONG_FILE && !explained {
            unexplained.push(format!("{relative} ({lines} lines)"));
        }
    }
    assert!(
        unexplained.is_empty(),
        "split these, or head them with a comment line `Over 400 lines: <why>`:\n{}",
        unexplained.join("\n")
    );
}
