//! The mart's hand-written SQL agrees with core's declaration of the trip schemas:
//! creation.sql is version 1, the staging table has one column per staged raw column
//! of the modelled kinds, and staging_fdw.sql (the psql path) stages exactly what the binary
//! transfer stages.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use atl_core::raw::LINEAGE;
use atl_core::schema::{dropoff_column, pickup_column};
use atl_core::{DatabaseConfig, RawTable, Secret, TripFile, TripKind, YearMonth};
use atl_devservices::PgServer;
use atl_lake::Lake;
use atl_mart::transfer::{DROPOFF_AT, PICKUP_AT};
use atl_testdata::{Era, TripFileSpec, write_trip_file_to};

fn sql_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../sql/mart"))
}

fn migrate(mart: &PgServer) {
    let out = Command::new(env!("CARGO_BIN_EXE_atl-mart"))
        .args(["--mart", &mart.url("postgres"), "migrate"])
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn creation_sql_is_version_1_which_atl_mart_recognises() {
    let creation = std::fs::read_to_string(sql_dir().join("creation.sql")).unwrap();
    let included: Vec<&str> =
        creation.lines().filter_map(|l| l.strip_prefix("\\ir migrations/")).map(str::trim).collect();
    let mut files: Vec<String> = std::fs::read_dir(sql_dir().join("migrations"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".sql"))
        .collect();
    files.sort();
    // Only version 1: atl-mart takes a mart without a record for version 1 and applies the
    // rest; a later migration run by hand would be run again.
    assert_eq!(included, files[..1], "sql/mart/creation.sql must \\ir exactly the first migration");
    assert!(files[0].starts_with("0001_"));
}

/// Whether every value of the raw type `raw` is a value of the staging type `staged`: the
/// same type, or a wider one (IDs below 2^53 are exact doubles).
fn holds(staged: &str, raw: &str) -> bool {
    staged == raw
        || matches!(
            (staged, raw),
            ("bigint", "integer") | ("double precision", "integer") | ("double precision", "bigint")
        )
}

#[test]
fn each_staging_table_has_a_column_per_staged_raw_column_of_core() {
    let mart = PgServer::temp().expect("a temp PostgreSQL server");
    migrate(&mart);
    let classes = [
        ("mart.staging_trip", [TripKind::Yellow, TripKind::Green]),
        ("mart.staging_for_hire", [TripKind::Fhv, TripKind::Fhvhv]),
    ];
    for (table, kinds) in classes {
        // Each staged name with the raw types that feed it (the staging type must hold each:
        // the warehouse's SELECT casts to it).
        let mut expected: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        for kind in kinds {
            let raw = RawTable::new(kind).unwrap();
            let lineage = LINEAGE.iter().map(|l| (l.name, l.sql_type));
            let data = raw.data_columns().iter().map(|c| (c.name, c.kind.sql_type()));
            for (name, ty) in lineage.chain(data) {
                let staged = match Some(name) {
                    n if n == pickup_column(kind) => PICKUP_AT,
                    n if n == dropoff_column(kind) => DROPOFF_AT,
                    _ => name,
                };
                expected.entry(staged).or_default().insert(ty);
            }
        }
        let on_server = mart
            .psql(
                "postgres",
                &format!(
                    "SELECT attname || ' ' || format_type(atttypid, atttypmod) FROM pg_attribute \
                     WHERE attrelid = '{table}'::regclass AND attnum > 0 AND NOT attisdropped"
                ),
            )
            .unwrap();
        let mut names = BTreeSet::new();
        for line in on_server.lines() {
            let (name, ty) = line.split_once(' ').unwrap();
            let types =
                expected.get(name).unwrap_or_else(|| panic!("{table}.{name}: no raw column of {kinds:?}"));
            assert!(
                types.iter().all(|raw| holds(ty, raw)),
                "{table}.{name} is {ty}; the raw tables have {types:?}"
            );
            names.insert(name);
        }
        assert_eq!(names, expected.keys().copied().collect(), "{table} and atl-core disagree");
    }
}

#[test]
fn staging_fdw_sql_stages_what_the_binary_transfer_stages() {
    let warehouse = PgServer::temp().expect("a temp PostgreSQL server for the warehouse");
    let mart = PgServer::temp().expect("a temp PostgreSQL server for the mart");
    migrate(&mart);
    let lake_dir = tempfile::tempdir().unwrap();
    let lake = Lake::open_folder(lake_dir.path()).unwrap();
    let month: YearMonth = "2024-01".parse().unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let wh_db = DatabaseConfig { url: Secret::new(warehouse.url("postgres")), parallelism: 2 };
    for kind in TripKind::ALL {
        let fingerprint = format!(
            "SELECT count(*) || ' ' || md5(string_agg(s::text, '|' ORDER BY source_row)) FROM {} s",
            atl_mart::transfer::staging_table(kind)
        );
        let fingerprint = fingerprint.as_str();
        let spec = TripFileSpec::new(kind, month, 3_000).era(Era::Y2024);
        write_trip_file_to(&spec, &lake_dir.path().join(TripFile::new(kind, month).lake_key())).unwrap();
        let report =
            rt.block_on(atl_warehouse::load(&wh_db, &lake, &atl_warehouse::LoadRequest::new(kind), |_| {}));
        assert_eq!(report.unwrap().loaded().count(), 1);

        let staged = rt.block_on(async {
            let mut wh = atl_warehouse::connect(&wh_db).await.unwrap();
            let mut conn =
                <sqlx::PgConnection as sqlx::Connection>::connect(&mart.url("postgres")).await.unwrap();
            atl_mart::transfer::stage_month(&mut wh, &mut conn, kind, month).await
        });
        assert_eq!(staged.unwrap(), 3_000);
        let by_binary = mart.psql("postgres", fingerprint).unwrap();

        let out = Command::new(mart.cluster().install().bin("psql"))
            .args(mart.cluster().psql_args("postgres"))
            .args(["-v", "wh_host=127.0.0.1", "-v", &format!("wh_port={}", warehouse.port())])
            .args(["-v", "wh_db=postgres", "-v", "wh_user=postgres", "-v", "wh_password="])
            .args([
                "-c",
                &format!(
                    "SELECT set_config('atl.month', '{}', false), set_config('atl.service', '{kind}', false)",
                    month.first_day()
                ),
            ])
            .arg("-f")
            .arg(sql_dir().join("staging_fdw.sql"))
            .output()
            .unwrap();
        assert!(out.status.success(), "staging_fdw.sql: {}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(mart.psql("postgres", fingerprint).unwrap(), by_binary, "{kind}: staging_fdw.sql differs");
    }
}

/// mart.round_cents (migration 0004) is the rounding rule, round(x::numeric, 2), computed
/// without text for whole cents: the two must agree on every value, to the last digit and
/// scale. Here: every thousandth of a dollar up to $2,000 either way (every half cent among
/// them), whole cents nudged by a few ulps, values of many magnitudes and decimals, and the
/// edges of the shortcut (1e7, NaN, infinities, NULL).
#[test]
fn round_cents_is_round_to_numeric_2_on_every_value() {
    let mart = PgServer::temp().expect("a temp PostgreSQL server");
    migrate(&mart);
    let differences = mart
        .psql(
            "postgres",
            "SELECT setseed(0.12); \
             WITH v(x) AS ( \
               SELECT k / 1000.0::float8 FROM generate_series(-2000000, 2000000) k \
               UNION ALL SELECT (k / 100.0::float8) * (1 + e * 2.2e-16) \
                 FROM generate_series(-100000, 100000, 7) k, generate_series(-4, 4) e \
               UNION ALL SELECT round(((random() - 0.5) * 10 ^ (random() * 16))::numeric, (random() * 12)::int)::float8 \
                 FROM generate_series(1, 1000000) \
               UNION ALL SELECT (random() - 0.5) * 10 ^ (random() * 20 - 4) FROM generate_series(1, 1000000) \
               UNION ALL SELECT unnest('{9999999.995, 9999999.994, 10000000, -10000000, 1e7, 1.0000000000000001e7, \
                                         12345678.125, 0.125, -0.125, 2.675, 1.005, -1.005, 0.005, -0.005, \
                                         1e300, -1e-300, 0, -0, NaN, Infinity, -Infinity}'::float8[]) \
               UNION ALL SELECT NULL) \
             SELECT count(*) FROM v WHERE mart.round_cents(x)::text IS DISTINCT FROM round(x::numeric, 2)::text",
        )
        .unwrap();
    assert_eq!(differences.lines().last(), Some("0"));
}

/// Migration 10's first text (commit fd14bee) summed the same aggregates with a function call
/// per fact row. A mart that applied that text starts with the current one recorded in its
/// place; a mart whose record of migration 10 matches no text of it is still refused.
#[test]
fn a_mart_that_applied_migration_10s_first_text_starts_and_an_unknown_text_is_refused() {
    let mart = PgServer::temp().unwrap();
    migrate(&mart);
    let checksum = || {
        mart.psql("postgres", "SELECT encode(checksum, 'hex') FROM mart._sqlx_migrations WHERE version = 10")
            .unwrap()
    };
    let current = checksum();
    let first_text =
        "f47e07863b2da54c858d3f411e6c774a57e178bc9a2a40b27f9abc15301b6fbe056151af33b92521f87527970d73a379";
    assert_ne!(current.trim(), first_text);
    let record = |hex: &str| {
        mart.psql(
            "postgres",
            &format!("UPDATE mart._sqlx_migrations SET checksum = decode('{hex}', 'hex') WHERE version = 10"),
        )
        .unwrap();
    };

    record(first_text);
    migrate(&mart);
    assert_eq!(checksum(), current, "the first text's record is replaced by the current text's");

    record(&"ab".repeat(48));
    let out = Command::new(env!("CARGO_BIN_EXE_atl-mart"))
        .args(["--mart", &mart.url("postgres"), "migrate"])
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "an unknown text of migration 10 was accepted: {stderr}");
    assert!(stderr.contains("10"), "the refusal names the migration: {stderr}");
    assert_eq!(checksum().trim(), "ab".repeat(48), "a refused mart's record is left as it was");
}
