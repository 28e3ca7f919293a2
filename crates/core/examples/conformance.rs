//! Maps every Parquet file under a folder of real TLC data onto core's canonical schemas.
//!
//! `cargo run -p atl-core --example conformance -- ../shared/data/tlc`
//! The kind comes from the file or folder name (`yellow_…`, `green_…`, `fhv_…`, `fhvhv_…`). Exits 1 if any file
//! cannot be mapped.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::fs::File;
use std::path::{Path, PathBuf};

use atl_core::{SchemaMapping, TripKind};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

fn main() {
    let root = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "../shared/data/tlc".into()));
    let mut files = Vec::new();
    collect(&root, &mut files);
    files.sort();
    if files.is_empty() {
        eprintln!("no Parquet files under {}", root.display());
        std::process::exit(1);
    }
    let mut failed = 0;
    for path in &files {
        match map_file(path) {
            Ok((kind, rows, missing)) => {
                println!(
                    "ok    {kind:<6} {rows:>8} rows  {}  (absent: {})",
                    path.display(),
                    missing.join(", ")
                )
            }
            Err(e) => {
                failed += 1;
                println!("FAIL  {}: {e}", path.display());
            }
        }
    }
    println!("{} files mapped, {failed} failed", files.len() - failed);
    if failed > 0 {
        std::process::exit(1);
    }
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())).flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, files);
        } else if path.extension().is_some_and(|e| e == "parquet") {
            files.push(path);
        }
    }
}

fn map_file(path: &Path) -> Result<(TripKind, usize, Vec<String>), Box<dyn std::error::Error>> {
    let text = path.to_string_lossy();
    // `fhvhv_...` also starts with "fhv": match the kind and its underscore.
    let kind = TripKind::ALL
        .into_iter()
        .find(|k| text.rsplit('/').take(2).any(|part| part.starts_with(&format!("{k}_"))))
        .ok_or("cannot tell the kind from the path")?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(path)?)?.build()?;
    let mut mapping: Option<SchemaMapping> = None;
    let mut rows = 0;
    for batch in reader {
        let batch = batch?;
        let m = match &mapping {
            Some(m) => m,
            None => mapping.insert(SchemaMapping::new(kind, &batch.schema(), &text)?),
        };
        rows += m.apply(&batch)?.num_rows();
    }
    let missing =
        mapping.map(|m| m.missing_columns().iter().map(|s| s.to_string()).collect()).unwrap_or_default();
    Ok((kind, rows, missing))
}
