//! `cargo xtask conformance <folder>`: the stage binaries on the real TLC files of a folder
//! laid out like the CDN (`trip-data/<kind>_tripdata_<YYYY-MM>.parquet`, `misc/`,
//! `samples/<kind>_<YYYY-MM>_head/*.parquet`), against a throwaway PostgreSQL server.
//!
//! Real files are the check that the generator's eras match the TLC's; the project's own
//! tests never need them. For each file: it is laid into a temp lake, loaded by
//! `atl-warehouse load`, `atl-warehouse audit` compares every column with the Parquet, and
//! `atl-mart build` moves it to a second server, where every row must end in the fact
//! table or in the rejects (it fails otherwise). With the zone shapefile and the TLC's
//! monthly indicators in the folder, the mart must hold a shape per shapefile record and,
//! for every whole official month the TLC reports on, trips per day on the TLC's definition
//! within [`TLC_TOLERANCE`] of the TLC's own figure, and so its farebox per day where it
//! gives one (total less the tips of card trips: sql/mart/README.md, "The TLC's farebox"),
//! each licence class as the dashboard compares it ([`TLC_COMPARISON`]).

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use atl_devservices::PgServer;

use crate::stages::{self, Profile};

/// How far ours (every recorded row picked up in the month) may be from the TLC's trips and
/// farebox per day: the TLC revises past months by about 0.1 % between releases.
const TLC_TOLERANCE: f64 = 0.005;

pub fn run(folder: &Path) -> anyhow::Result<()> {
    let folder = folder.canonicalize().with_context(|| format!("no folder {}", folder.display()))?;
    let lake = tempfile::tempdir().context("creating a temp lake")?;
    let (kinds, full_months) = lay_out(&folder, lake.path())?;
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
    check_reference(&mart, &full_months)
}

/// The dashboard's comparison with the TLC, per month and licence class, over the services
/// `$3` ($1..$2: yyyymm): the classes as the page groups them (a high-volume licence in its
/// kind's class, other FHV against the sum of the report's classes it is split into).
const TLC_COMPARISON: &str = include_str!("../../crates/viz/sql/tlc_comparison.sql");

/// The zone shapes and the TLC comparison of the mart built from the real files; only whole
/// official months (`trip-data/`, as `YYYYMM kind`) are compared, each over the services of
/// the kinds loaded whole for it, not the samples' heads.
fn check_reference(mart: &PgServer, full_months: &[String]) -> anyhow::Result<()> {
    let sql = |q: &str| mart.psql("postgres", q).with_context(|| format!("querying the mart: {q}"));
    let shapes = sql("SELECT count(*) FROM mart.ref_zone_shape")?;
    println!("mart  zone shapes: {shapes} records");
    let mut months: Vec<(&str, Vec<&str>)> = Vec::new();
    for (month, kind) in full_months.iter().filter_map(|m| m.split_once(' ')) {
        match months.iter_mut().find(|(m, _)| *m == month) {
            Some((_, kinds)) => kinds.push(kind),
            None => months.push((month, vec![kind])),
        }
    }
    for (month, kinds) in months {
        let quoted: Vec<String> = kinds.iter().map(|k| format!("'{k}'")).collect();
        let services = sql(&format!(
            "SELECT coalesce(string_agg(service_id::text, ','), '') FROM mart.dim_service WHERE kind IN ({})",
            quoted.join(", ")
        ))?;
        let query = TLC_COMPARISON
            .replace("$1", month)
            .replace("$2", month)
            .replace("$3", &format!("'{{{services}}}'::int2[]"));
        let mut compared = 0;
        for line in sql(&query)?.lines().filter(|l| !l.is_empty()) {
            compared += usize::from(compare(month, &line.split('|').collect::<Vec<_>>())?);
        }
        if compared == 0 {
            println!("mart  {month}: the TLC's report has no figure for {}", kinds.join(", "));
        }
    }
    Ok(())
}

/// One row of [`TLC_COMPARISON`]: ours on the TLC's definition against the TLC's figure, for
/// the trips and, where both have one, the farebox per day; false when the TLC has none.
fn compare(month: &str, f: &[&str]) -> anyhow::Result<bool> {
    let [_, class, _, tlc_trips, tlc_farebox, trips, farebox, ..] = f else {
        bail!("{month}: unexpected row of the TLC comparison: {f:?}");
    };
    let Ok(theirs) = tlc_trips.parse::<f64>() else { return Ok(false) };
    let days = days_in(month)?;
    let ours = trips.parse::<f64>().with_context(|| format!("{month} {class}: no trips of ours"))? / days;
    check(month, class, "trips", theirs, ours)?;
    if let (Ok(theirs), Ok(ours)) = (tlc_farebox.parse::<f64>(), farebox.parse::<f64>()) {
        check(month, class, "farebox", theirs, ours / days)?;
    }
    Ok(true)
}

fn check(month: &str, class: &str, what: &str, theirs: f64, ours: f64) -> anyhow::Result<()> {
    let deviation = (ours - theirs) / theirs;
    println!(
        "mart  {month} {class}: TLC {what} {theirs:.0} a day, ours {ours:.1} ({:+.3} %)",
        deviation * 100.0
    );
    if deviation.abs() > TLC_TOLERANCE {
        bail!("{month} {class}: ours is {:+.2} % from the TLC's {what} per day", deviation * 100.0);
    }
    Ok(())
}

/// The days of month `yyyymm`.
fn days_in(yyyymm: &str) -> anyhow::Result<f64> {
    let n: u32 = yyyymm.parse().with_context(|| format!("not a month: {yyyymm}"))?;
    let (year, month) = (n / 100, n % 100);
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    Ok(match month {
        2 if leap => 29.0,
        2 => 28.0,
        4 | 6 | 9 | 11 => 30.0,
        1..=12 => 31.0,
        _ => bail!("not a month: {yyyymm}"),
    })
}

/// Copies each real file to its lake key; returns the kinds found and the whole official
/// months (`YYYYMM kind`). A sample folder's first part stands for its month (the lake holds
/// one object per month).
fn lay_out(folder: &Path, lake: &Path) -> anyhow::Result<(Vec<String>, Vec<String>)> {
    let mut kinds = Vec::new();
    let mut full_months = Vec::new();
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
            full_months.push(format!("{} {kind}", month.replace('-', "")));
        }
    }
    // The lake keys of atl-core (ZONES_LAKE_KEY, ZONE_SHAPES_LAKE_KEY, INDICATORS_LAKE_KEY),
    // spelled out: xtask stays free of the data crates.
    for (from, key) in [
        ("misc/taxi_zone_lookup.csv", "reference/taxi_zone_lookup.csv"),
        ("misc/taxi_zones.zip", "reference/taxi_zones.zip"),
        ("reports/data_reports_monthly.csv", "reference/data_reports_monthly.csv"),
    ] {
        let from = folder.join(from);
        if from.is_file() {
            std::fs::create_dir_all(lake.join("reference"))?;
            std::fs::copy(&from, lake.join(key)).with_context(|| format!("copying {}", from.display()))?;
        }
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
    Ok((kinds, full_months))
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
