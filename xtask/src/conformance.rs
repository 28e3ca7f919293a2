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
//! for every built month the TLC reports on, trips per day on the TLC's definition within
//! [`TLC_TOLERANCE`] of the TLC's own figure, and so its farebox per day where it gives one
//! (total less the tips of card trips: sql/mart/README.md, "The TLC's farebox").

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

/// The zone shapes and the TLC comparison of the mart built from the real files; only whole
/// official months (`trip-data/`, as `YYYYMM kind`) are compared, not the samples' heads.
fn check_reference(mart: &PgServer, full_months: &[String]) -> anyhow::Result<()> {
    let sql = |q: &str| mart.psql("postgres", q).with_context(|| format!("querying the mart: {q}"));
    let shapes = sql("SELECT count(*) FROM mart.ref_zone_shape")?;
    println!("mart  zone shapes: {shapes} records");
    let rows =
        sql("SELECT r.month_id, l.licence_class, i.trips_per_day::float8, s.name, r.trips::float8 / d.days,
                coalesce(i.farebox_per_day::float8::text, ''),
                coalesce(((r.total_amount_sum - r.card_tip_amount_sum) / d.days)::float8::text, '')
         FROM mart.agg_month_recorded r JOIN mart.dim_service s USING (service_id)
         CROSS JOIN LATERAL (SELECT extract(day FROM (to_date(r.month_id::text, 'YYYYMM') + interval '1 month'
                                                      - interval '1 day')) AS days) d
         JOIN mart.ref_licence_class l ON l.service_name = s.name
         JOIN mart.ref_tlc_indicator i ON i.month_id = r.month_id AND i.licence_class = l.licence_class
         ORDER BY 1, 2")?;
    for line in rows.lines().filter(|l| !l.is_empty()) {
        let f: Vec<&str> = line.split('|').collect();
        if !full_months.contains(&format!("{} {}", f[0], f[3])) {
            continue;
        }
        let (theirs, ours): (f64, f64) = (f[2].parse()?, f[4].parse()?);
        let deviation = (ours - theirs) / theirs;
        println!(
            "mart  {} {}: TLC {theirs:.0} trips/day, ours {ours:.1} ({:+.2} %)",
            f[0],
            f[1],
            deviation * 100.0
        );
        if deviation.abs() > TLC_TOLERANCE {
            bail!("{} {}: ours is {:+.2} % from the TLC's trips per day", f[0], f[1], deviation * 100.0);
        }
        if let (Ok(theirs), Ok(ours)) = (f[5].parse::<f64>(), f[6].parse::<f64>()) {
            let deviation = (ours - theirs) / theirs;
            println!(
                "mart  {} {}: TLC farebox {theirs:.0} $/day, ours {ours:.1} ({:+.3} %)",
                f[0],
                f[1],
                deviation * 100.0
            );
            if deviation.abs() > TLC_TOLERANCE {
                bail!(
                    "{} {}: ours is {:+.2} % from the TLC's farebox per day",
                    f[0],
                    f[1],
                    deviation * 100.0
                );
            }
        }
    }
    Ok(())
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
