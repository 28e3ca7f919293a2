#![allow(clippy::print_stdout, clippy::print_stderr)]
//! Download throughput of `atl-ingest` next to `curl`, and its peak memory.
//!
//! `cargo bench -p atl-ingest --bench download` generates a TLC-shaped Parquet file of
//! about 500 MB once (cached under the target folder), serves it with the test mirror,
//! then in one run times `curl -s -o <file> <url>` and the `atl-ingest` binary fetching it
//! into a folder lake and into an S3 bucket (moto). The figures are wall-clock times of the
//! whole command; atl-ingest's include its HEAD, the footer check and the commit (a
//! rename for the folder lake, a multipart upload for S3). Peak RSS must stay under 100 MB.
//!
//! `ATL_BENCH_MB` changes the file size (e.g. 50 for a quick run).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use atl_core::{LakeConfig, Secret, TripFile, TripKind, YearMonth};
use atl_devservices::{S3Server, TlcMirror};
use atl_lake::Lake;
use atl_testdata::{TripFileSpec, write_trip_file_to};

const RSS_LIMIT_MB: f64 = 100.0;

fn main() {
    let target_mb: u64 = std::env::var("ATL_BENCH_MB").ok().and_then(|v| v.parse().ok()).unwrap_or(500);
    let work = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("atl-ingest-bench");
    let cdn = work.join(format!("cdn-{target_mb}mb"));
    let file = TripFile::new(TripKind::Yellow, YearMonth::new(2024, 1).expect("a month"));
    let served = cdn.join(file.source_path());
    let rows = ensure_generated(&served, file, target_mb);
    let size = std::fs::metadata(&served).expect("generated file").len();
    let mirror = TlcMirror::start(&cdn).expect("start the mirror");
    let url = file.source_url(&mirror.base_url());
    println!("file: {} ({:.1} MB, {rows} rows), served at {url}", file.file_name(), mb(size));

    let scratch = tempfile::Builder::new().prefix("run-").tempdir_in(&work).expect("scratch folder");
    let mut lines = Vec::new();

    let curl_out = scratch.path().join("curl.parquet");
    let started = Instant::now();
    let status = Command::new("curl").args(["-s", "-f", "-o"]).arg(&curl_out).arg(&url).status();
    let curl_time = started.elapsed();
    match status {
        Ok(s) if s.success() => {}
        other => panic!("curl failed ({other:?}): install curl to compare against it"),
    }
    assert_eq!(std::fs::metadata(&curl_out).expect("curl's file").len(), size);
    std::fs::remove_file(&curl_out).expect("remove curl's file");
    lines.push(Line { what: "curl -s -o <file> (disk)".into(), time: curl_time, rss_mb: None });

    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    let folder_lake = LakeConfig {
        url: format!("file://{}", scratch.path().join("lake").display()),
        endpoint: String::new(),
        region: String::new(),
        access_key: String::new(),
        secret_key: Secret::default(),
        allow_http: false,
    };
    let (time, rss) = run_ingest(&mirror, &folder_lake, file, scratch.path());
    check_landed(&runtime, &folder_lake, file, size);
    lines.push(Line { what: "atl-ingest → file:// lake".into(), time, rss_mb: rss });

    let s3 = S3Server::start().expect("moto_server");
    let s3_lake = LakeConfig {
        url: "s3://bench".to_owned(),
        endpoint: s3.endpoint(),
        region: s3.region().to_owned(),
        access_key: s3.access_key().to_owned(),
        secret_key: Secret::new(s3.secret_key()),
        allow_http: true,
    };
    let (time, rss) = run_ingest(&mirror, &s3_lake, file, scratch.path());
    check_landed(&runtime, &s3_lake, file, size);
    // An S3 lake stages under the system temp folder: leave nothing there.
    let _ = std::fs::remove_dir_all(Lake::open(&s3_lake).expect("open the lake").staging_dir());
    lines.push(Line { what: "atl-ingest → s3:// lake (moto)".into(), time, rss_mb: rss });

    println!();
    println!("{:<32} {:>9} {:>10} {:>14}", "", "seconds", "MB/s", "peak RSS");
    for line in &lines {
        let rss = match line.rss_mb {
            Some(mb) => format!("{mb:.1} MB {}", if mb < RSS_LIMIT_MB { "ok" } else { "OVER" }),
            None => "-".to_owned(),
        };
        println!(
            "{:<32} {:>9.2} {:>10.1} {:>14}",
            line.what,
            line.time.as_secs_f64(),
            mb(size) / line.time.as_secs_f64(),
            rss
        );
    }
    println!("(MB = 10^6 bytes; peak RSS limit {RSS_LIMIT_MB} MB)");
}

struct Line {
    what: String,
    time: Duration,
    rss_mb: Option<f64>,
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1e6
}

/// Generates the file once: a probe measures the bytes per row, then enough rows for
/// `target_mb` are written to a temporary name and renamed (an interrupted run leaves no
/// half file to reuse).
fn ensure_generated(path: &Path, file: TripFile, target_mb: u64) -> usize {
    let rows_file = path.with_extension("rows");
    if path.is_file()
        && let Ok(rows) = std::fs::read_to_string(&rows_file)
        && let Ok(rows) = rows.trim().parse()
    {
        return rows;
    }
    let dir = path.parent().expect("a parent folder");
    std::fs::create_dir_all(dir).expect("cache folder");
    let probe_rows = 1_000_000;
    let probe = dir.join("probe.parquet");
    write_trip_file_to(&TripFileSpec::new(file.kind, file.month, probe_rows), &probe).expect("probe");
    let bytes_per_row = std::fs::metadata(&probe).expect("probe").len() as f64 / probe_rows as f64;
    std::fs::remove_file(&probe).expect("remove probe");
    let rows = ((target_mb as f64 * 1e6) / bytes_per_row * 1.01) as usize;
    println!("generating {rows} rows (~{bytes_per_row:.1} bytes/row) into {} (once)...", path.display());
    let started = Instant::now();
    let partial = path.with_extension("partial");
    let generated =
        write_trip_file_to(&TripFileSpec::new(file.kind, file.month, rows), &partial).expect("generate");
    std::fs::rename(&partial, path).expect("rename the generated file");
    std::fs::write(&rows_file, generated.rows.to_string()).expect("row count");
    println!("generated in {:.1} s", started.elapsed().as_secs_f64());
    generated.rows
}

/// Runs `atl-ingest` for one month into `lake`; returns its wall time and peak RSS in MB.
fn run_ingest(mirror: &TlcMirror, lake: &LakeConfig, file: TripFile, cwd: &Path) -> (Duration, Option<f64>) {
    let exe = env!("CARGO_BIN_EXE_atl-ingest");
    let gnu_time = Path::new("/usr/bin/time");
    let rss_file = cwd.join("rss.txt");
    let mut command = if gnu_time.is_file() {
        let mut c = Command::new(gnu_time);
        c.args(["-f", "%M", "-o"]).arg(&rss_file).arg(exe);
        c
    } else {
        Command::new(exe)
    };
    command
        .args(["--kind", file.kind.as_str(), "--months", &file.month.to_string()])
        .current_dir(cwd)
        .env("ATL__SOURCE__BASE_URL", mirror.base_url())
        .env("ATL__LAKE__URL", &lake.url)
        .env("ATL__LAKE__ENDPOINT", &lake.endpoint)
        .env("ATL__LAKE__REGION", &lake.region)
        .env("ATL__LAKE__ACCESS_KEY", &lake.access_key)
        .env("ATL__LAKE__SECRET_KEY", lake.secret_key.expose())
        .env("ATL__LAKE__ALLOW_HTTP", lake.allow_http.to_string())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let started = Instant::now();
    let mut child = command.spawn().expect("spawn atl-ingest");
    let mut peak_kb = 0u64;
    // Without GNU time, sample the kernel's high-water mark while the process runs.
    while child.try_wait().expect("wait for atl-ingest").is_none() {
        if !gnu_time.is_file()
            && let Some(kb) = vm_hwm_kb(child.id())
        {
            peak_kb = peak_kb.max(kb);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let elapsed = started.elapsed();
    let output = child.wait_with_output().expect("atl-ingest output");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "atl-ingest failed into {}:\n{stdout}", lake.url);
    assert!(stdout.contains("1 fetched"), "atl-ingest did not fetch the month:\n{stdout}");
    if gnu_time.is_file() {
        peak_kb = std::fs::read_to_string(&rss_file)
            .ok()
            .and_then(|s| s.trim().lines().last()?.parse().ok())
            .unwrap_or(0);
    }
    (elapsed, (peak_kb > 0).then(|| peak_kb as f64 * 1024.0 / 1e6))
}

fn vm_hwm_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn check_landed(runtime: &tokio::runtime::Runtime, config: &LakeConfig, file: TripFile, size: u64) {
    runtime.block_on(async {
        let lake = Lake::open(config).expect("open the lake");
        let meta = lake.head(&file.lake_key()).await.expect("head").expect("the month is in the lake");
        assert_eq!(meta.size, size, "{}", lake.describe());
    });
}
