//! How long the dashboard of a generated year takes to render (issue 6: under 2 s).
//!
//! A temp PostgreSQL server gets the mart's aggregate tables filled for 2023 at the scale of
//! about 40 M trips: 365 days × 2 services, 12 × 168 hour × weekday cells, 12 × 265 zones,
//! ... Only aggregates are read, so the figure does not grow with the trip count.
//! `cargo bench -p atl-viz --bench render`.
#![allow(clippy::print_stdout, clippy::print_stderr)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use atl_core::{DatabaseConfig, Secret};
use atl_viz::{Mart, PageMode};

const RUNS: usize = 7;

fn main() {
    let mart = common::MartFixture::start();
    let started = Instant::now();
    for month in 1..=12 {
        // ×33 the fixture's ~100 k trips a month: ~40 M trips in the year.
        mart.fill_month(&format!("2023-{month:02}"), 33);
    }
    let trips = mart.sql("SELECT sum(trips) FROM mart.agg_daily");
    let rows = mart.sql(
        "SELECT (SELECT count(*) FROM mart.agg_daily) || ' daily, '
             || (SELECT count(*) FROM mart.agg_hour_weekday) || ' hour×weekday, '
             || (SELECT count(*) FROM mart.agg_zone_month) || ' zone-month, '
             || (SELECT count(*) FROM mart.agg_fare_distance) || ' fare-distance rows'",
    );
    mart.sql("VACUUM ANALYZE");
    println!(
        "aggregates for 2023 ({trips} trips; {rows}) filled in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let db = DatabaseConfig { url: Secret::new(mart.url()), parallelism: 1 };
    // The pool starts its maintenance task on the runtime it is created in.
    let _runtime = runtime.enter();
    let viz = Mart::connect_lazy(&db).unwrap();
    let mut runs: Vec<(Duration, Duration, Duration, usize)> = Vec::new();
    for _ in 0..RUNS {
        let started = Instant::now();
        let d = runtime.block_on(atl_viz::render(&viz, &atl_viz::Filter::default(), PageMode::File)).unwrap();
        runs.push((started.elapsed(), d.query_time, d.render_time, d.html.len()));
    }
    // The first run pays for the connection; report it apart.
    let first = runs[0].0;
    let mut rest: Vec<_> = runs[1..].to_vec();
    rest.sort_by_key(|r| r.0);
    let median = rest[rest.len() / 2];
    println!(
        "dashboard render, year 2023: first {:.0} ms (with connect); median of {} {:.0} ms \
         (queries {:.0} ms, charts + page {:.0} ms), max {:.0} ms; page {} kB",
        first.as_secs_f64() * 1e3,
        rest.len(),
        median.0.as_secs_f64() * 1e3,
        median.1.as_secs_f64() * 1e3,
        median.2.as_secs_f64() * 1e3,
        rest.last().unwrap().0.as_secs_f64() * 1e3,
        median.3 / 1024,
    );
    assert!(first < Duration::from_secs(2), "a year must render in under 2 s");
}
