// Over 400 lines: one month's stream (transfer, cleaner, writers, swap) for every kind; the
// steps share the month's transaction and read best in one place.
//! A month of any kind from the warehouse into the mart with its cleaning in flight. The
//! warehouse sends the month as staged rows (`COPY (SELECT ...) TO STDOUT (FORMAT binary)`, the
//! transfer's query); each row is given its reason by [`Cleaner`], by the rules of its fact
//! ([`FactSpec`]: the taxis' or the for-hire services'): a clean row is converted and written,
//! in the fact's binary form, into the build table (`mart.fact_trip_build` or
//! `mart.fact_for_hire_build`), made empty in the same transaction (`mart.new_build_table`,
//! `mart.new_for_hire_build_table`); a rejected row goes as it came into the staging table
//! (`mart.staging_trip`, `mart.staging_for_hire`), on a second mart session, and so does a
//! clean row the stream does not convert ([`Cleaner::streamable`]). insertion.sql (or
//! insertion_for_hire.sql) then runs with `atl.fact_prebuilt = 'on'`: it gives the staged rows
//! their reasons again, converts any clean one, and finishes the month. Each row is written
//! once, instead of staged, read and written again. The roll-ups the insertion script sums
//! the month's aggregates from (three for the taxis, five for the for-hire kinds) are summed
//! here from the clean rows ([`Rollups`]) and written, in the same transaction, as the
//! temporary tables it would otherwise make with passes over the new partition. Their trips
//! must be the rows the partition took (`write_rollups`); insertion.sql also checks them
//! against one pass over the partition, which gives build_log the taxis' fact figures, and
//! insertion_for_hire.sql takes the for-hire fact figures from them.

use atl_core::money::PassengerTotals;
use atl_core::schema::{licence_column, passenger_total_columns};
use atl_core::{TripKind, YearMonth};
use bytes::{Buf, BufMut, Bytes, BytesMut};
use futures::StreamExt;
use futures::stream::BoxStream;
use sqlx::postgres::PgCopyIn;
use sqlx::{AssertSqlSafe, PgConnection};

use crate::cleaning::for_hire::{FOR_HIRE, FOR_HIRE_ROLLUPS};
use crate::cleaning::rollup::{PICKUP_BOROUGH, Rollups, TAXI_ROLLUPS, ZoneBoroughs};
use crate::cleaning::row::{BuildConstants, Cleaner};
use crate::cleaning::{DIMENSIONS, Element, FactSpec, TAXI};
use crate::error::MartError;
use crate::transfer::{self, staging_columns};

/// The binary COPY header: signature, flags, header extension length.
const SIGNATURE: &[u8] = b"PGCOPY\n\xff\r\n\0";
/// Bytes per COPY message to the mart.
const CHUNK_BYTES: usize = 1 << 20;
/// Bytes of warehouse rows gathered before they are split.
const BATCH_BYTES: usize = 1 << 16;

/// Rows of a streamed month: into the build table, and into the staging table (the rejected
/// ones, and the clean ones left to the SQL).
#[derive(Debug, Clone)]
pub struct Streamed {
    pub clean: u64,
    pub staged: u64,
    /// Of the staged rows, the clean ones left to the SQL ([`Cleaner::streamable`]).
    pub deferred: u64,
    /// Rows with a passenger-total value beyond the rounding rule's integer shortcut
    /// ([`Cleaner::count_passengers`]), clean or not.
    pub beyond_shortcut: u64,
    /// Every row read, clean or not, counted per licence with its passenger total: what the
    /// warehouse sent, to set beside what its load counted (`raw.load_totals`).
    pub read: PassengerTotals,
}

/// The fact a kind's months are cleaned into.
pub fn spec(kind: TripKind) -> FactSpec {
    if kind.is_for_hire() { FOR_HIRE } else { TAXI }
}

/// The stream's query of `kind` `month` on the warehouse, and the positions in `staging` of
/// the columns it reads: only those the kind has cross; the others are NULL in every row of
/// the month.
pub fn warehouse_read(
    kind: TripKind,
    month: YearMonth,
    staging: &[transfer::StagingColumn],
) -> Result<(Vec<usize>, String), MartError> {
    let fed = transfer::fed_columns(kind, staging)?;
    let sent: Vec<_> = fed.iter().map(|&i| staging[i].clone()).collect();
    Ok((fed, transfer::warehouse_select(kind, month, &sent)?))
}

/// Every this many rows read, a call with the rows read so far.
pub type Progress<'a> = (u64, &'a dyn Fn(u64));

/// Streams `kind` `month` from `warehouse` (in its transaction's snapshot) into `mart`'s new
/// build table and `rejects`' staging table. The staging is committed on success; `mart`'s
/// transaction is left open, for insertion.sql to finish the month in it: the partition is
/// never committed on its own, so a build killed at any point leaves no trace of it. On an
/// error both are left open for the caller to drop (the server rolls them back).
pub async fn stream_month(
    warehouse: &mut PgConnection,
    mart: &mut PgConnection,
    rejects: &mut PgConnection,
    kind: TripKind,
    month: YearMonth,
    progress: Progress<'_>,
) -> Result<Streamed, MartError> {
    let what = |step: &str| format!("{step} {kind} {month}");
    let spec = spec(kind);
    let staging_table = spec.staging;
    let staging = staging_columns(mart, staging_table).await?;
    let columns: Vec<(String, String)> =
        staging.iter().map(|c| (c.name.clone(), c.sql_type.clone())).collect();
    let mut cleaner = Cleaner::new(spec, &columns, constants(mart, kind, month).await?)?;
    cleaner.count_money(passenger_total_columns(kind), licence_column(kind), &columns)?;
    sqlx::raw_sql(AssertSqlSafe(format!("BEGIN; TRUNCATE {staging_table}")))
        .execute(&mut *rejects)
        .await
        .map_err(MartError::sql(what("emptying the staging table for")))?;
    sqlx::raw_sql("BEGIN")
        .execute(&mut *mart)
        .await
        .map_err(MartError::sql(what("starting the build of")))?;
    sqlx::query(AssertSqlSafe(format!("SELECT {}($1, $2)", spec.new_build_table)))
        .bind(kind.as_str())
        .bind(month.first_day())
        .execute(&mut *mart)
        .await
        .map_err(MartError::sql(what("making the new partition of")))?;
    check_build_table(mart, &cleaner, spec.build).await?;
    let set = if kind.is_for_hire() { &FOR_HIRE_ROLLUPS } else { &TAXI_ROLLUPS };
    let zones = zone_boroughs(mart).await?;
    let mut rollups = Rollups::new(set, zones).map_err(|detail| MartError::Cleaning { detail })?;

    let (fed, select) = warehouse_read(kind, month, &staging)?;
    let copy_out = format!("COPY ({select}) TO STDOUT (FORMAT binary)");
    let names: Vec<String> = fed.iter().map(|&i| atl_core::raw::quote_ident(&staging[i].name)).collect();
    let copy_rejects =
        format!("COPY {staging_table} ({}) FROM STDIN (FORMAT binary, FREEZE true)", names.join(", "));
    let fact: Vec<&str> = spec.columns.iter().map(|(n, _)| *n).collect();
    let copy_fact =
        format!("COPY {} ({}) FROM STDIN (FORMAT binary, FREEZE true)", spec.build, fact.join(", "));
    let mut rows = warehouse.copy_out_raw(&copy_out).await.map_err(MartError::sql(what("reading")))?;
    let mut reject_sink = rejects
        .copy_in_raw(&copy_rejects)
        .await
        .map_err(MartError::sql(what("starting the staging COPY of")))?;

    let layout = Layout { fed: &fed, width: staging.len() };
    let fact_copy = FactCopy { mart, copy: &copy_fact };
    let sinks = (fact_copy, &mut reject_sink);
    let pumped = pump(&mut rows, sinks, &mut cleaner, layout, &mut rollups, progress).await;
    let (counts, written) = match pumped {
        Ok(pumped) => pumped,
        Err(stop) => {
            let _ = reject_sink.abort(stop.to_string()).await;
            return Err(match stop {
                Stop::Sql(step, source) => MartError::Sql { what: what(step), source },
                Stop::Rows(detail) => MartError::Stream { kind, month, detail },
            });
        }
    };
    let staged = reject_sink.finish().await.map_err(MartError::sql(what("finishing the staging COPY of")))?;
    if written != counts.clean || staged != counts.staged {
        return Err(MartError::Stream {
            kind,
            month,
            detail: format!(
                "{} clean and {} staged rows sent, but the mart took {written} and {staged}",
                counts.clean, counts.staged
            ),
        });
    }
    // Clean rows left to the SQL are in no roll-up: then the SQL sums them all.
    if counts.deferred == 0 {
        write_rollups(mart, &rollups, counts.clean, kind, month).await?;
    }
    sqlx::raw_sql("COMMIT")
        .execute(&mut *rejects)
        .await
        .map_err(MartError::sql(what("committing the staging of")))?;
    Ok(counts)
}

/// The zones' boroughs as the month's aggregates key them, in the month's transaction: the
/// zones refreshed first from the staged zone table (insertion.sql refreshes them again, to
/// the same), so that a first build, with `mart.dim_zone` still empty, has them too.
async fn zone_boroughs(mart: &mut PgConnection) -> Result<ZoneBoroughs, MartError> {
    sqlx::query("SELECT mart.refresh_zones()")
        .execute(&mut *mart)
        .await
        .map_err(MartError::sql("refreshing mart.dim_zone from mart.staging_zone"))?;
    let zones: Vec<(i32, i32)> = sqlx::query_as("SELECT zone_id, borough_id FROM mart.dim_zone")
        .fetch_all(&mut *mart)
        .await
        .map_err(MartError::sql("reading the zones' boroughs from mart.dim_zone"))?;
    let unknown: i32 = sqlx::query_scalar(AssertSqlSafe(format!("SELECT {PICKUP_BOROUGH}(NULL)")))
        .fetch_one(&mut *mart)
        .await
        .map_err(MartError::sql("reading the Unknown borough from mart.dim_borough"))?;
    let mut by_zone = Vec::new();
    for (zone, borough) in zones {
        let at = usize::try_from(zone).unwrap_or_default();
        if by_zone.len() <= at {
            by_zone.resize(at + 1, None);
        }
        by_zone[at] = Some(i64::from(borough));
    }
    Ok(ZoneBoroughs { by_zone, unknown: i64::from(unknown) })
}

/// Why [`pump`] stopped: a server's error (with the step, "reading" and so on, completed by
/// the month), or rows that are not what the warehouse should send.
#[derive(Debug)]
enum Stop {
    Sql(&'static str, sqlx::Error),
    Rows(String),
}

impl std::fmt::Display for Stop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Stop::Sql(step, e) => write!(f, "{step}: {e}"),
            Stop::Rows(detail) => f.write_str(detail),
        }
    }
}

/// Where the warehouse's fields go in a staging row: field `i` is staging column `fed[i]`,
/// of `width`; the columns no field feeds are NULL.
#[derive(Debug, Clone, Copy)]
struct Layout<'a> {
    fed: &'a [usize],
    width: usize,
}

/// The month's new partition on the month's mart session, and its COPY statement: the COPY
/// is ended and begun again, in the same transaction, when the stream registers a licence.
struct FactCopy<'a> {
    mart: &'a mut PgConnection,
    copy: &'a str,
}

/// Moves every row of `rows` into one of the sinks, their binary COPY trailers included;
/// returns the counts and the rows the partition took. A clean row of a licence the mart
/// does not list yet stops the partition's COPY while `mart.register_licence` (migration 14)
/// gives it a service in the month's transaction; then a new COPY goes on. `report` hears
/// the rows read so far each time another `every` have been. On an error the partition's
/// COPY is aborted here.
async fn pump(
    rows: &mut BoxStream<'_, sqlx::Result<Bytes>>,
    (target, rejects): (FactCopy<'_>, &mut PgCopyIn<&mut PgConnection>),
    cleaner: &mut Cleaner,
    layout: Layout<'_>,
    rollups: &mut Rollups,
    (every, report): Progress<'_>,
) -> Result<(Streamed, u64), Stop> {
    let every = every.max(1);
    // A step that fails aborts the partition's COPY (a finish that fails has ended it).
    macro_rules! or_abort {
        ($fact:ident, $step:expr) => {
            match $step {
                Ok(v) => v,
                Err(stop) => {
                    let _ = $fact.abort(stop.to_string()).await;
                    return Err(stop);
                }
            }
        };
    }
    let FactCopy { mart, copy } = target;
    let starting = |e| Stop::Sql("starting the COPY into the partition of", e);
    let writing = |e| Stop::Sql("writing the partition of", e);
    let mut fact = mart.copy_in_raw(copy).await.map_err(starting)?;
    let mut input = BytesMut::new();
    let mut out = [header(), header()];
    let mut counts =
        Streamed { clean: 0, staged: 0, deferred: 0, beyond_shortcut: 0, read: PassengerTotals::default() };
    let mut written = 0;
    let mut state = Framing::Header;
    let mut ended = false;
    let mut next_report = every;
    while !ended {
        match rows.next().await {
            Some(chunk) => {
                input.extend_from_slice(&or_abort!(fact, chunk.map_err(|e| Stop::Sql("reading", e))))
            }
            None => ended = true,
        }
        // The warehouse sends a message per row: split them a batch at a time.
        if input.len() < BATCH_BYTES && !ended {
            continue;
        }
        loop {
            let split = split_rows(&mut input, &mut state, cleaner, layout, &mut out, &mut counts, rollups);
            let Some(licence) = or_abort!(fact, split.map_err(Stop::Rows)) else { break };
            out[0].put_i16(-1);
            or_abort!(fact, fact.send(out[0].split().freeze()).await.map_err(writing));
            written += fact.finish().await.map_err(|e| Stop::Sql("finishing the partition of", e))?;
            let service = register_licence(mart, &licence).await?;
            cleaner.add_licence(licence, service);
            out[0] = header();
            fact = mart.copy_in_raw(copy).await.map_err(starting)?;
        }
        let read = counts.clean + counts.staged;
        if read >= next_report {
            report(read);
            next_report = (read / every + 1) * every;
        }
        if out[0].len() >= CHUNK_BYTES {
            or_abort!(fact, fact.send(out[0].split().freeze()).await.map_err(writing));
        }
        if out[1].len() >= CHUNK_BYTES {
            or_abort!(fact, rejects.send(out[1].split().freeze()).await.map_err(|e| Stop::Sql("staging", e)));
        }
    }
    if state != Framing::Done || !input.is_empty() {
        or_abort!(fact, Err(Stop::Rows("the warehouse's COPY ended before its trailer".into())));
    }
    let [mut fact_bytes, mut reject_bytes] = out;
    fact_bytes.put_i16(-1);
    reject_bytes.put_i16(-1);
    or_abort!(fact, fact.send(fact_bytes.freeze()).await.map_err(writing));
    written += fact.finish().await.map_err(|e| Stop::Sql("finishing the partition of", e))?;
    rejects.send(reject_bytes.freeze()).await.map_err(|e| Stop::Sql("staging", e))?;
    Ok((counts, written))
}

/// `mart.register_licence(licence)` in the month's transaction: the licence's new service, or
/// `None` when the mart gives it none (a licence that is not UTF-8 is given none either).
async fn register_licence(mart: &mut PgConnection, licence: &[u8]) -> Result<Option<i16>, Stop> {
    let Ok(code) = std::str::from_utf8(licence) else { return Ok(None) };
    sqlx::query_scalar("SELECT mart.register_licence($1)")
        .bind(code)
        .fetch_one(mart)
        .await
        .map_err(|e| Stop::Sql("registering a new licence of", e))
}

fn header() -> BytesMut {
    let mut out = BytesMut::with_capacity(CHUNK_BYTES + (64 << 10));
    out.put_slice(SIGNATURE);
    out.put_i32(0);
    out.put_i32(0);
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    Header,
    Rows,
    Done,
}

/// Takes every whole row off the front of `input`: clean ones converted into `out[0]` and
/// counted in `rollups`, rejected ones (and clean ones the stream leaves to the SQL) copied
/// into `out[1]`. Stops at a clean row of a licence the mart does not list yet, left at the
/// front, and returns the licence for the caller to register.
fn split_rows(
    input: &mut BytesMut,
    state: &mut Framing,
    cleaner: &Cleaner,
    layout: Layout<'_>,
    out: &mut [BytesMut; 2],
    counts: &mut Streamed,
    rollups: &mut Rollups,
) -> Result<Option<Vec<u8>>, String> {
    if *state == Framing::Header {
        if input.len() < SIGNATURE.len() + 8 {
            return Ok(None);
        }
        if &input[..SIGNATURE.len()] != SIGNATURE {
            return Err("the warehouse did not send binary COPY".into());
        }
        let extension = u32::from_be_bytes(input[15..19].try_into().unwrap_or_default()) as usize;
        if input.len() < 19 + extension {
            return Ok(None);
        }
        input.advance(19 + extension);
        *state = Framing::Rows;
    }
    let mut at = 0;
    let mut fields: Vec<Option<&[u8]>> = Vec::with_capacity(32);
    let mut values = vec![None; cleaner.width()];
    while *state == Framing::Rows {
        let Some((len, count)) = row_span(&input[at..], layout, &mut fields)? else { break };
        if count < 0 {
            *state = Framing::Done;
            at += len;
            break;
        }
        let clean = cleaner.reason(&fields).is_none();
        if let Some(licence) = clean.then(|| cleaner.unlisted_licence(&fields)).flatten() {
            // The row stays at the front, to be split again once the licence is listed.
            let licence = licence.to_vec();
            input.advance(at);
            return Ok(Some(licence));
        }
        counts.beyond_shortcut += u64::from(cleaner.count_passengers(&fields, &mut counts.read));
        if clean && cleaner.streamable(&fields) {
            cleaner
                .write_fact(&fields, &mut out[0], &mut values)
                .map_err(|e| format!("a clean row cannot be converted: {e}"))?;
            rollups.add(&values);
            rollups.add_codes(|i| cleaner.code(&fields, i), &values);
            counts.clean += 1;
        } else {
            out[1].put_slice(&input[at..at + len]);
            counts.staged += 1;
            counts.deferred += u64::from(clean);
        }
        at += len;
    }
    input.advance(at);
    Ok(None)
}

/// The length and field count of the row at the start of `bytes`, its fields in `fields` at
/// their staging positions (`layout`); `None` if the row is not whole yet. A count of -1 is
/// the trailer.
fn row_span<'a>(
    bytes: &'a [u8],
    layout: Layout<'_>,
    fields: &mut Vec<Option<&'a [u8]>>,
) -> Result<Option<(usize, i16)>, String> {
    fields.clear();
    fields.resize(layout.width, None);
    let Some(head) = bytes.get(..2) else { return Ok(None) };
    let count = i16::from_be_bytes([head[0], head[1]]);
    if count != -1 && usize::try_from(count).ok() != Some(layout.fed.len()) {
        return Err(format!("a row of {count} fields, where {} were asked for", layout.fed.len()));
    }
    let mut at = 2;
    for &column in &layout.fed[..usize::try_from(count).unwrap_or(0)] {
        let Some(len) = bytes.get(at..at + 4) else { return Ok(None) };
        let len = i32::from_be_bytes([len[0], len[1], len[2], len[3]]);
        at += 4;
        if len < 0 {
            continue;
        }
        let Some(value) = bytes.get(at..at + len as usize) else { return Ok(None) };
        fields[column] = Some(value);
        at += len as usize;
    }
    Ok(Some((at, count)))
}

/// Makes insertion.sql's roll-up tables in `mart`'s transaction and fills them with the
/// groups summed in flight; their trips must be the clean rows the partition took.
async fn write_rollups(
    mart: &mut PgConnection,
    rollups: &Rollups,
    clean: u64,
    kind: TripKind,
    month: YearMonth,
) -> Result<(), MartError> {
    if rollups.trips() != i128::from(clean) {
        return Err(MartError::Stream {
            kind,
            month,
            detail: format!("the roll-ups count {} trips, the partition took {clean}", rollups.trips()),
        });
    }
    let what = |step: &str| format!("{step} {kind} {month}");
    let tables = rollups.tables().map_err(|detail| MartError::Stream { kind, month, detail })?;
    for (create, copy, rows) in tables {
        sqlx::raw_sql(AssertSqlSafe(create))
            .execute(&mut *mart)
            .await
            .map_err(MartError::sql(what("making a roll-up table of")))?;
        let mut sink =
            mart.copy_in_raw(&copy).await.map_err(MartError::sql(what("starting a roll-up COPY of")))?;
        sink.send(rows.into_bytes()).await.map_err(MartError::sql(what("writing a roll-up of")))?;
        sink.finish().await.map_err(MartError::sql(what("finishing a roll-up of")))?;
    }
    Ok(())
}

/// The build's service, month and dimension members, from the mart (insertion.sql reads the
/// same in its transaction, under the same build lock).
async fn constants(
    mart: &mut PgConnection,
    kind: TripKind,
    month: YearMonth,
) -> Result<BuildConstants, MartError> {
    let service_id: i16 = sqlx::query_scalar("SELECT service_id FROM mart.dim_service WHERE name = $1")
        .bind(kind.as_str())
        .fetch_optional(&mut *mart)
        .await
        .map_err(MartError::sql(format!("reading the service of {kind}")))?
        .ok_or(MartError::UnsupportedKind(kind))?;
    let mut members = Vec::new();
    for d in DIMENSIONS {
        let sql = format!("SELECT coalesce(array_agg({}::int8), '{{}}') FROM {}", d.key, d.table);
        let listed: Vec<i64> = sqlx::query_scalar(AssertSqlSafe(sql))
            .fetch_one(&mut *mart)
            .await
            .map_err(MartError::sql(format!("reading the members of {}", d.table)))?;
        // A float8 code is compared as float8: members beyond 2^53 are not exact there.
        if d.element == Element::Float8 && listed.iter().any(|m| m.unsigned_abs() > 1 << 53) {
            return Err(MartError::Cleaning {
                detail: format!("{} has a member too large for a float8 code", d.table),
            });
        }
        members.push(listed);
    }
    let epoch = chrono::NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or_default();
    let days = |d: chrono::NaiveDate| (d - epoch).num_days() as i32;
    let first = month.first_day();
    let licences: Vec<(String, i16)> = sqlx::query_as(
        "SELECT licence, service_id FROM mart.dim_service WHERE kind = $1 AND licence IS NOT NULL",
    )
    .bind(kind.as_str())
    .fetch_all(&mut *mart)
    .await
    .map_err(MartError::sql(format!("reading the licences of {kind}")))?;
    Ok(BuildConstants {
        service_id,
        month_start_day: days(first),
        month_end_day: days(month.next().first_day()),
        first_date_id: first.format("%Y%m%d").to_string().parse().unwrap_or_default(),
        members,
        high_volume: kind == TripKind::Fhvhv,
        licences: licences.into_iter().map(|(l, id)| (l.into_bytes(), id)).collect(),
    })
}

/// The build table has each fact column the stream writes, with the type it writes.
async fn check_build_table(mart: &mut PgConnection, cleaner: &Cleaner, build: &str) -> Result<(), MartError> {
    let columns = staging_columns(mart, build).await?;
    for (name, ty) in cleaner.fact_types() {
        match columns.iter().find(|c| c.name == name) {
            Some(c) if c.sql_type == ty => {}
            found => {
                return Err(MartError::Cleaning {
                    detail: format!(
                        "the stream writes {build}.{name} as {ty}, the table has {}",
                        found.map_or("no such column".to_owned(), |c| c.sql_type.clone())
                    ),
                });
            }
        }
    }
    Ok(())
}
