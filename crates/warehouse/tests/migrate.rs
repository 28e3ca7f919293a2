//! The warehouse's schema as migrations: what they create is core's declaration, two binaries
//! starting together apply each migration once, and a column added by a migration (as the
//! TLC's next column will be) is loaded by COPY next to the months loaded before it.

mod common;

use std::process::{Command, Stdio};
use std::sync::Arc;

use arrow::array::{ArrayRef, AsArray, Float64Array, RecordBatch};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, Float64Type, Schema};
use atl_core::pg::migrate::apply;
use atl_core::schema::{ColumnType, canonical_columns, col};
use atl_core::{RawTable, TripFile, TripKind};
use atl_testdata::Era;
use atl_warehouse::migrate::MIGRATOR;
use atl_warehouse::{LoadRequest, MonthOutcome};
use common::{Stack, rt};
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::{Connection, PgConnection, SqlSafeStr};

fn columns_on_server(stack: &Stack, table: &str) -> Vec<(String, String)> {
    let sql = format!(
        "SELECT attname || ' ' || format_type(atttypid, atttypmod) FROM pg_attribute \
         WHERE attrelid = '{table}'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum"
    );
    let text = stack.sql(&sql);
    text.lines().map(|l| l.split_once(' ').map(|(n, t)| (n.to_owned(), t.to_owned())).unwrap()).collect()
}

fn migrate_binary(stack: &Stack) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_atl-warehouse"));
    command.args(["--warehouse", &stack.pg.url("postgres"), "migrate"]).env("RUST_LOG", "warn");
    command.stderr(Stdio::piped());
    command
}

#[test]
fn the_migrated_raw_tables_are_cores_declaration() {
    let stack = Stack::start();
    let out = migrate_binary(&stack).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for kind in TripKind::ALL {
        let Some(table) = RawTable::new(kind) else { continue };
        let declared: Vec<(String, String)> =
            table.sql_columns().into_iter().map(|(n, t)| (n.to_owned(), t.to_owned())).collect();
        assert_eq!(
            columns_on_server(&stack, &table.parent()),
            declared,
            "sql/warehouse/migrations and atl-core disagree on {kind}"
        );
    }
}

#[test]
fn two_binaries_migrating_a_fresh_server_at_once_both_succeed_and_apply_each_migration_once() {
    let stack = Stack::start();
    let children: Vec<_> =
        (0..3).map(|_| migrate_binary(&stack).stdout(Stdio::piped()).spawn().unwrap()).collect();
    let mut applied_lines = Vec::new();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        applied_lines.push(String::from_utf8_lossy(&out.stdout).into_owned());
    }
    let newest = MIGRATOR.iter().map(|m| m.version).max().unwrap();
    let all: Vec<String> = MIGRATOR.iter().map(|m| m.version.to_string()).collect();
    let fresh = format!("warehouse schema at version {newest}: applied {}\n", all.join(", "));
    let idle = format!("warehouse schema at version {newest}: nothing to apply\n");
    assert_eq!(applied_lines.iter().filter(|l| **l == fresh).count(), 1, "{applied_lines:?}");
    assert_eq!(applied_lines.iter().filter(|l| **l == idle).count(), 2, "{applied_lines:?}");
    let recorded =
        stack.sql("SELECT string_agg(version::text, ',' ORDER BY version) FROM raw._sqlx_migrations");
    assert_eq!(recorded, all.join(","));
}

/// Loads every yellow month of the lake; returns how many were loaded.
fn load_yellow(rt: &tokio::runtime::Runtime, stack: &Stack) -> usize {
    let request = LoadRequest::new(TripKind::Yellow);
    let report = rt.block_on(atl_warehouse::load(&stack.db(), &stack.lake, &request, |_| {}));
    report.unwrap().loaded().count()
}

/// Rewrites a generated month with one more column, `test_fee` = fare_amount / 10.
fn add_test_fee(path: &std::path::Path) -> f64 {
    let file = std::fs::File::open(path).unwrap();
    let batches: Vec<RecordBatch> = ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .build()
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut fields: Vec<Field> = batches[0].schema().fields().iter().map(|f| f.as_ref().clone()).collect();
    fields.push(Field::new("test_fee", DataType::Float64, true));
    let schema = Arc::new(Schema::new(fields));
    let mut writer =
        ArrowWriter::try_new(std::fs::File::create(path).unwrap(), schema.clone(), None).unwrap();
    let mut sum = 0.0;
    for batch in batches {
        let fare = cast(batch.column_by_name("fare_amount").unwrap(), &DataType::Float64).unwrap();
        let fee: Float64Array =
            fare.as_primitive::<Float64Type>().iter().map(|v| v.map(|v| v / 10.0)).collect();
        sum += fee.iter().flatten().sum::<f64>();
        let mut columns: Vec<ArrayRef> = batch.columns().to_vec();
        columns.push(Arc::new(fee));
        writer.write(&RecordBatch::try_new(schema.clone(), columns).unwrap()).unwrap();
    }
    writer.close().unwrap();
    sum
}

#[test]
fn a_column_added_by_a_migration_is_loaded_by_copy_beside_older_months() {
    let stack = Stack::start();
    let rt = rt();
    stack.put_month(TripKind::Yellow, "2024-01", Era::Y2024, 2_000);
    assert_eq!(load_yellow(&rt, &stack), 1);

    // The next TLC column, as a release adds it: one migration file...
    let mut migrations: Vec<Migration> = MIGRATOR.iter().cloned().collect();
    let alter = "ALTER TABLE raw.yellow_tripdata ADD COLUMN test_fee double precision";
    migrations.push(Migration::new(
        9001,
        "yellow test_fee".into(),
        MigrationType::Simple,
        alter.into_sql_str(),
        false,
    ));
    let next = Migrator::with_migrations(migrations);
    let url = stack.pg.url("postgres");
    let migrated = rt.block_on(async {
        let mut conn = PgConnection::connect(&url).await.unwrap();
        apply(&mut conn, &next, "raw", "raw.load_log").await
    });
    assert_eq!(migrated.unwrap().applied, vec![9001]);

    // ...and the column in core's declaration of the kind.
    let mut columns = canonical_columns(TripKind::Yellow).unwrap().to_vec();
    columns.push(col("test_fee", ColumnType::Float64, false));
    let table = RawTable::with_columns(TripKind::Yellow, columns);

    let path = stack.put_month(TripKind::Yellow, "2024-02", Era::Y2024, 3_000);
    let fee_sum = add_test_fee(&path);
    let file = TripFile::new(TripKind::Yellow, "2024-02".parse().unwrap());
    let outcome = rt.block_on(async {
        let (_, meta) = stack
            .lake
            .trip_files(TripKind::Yellow)
            .await
            .unwrap()
            .into_iter()
            .find(|(f, _)| *f == file)
            .unwrap();
        let mut conn = PgConnection::connect(&url).await.unwrap();
        atl_warehouse::copy::load_month_as(
            &mut conn,
            &stack.db(),
            &stack.lake,
            &table,
            file,
            &meta,
            false,
            2,
            false,
        )
        .await
    });
    assert!(matches!(outcome.unwrap(), MonthOutcome::Loaded(r) if r.rows == 3_000));

    let by_month = stack.sql(
        "SELECT string_agg(format('%s %s %s', source_month, count, fees), ';' ORDER BY source_month) FROM \
         (SELECT source_month, count(*), count(test_fee) AS fees FROM raw.yellow_tripdata GROUP BY 1) m",
    );
    let with_fee = stack.sql("SELECT count(*) FILTER (WHERE fare_amount IS NOT NULL) FROM raw.yellow_tripdata WHERE source_month = '2024-02-01'");
    assert_eq!(by_month, format!("2024-01-01 2000 0;2024-02-01 3000 {with_fee}"));
    let stored: f64 = stack.sql("SELECT sum(test_fee) FROM raw.yellow_tripdata").parse().unwrap();
    assert!((stored - fee_sum).abs() < 1e-6 * fee_sum.abs().max(1.0), "{stored} vs {fee_sum}");
}

/// A server at version 4 (the last with bigint IDs) holding, as that version's loader left
/// them, a month in one table (yellow 2023-01) and months split in parts by range of
/// source_row (yellow 2023-02, green 2023-02).
fn server_at_version_4(rt: &tokio::runtime::Runtime, stack: &Stack) {
    let v4 = Migrator::with_migrations(MIGRATOR.iter().filter(|m| m.version <= 4).cloned().collect());
    let url = stack.pg.url("postgres");
    let report = rt.block_on(async {
        let mut conn = PgConnection::connect(&url).await.unwrap();
        apply(&mut conn, &v4, "raw", "raw.load_log").await
    });
    assert_eq!(report.unwrap().version, 4);
    let rows = |kind: &str, month: &str| {
        let pickup = if kind == "yellow" { "tpep_pickup_datetime" } else { "lpep_pickup_datetime" };
        format!(
            "INSERT INTO raw.{kind}_tripdata_{m} (source_month, source_row, vendorid, {pickup}, \
             pulocationid, dolocationid, total_amount) \
             SELECT DATE '{month}', g, g % 3 + 1, DATE '{month}' + g * interval '1 minute', g % 265 + 1, \
             (g * 7) % 265 + 1, g / 100.0 FROM generate_series(0, 999) g;\n",
            m = month[..7].replace('-', "_")
        )
    };
    let split = |kind: &str, month: &str| {
        let m = month[..7].replace('-', "_");
        format!(
            "CREATE TABLE raw.{kind}_tripdata_{m} (LIKE raw.{kind}_tripdata) PARTITION BY RANGE (source_row);\n\
             CREATE TABLE raw.{kind}_tripdata_{m}_p0 PARTITION OF raw.{kind}_tripdata_{m} FOR VALUES FROM (MINVALUE) TO (600);\n\
             CREATE TABLE raw.{kind}_tripdata_{m}_p1 PARTITION OF raw.{kind}_tripdata_{m} FOR VALUES FROM (600) TO (MAXVALUE);\n\
             {}ALTER TABLE raw.{kind}_tripdata ATTACH PARTITION raw.{kind}_tripdata_{m} FOR VALUES IN ('{month}');\n",
            rows(kind, month)
        )
    };
    stack.sql(&format!(
        "CREATE TABLE raw.yellow_tripdata_2023_01 (LIKE raw.yellow_tripdata);\n{}\
         ALTER TABLE raw.yellow_tripdata ATTACH PARTITION raw.yellow_tripdata_2023_01 FOR VALUES IN ('2023-01-01');\n{}{}",
        rows("yellow", "2023-01-01"),
        split("yellow", "2023-02-01"),
        split("green", "2023-02-01"),
    ));
}

fn fingerprint(stack: &Stack, parent: &str) -> String {
    stack.sql(&format!(
        "SELECT count(*) || ' ' || md5(string_agg(t::text, '|' ORDER BY source_month, source_row)) FROM {parent} t"
    ))
}

#[test]
fn migrating_to_integer_ids_keeps_every_month_whole_and_reloadable() {
    let stack = Stack::start();
    let rt = rt();
    server_at_version_4(&rt, &stack);
    let before = [fingerprint(&stack, "raw.yellow_tripdata"), fingerprint(&stack, "raw.green_tripdata")];
    assert!(before[0].starts_with("2000 ") && before[1].starts_with("1000 "), "{before:?}");

    let out = migrate_binary(&stack).env("RUST_LOG", "info").output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("applying migrations 5 (integer ids)"), "says what it is about to do: {stderr}");
    let after = [fingerprint(&stack, "raw.yellow_tripdata"), fingerprint(&stack, "raw.green_tripdata")];
    assert_eq!(after, before, "the values of every month, as text");
    for (kind, month) in
        [(TripKind::Yellow, "2023-01"), (TripKind::Yellow, "2023-02"), (TripKind::Green, "2023-02")]
    {
        let table = RawTable::new(kind).unwrap();
        let partition = table.partition(month.parse().unwrap());
        let declared: Vec<(String, String)> =
            table.sql_columns().into_iter().map(|(n, t)| (n.to_owned(), t.to_owned())).collect();
        assert_eq!(columns_on_server(&stack, &partition), declared, "{partition}");
    }

    // The loader replaces a month that the migration made one table.
    stack.put_month(TripKind::Yellow, "2023-02", Era::Y2022, 1_500);
    assert_eq!(load_yellow(&rt, &stack), 1);
    let months = stack.sql(
        "SELECT string_agg(format('%s %s', source_month, n), ';' ORDER BY source_month) FROM \
         (SELECT source_month, count(*) AS n FROM raw.yellow_tripdata GROUP BY 1) m",
    );
    assert_eq!(months, "2023-01-01 1000;2023-02-01 1500");
}

#[test]
fn an_id_that_does_not_fit_an_integer_stops_the_migration_and_changes_nothing() {
    let stack = Stack::start();
    let rt = rt();
    server_at_version_4(&rt, &stack);
    stack.sql("UPDATE raw.yellow_tripdata SET pulocationid = 1099511627776 WHERE source_row = 7");
    let before = fingerprint(&stack, "raw.yellow_tripdata");

    let out = migrate_binary(&stack).output().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("integer out of range"), "{stderr}");
    assert_eq!(stack.sql("SELECT max(version) FROM raw._sqlx_migrations"), "4");
    assert_eq!(fingerprint(&stack, "raw.yellow_tripdata"), before);
    let split = stack.sql("SELECT relkind FROM pg_class WHERE oid = 'raw.yellow_tripdata_2023_02'::regclass");
    assert_eq!(split, "p", "the split month is still split and attached");
}
