//! `cargo xtask conformance <folder>`: the stage binaries on the real TLC files of a folder
//! laid out like the CDN (`trip-data/<kind>_tripdata_<YYYY-MM>.parquet`, `misc/`,
//! `samples/<kind>_<YYYY-MM>_head/*.parquet`), against a throwaway PostgreSQL server.
//!
//! Real files are the check that the generator's eras match the TLC's; the project's own
//! tests never need them. For each file: it is laid into a temp lake, loaded by
//! `atl-warehouse load`, `atl-warehouse audit` compares every column with the Parquet, and
//! `atl-mart build` moves it to a second server, where every row must end in the fact
//! table or in the rejects (it fails otherwise).

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use atl_devservices::PgServer;

use crate::stages::{self, Profile};

pub fn run(folder: &Path) -> anyhow::Result<()> {
    let folder = folder.canonicalize().with_context(|| format!("no folder {}", folder.display()))?;
    let lake = tempfile::tempdir().context("creating a temp lake")?;
    let kinds = lay_out(&folder, lake.path())?;
    if kinds.is_empty() {
        bail!("no TLC Parquet file found under {}", folder.display());
    }
    stages::build(Profile::Debug)?;
    let warehouse = PgServer::temp().context("starting a throwaway warehouse server")?;
    let mart = PgServer::temp().context("starting a throwaway mart server")?;
    let (url, mart_url) = (warehouse.url("postgres"), mart.url("postgres"));
    let lake_url = format!("file://{}", lake.path().display());
    for kind in kinds {
        stage("atl-warehouse", &["--warehouse", &url, "--lake", &lake_url, "load", "--kind", &kind])?;
        stage("atl-warehouse", &["--warehouse", &url, "--lake", &lake_url, "audit", "--kind", &kind])?;
        stage(
            "atl-mart",
            &["--warehouse", &url, "--mart", &mart_url, "--lake", &lake_url, "build", "--kind", &kind],
        )?;
    }
    Ok(())
}

/// Copies each real file to its lake key; returns the kinds found. A sample folder's first
/// part stands for its month (the lake holds one object per month).
fn lay_out(folder: &Path, lake: &Path) -> anyhow::Result<Vec<String>> {
    let mut kinds = Vec::new();
    let mut place = |kind: &str, month: &str, from: &Path| -> anyhow::Result<()> {
        let year = &month[..4];
        let to = lake.join(kind).join(year).join(format!("{kind}_tripdata_{month}.parquet"));
        std::fs::create_dir_all(to.parent().expect("has a parent"))?;
        std::fs::copy(from, &to).with_context(|| format!("copying {}", from.display()))?;
        println!("lake  {} <- {}", to.strip_prefix(lake)?.display(), from.display());
        if !kinds.iter().any(|k| k == kind) {
            kinds.push(kind.to_owned());
        }
        Ok(())
    };
    for entry in sorted(&folder.join("trip-data"))? {
        let name = entry.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
        if let Some((kind, month)) = name.strip_suffix(".parquet").and_then(|n| n.split_once("_tripdata_")) {
            place(kind, month, &entry)?;
        }
    }
    let zones = folder.join("misc/taxi_zone_lookup.csv");
    if zones.is_file() {
        std::fs::create_dir_all(lake.join("reference"))?;
        std::fs::copy(&zones, lake.join("reference/taxi_zone_lookup.csv"))?;
    }
    for sample in sorted(&folder.join("samples"))? {
        let name = sample.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
        let mut parts = name.splitn(3, '_');
        if let (Some(kind), Some(month)) = (parts.next(), parts.next())
            && let Some(first) =
                sorted(&sample)?.into_iter().find(|p| p.extension().is_some_and(|e| e == "parquet"))
        {
            place(kind, month, &first)?;
        }
    }
    Ok(kinds)
}

fn sorted(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let mut paths: Vec<PathBuf> =
        std::fs::read_dir(dir)?.map(|e| e.map(|e| e.path())).collect::<Result<_, _>>()?;
    paths.sort();
    Ok(paths)
}

fn stage(binary: &str, args: &[&str]) -> anyhow::Result<()> {
    stages::run(Profile::Debug, binary, args, &std::env::temp_dir(), &[])
}
