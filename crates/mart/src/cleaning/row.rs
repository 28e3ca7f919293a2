// Over 400 lines: the row decoder and encoder of both facts in PostgreSQL's binary form, kept
// beside each other so that a conversion and its inverse are checked in one place.
//! The rules and conversions of [`super`] applied in the stream: a staged row in PostgreSQL's
//! binary COPY form in, its reason (the first rule it fails) or its fact row in binary COPY
//! form out. Values follow PostgreSQL bit for bit: timestamps are microseconds since
//! 2000-01-01, money goes through [`round_cents`], the rule of `mart.round_cents`.

use atl_core::money::{PassengerTotals, round_cents};
use bytes::{BufMut, BytesMut};

use super::{Col, Conv, Element, FactSpec, Rule, Test};
use crate::error::MartError;

const DAY_US: i64 = 86_400_000_000;
const HOUR_US: i64 = 3_600_000_000;

/// A staging column's type, as binary COPY sends it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Bigint,
    Float8,
    Timestamp,
    Date,
    Text,
}

impl Field {
    pub fn of(sql_type: &str) -> Option<Field> {
        Some(match sql_type {
            "bigint" => Field::Bigint,
            "double precision" => Field::Float8,
            "timestamp without time zone" => Field::Timestamp,
            "date" => Field::Date,
            "text" => Field::Text,
            _ => return None,
        })
    }
}

/// What a build needs to know beside the rules: the service, the month and the code
/// dimensions' members (in [`super::DIMENSIONS`] order), as the mart holds them.
#[derive(Debug, Clone)]
pub struct BuildConstants {
    pub service_id: i16,
    /// Days from 2000-01-01 to the month's first day, and to the next month's.
    pub month_start_day: i32,
    pub month_end_day: i32,
    /// yyyymm01 of the month's first day.
    pub first_date_id: i32,
    pub members: Vec<Vec<i64>>,
    /// A high-volume (fhvhv) month: the rules marked [`Test::HighVolume`] apply.
    pub high_volume: bool,
    /// For-hire: each licence the mart lists (`mart.dim_service.licence`) with its service.
    pub licences: Vec<(Vec<u8>, i16)>,
}

/// The rules and conversions resolved to positions in the staged row.
#[derive(Debug)]
pub struct Cleaner {
    spec: FactSpec,
    fields: Vec<Field>,
    rules: Vec<(usize, Test, Vec<usize>)>,
    convs: Vec<(Conv, Vec<usize>, Option<usize>)>,
    constants: BuildConstants,
    /// Licences the mart would not register ([`Cleaner::add_licence`]).
    refused: Vec<Vec<u8>>,
    /// The staged column of the licence ([`Conv::Licence`]), if the fact has one.
    licence_at: Option<usize>,
    /// The staged text columns the fact upper-cases or reads as flags: ASCII in a row the
    /// stream converts ([`Cleaner::streamable`], which runs for every clean row, so these are
    /// found once here rather than among every conversion there).
    ascii: Vec<usize>,
    /// The staged columns of the passenger total and of the licence
    /// ([`Cleaner::count_money`]).
    money: Vec<usize>,
    money_licence: Option<usize>,
}

/// A staged row: each field's bytes, `None` for NULL.
pub type Row<'a> = [Option<&'a [u8]>];

impl Cleaner {
    /// `staging`: the staged row's columns (name, type) in order.
    pub fn new(
        spec: FactSpec,
        staging: &[(String, String)],
        constants: BuildConstants,
    ) -> Result<Cleaner, MartError> {
        let fields = staging
            .iter()
            .map(|(name, ty)| {
                Field::of(ty).ok_or_else(|| MartError::Cleaning {
                    detail: format!("{}.{name} is {ty}, a type the stream does not read", spec.staging),
                })
            })
            .collect::<Result<Vec<Field>, MartError>>()?;
        let index = |col: Col| {
            staging.iter().position(|(name, _)| name == col).ok_or_else(|| MartError::Cleaning {
                detail: format!("{} has no column {col}", spec.staging),
            })
        };
        let positions =
            |cols: Vec<Col>| cols.into_iter().map(index).collect::<Result<Vec<usize>, MartError>>();
        let rules = spec
            .rules
            .iter()
            .enumerate()
            .map(|(i, Rule { test, .. })| Ok((i, *test, positions(test.sources())?)))
            .collect::<Result<_, MartError>>()?;
        let convs: Vec<(Conv, Vec<usize>, Option<usize>)> = spec
            .columns
            .iter()
            .map(|(_, conv)| {
                let member = match conv {
                    Conv::Member(_, d) => super::DIMENSIONS.iter().position(|x| x.table == d.table),
                    _ => None,
                };
                Ok((*conv, positions(conv.sources())?, member))
            })
            .collect::<Result<_, MartError>>()?;
        let licence_at = convs.iter().find_map(|(conv, at, _)| match conv {
            Conv::Licence(_) => at.first().copied(),
            _ => None,
        });
        let ascii = convs
            .iter()
            .filter_map(|(conv, at, _)| match conv {
                Conv::Code(_) | Conv::LooseFlag(_) => at.first().copied(),
                Conv::FlagOr(..) => at.get(1).copied(),
                _ => None,
            })
            .collect();
        Ok(Cleaner {
            spec,
            fields,
            rules,
            convs,
            constants,
            refused: Vec::new(),
            licence_at,
            ascii,
            money: Vec::new(),
            money_licence: None,
        })
    }

    /// Has [`Cleaner::count_passengers`] read the staged columns `columns` (the warehouse's
    /// passenger total, `atl_core::schema::passenger_total_columns`) and `licence` (the
    /// licence the rows are counted under, `atl_core::schema::licence_column`).
    pub fn count_money(
        &mut self,
        columns: &[&str],
        licence: Option<&str>,
        staging: &[(String, String)],
    ) -> Result<(), MartError> {
        let column = |col: &str, field: Field| {
            let at = staging.iter().position(|(name, _)| name == col);
            at.filter(|i| self.fields[*i] == field).ok_or_else(|| MartError::Cleaning {
                detail: format!("{} has no {field:?} column {col}", self.spec.staging),
            })
        };
        self.money = columns.iter().map(|col| column(col, Field::Float8)).collect::<Result<_, _>>()?;
        self.money_licence = licence.map(|col| column(col, Field::Text)).transpose()?;
        Ok(())
    }

    /// Counts `row` in `totals`: a row of its licence, with its passenger total in whole cents
    /// ([`atl_core::money`]). Returns whether one of its values is beyond the rounding rule's
    /// integer shortcut: then `totals` is left uncounted, and the warehouse's count of the
    /// month in whole cents may be off by the rule (`crate::warehouse_count::warehouse_totals`).
    pub fn count_passengers(&self, row: &Row, totals: &mut PassengerTotals) -> bool {
        let mut cents = 0;
        let mut beyond = false;
        for x in self.money.iter().filter_map(|&i| float(row, i)) {
            beyond |= !totals.add_value(&mut cents, x);
        }
        totals.add(self.money_licence.and_then(|i| row[i]), 1, cents);
        beyond
    }

    /// The fact's columns: how many values [`Cleaner::write_fact`] sets.
    pub fn width(&self) -> usize {
        self.convs.len()
    }

    /// The fact's columns with their types, as the build table must have them.
    pub fn fact_types(&self) -> Vec<(&'static str, String)> {
        self.spec
            .columns
            .iter()
            .zip(&self.convs)
            .map(|((name, conv), (_, at, _))| {
                let staged = at.first().map_or("", |i| sql_name(self.fields[*i]));
                (*name, conv.sql_type(staged))
            })
            .collect()
    }

    /// The first rule `row` fails, as its index in the spec's rules; `None`: the row is clean.
    pub fn reason(&self, row: &Row) -> Option<usize> {
        self.rules.iter().find(|(_, test, at)| self.fails(row, *test, at)).map(|(i, _, _)| *i)
    }

    fn fails(&self, row: &Row, test: Test, at: &[usize]) -> bool {
        let c = &self.constants;
        match test {
            Test::AnyNull(_) => at.iter().any(|i| row[*i].is_none()),
            Test::OutsideMonth(_) => ts(row, at[0]).is_some_and(|t| {
                t < i64::from(c.month_start_day) * DAY_US || t >= i64::from(c.month_end_day) * DAY_US
            }),
            Test::NotAfter(..) => matches!((ts(row, at[0]), ts(row, at[1])), (Some(a), Some(b)) if a <= b),
            Test::HoursAfter(_, _, h) => {
                matches!((ts(row, at[0]), ts(row, at[1])), (Some(a), Some(b)) if a > b.saturating_add(h * HOUR_US))
            }
            Test::NullOrOutside(_, lo, hi) => {
                at.iter().any(|i| row[*i].is_none())
                    || at.iter().any(|i| int(row, *i).is_some_and(|v| v < lo || v > hi))
            }
            Test::NullOrRoundsToAtMost(_, v) => float(row, at[0]).is_none_or(|x| match round_cents(x) {
                Some(cents) => cents as f64 <= v * 100.0,
                // NaN (numeric NaN is above every number), the infinities, |x| >= 1e13.
                None => !x.is_nan() && x < 0.0,
            }),
            Test::Above(_, v) => float(row, at[0]).is_some_and(|x| pg_gt(x, v)),
            Test::AnyNegative(_) => at.iter().any(|i| float(row, *i).is_some_and(|x| x < 0.0)),
            Test::AbsAbove(_, v) => at.iter().any(|i| float(row, *i).is_some_and(|x| pg_gt(x.abs(), v))),
            Test::NotWholeIn(_, lo, hi) => at.iter().any(|i| {
                float(row, *i).is_some_and(|x| x < lo as f64 || pg_gt(x, hi as f64) || x.trunc() != x)
            }),
            Test::Any(tests) => {
                let mut from = 0;
                tests.iter().any(|t| {
                    let n = t.source_count();
                    from += n;
                    self.fails(row, *t, &at[from - n..from])
                })
            }
            Test::HighVolume(t) => c.high_volume && self.fails(row, *t, at),
        }
    }

    /// Whether the stream converts a clean `row` exactly as the SQL would: not when a text it
    /// upper-cases is not ASCII (PostgreSQL's `upper` follows the server's locale) nor when
    /// its licence is one the mart does not list (the stream registers a new licence first,
    /// [`Cleaner::unlisted_licence`]; this is one the mart refused). Such rows are staged,
    /// and the SQL converts them.
    pub fn streamable(&self, row: &Row) -> bool {
        self.ascii.iter().all(|&i| row[i].is_none_or(<[u8]>::is_ascii))
            && self.licence_at.is_none_or(|i| self.service_of(row[i]).is_some())
    }

    /// Fact column `fact_column`'s code ([`Conv::Code`]) in a clean, streamable `row`, before
    /// its upper-casing; `None` for NULL, an empty code or a column that is not a code.
    pub fn code<'r>(&self, row: &Row<'r>, fact_column: usize) -> Option<&'r [u8]> {
        match self.convs.get(fact_column) {
            Some((Conv::Code(_), at, _)) => code(row[at[0]]),
            _ => None,
        }
    }

    /// The licence of `row` (trimmed) when the mart does not list it yet and it has not been
    /// refused ([`Cleaner::add_licence`]): the stream registers it before it converts the row.
    pub fn unlisted_licence<'r>(&self, row: &Row<'r>) -> Option<&'r [u8]> {
        let c = &self.constants;
        let at = self.licence_at.filter(|_| c.high_volume)?;
        row[at]
            .map(trim_spaces)
            .filter(|key| !key.is_empty() && !c.licences.iter().any(|(l, _)| l == key))
            .filter(|key| !self.refused.iter().any(|l| l == key))
    }

    /// Lists `licence` as the mart registered it: with its service, or refused (`None`: the
    /// mart gave it none, and its rows are left to the SQL as before).
    pub fn add_licence(&mut self, licence: Vec<u8>, service: Option<i16>) {
        match service {
            Some(id) => self.constants.licences.push((licence, id)),
            None => self.refused.push(licence),
        }
    }

    /// `mart.for_hire_key` looked up: the kind's own member without a licence (or for other
    /// FHV), `None` for a licence the mart does not list.
    fn service_of(&self, licence: Option<&[u8]>) -> Option<i16> {
        let c = &self.constants;
        let key = licence.map_or(&b""[..], trim_spaces);
        if !c.high_volume || key.is_empty() {
            return Some(c.service_id);
        }
        c.licences.iter().find(|(l, _)| l == key).map(|(_, id)| *id)
    }

    /// Appends the fact row of a clean `row` to `out` in binary COPY form, and sets `values`
    /// (one per fact column) to each number column's value, whole or in cents, for the
    /// roll-ups ([`super::rollup::Rollups::add`]); `None` for NULL and the other columns.
    pub fn write_fact(
        &self,
        row: &Row,
        out: &mut BytesMut,
        values: &mut [Option<i64>],
    ) -> Result<(), String> {
        let c = &self.constants;
        out.put_i16(self.convs.len() as i16);
        for ((conv, at, member), value) in self.convs.iter().zip(values.iter_mut()) {
            *value = None;
            match *conv {
                Conv::Service => *value = put_i16(out, Some(c.service_id)),
                Conv::Same(_) => put_raw(out, row[at[0]]),
                Conv::DateId(_) => {
                    let day = ts(row, at[0]).map(|t| t.div_euclid(DAY_US) as i32 - c.month_start_day);
                    *value = put_i32(out, day.map(|d| c.first_date_id + d))
                }
                Conv::Hour(_) => {
                    *value = put_i16(out, ts(row, at[0]).map(|t| (t.rem_euclid(DAY_US) / HOUR_US) as i16))
                }
                Conv::Int(_) => *value = put_i32(out, int(row, at[0]).map(|v| v as i32)),
                Conv::Member(_, d) => {
                    let members = &c.members[member.unwrap_or_default()];
                    let listed = match d.element {
                        Element::Bigint => int(row, at[0]).filter(|v| members.contains(v)),
                        Element::Float8 => float(row, at[0])
                            .filter(|x| members.iter().any(|m| *m as f64 == *x))
                            .map(|x| x as i64),
                    };
                    *value = put_i32(out, Some(listed.map_or(-1, |v| v as i32)));
                }
                Conv::WholeIn(_, lo, hi) => {
                    *value = put_i16(
                        out,
                        float(row, at[0])
                            .filter(|x| (f64::from(lo)..=f64::from(hi)).contains(x) && x.fract() == 0.0)
                            .map(|x| x as i16),
                    )
                }
                Conv::Flag(_) => {
                    let flag = match row[at[0]] {
                        Some(b"Y") => Some(true),
                        Some(b"N") => Some(false),
                        _ => None,
                    };
                    *value = put_bool(out, flag)
                }
                Conv::Seconds(..) => {
                    let d = ts(row, at[1]).zip(ts(row, at[0])).map(|(b, a)| b - a);
                    *value = put_i32(out, d.map(seconds))
                }
                Conv::Kind => *value = put_i16(out, Some(c.service_id)),
                Conv::Licence(col) => {
                    let id =
                        self.service_of(row[at[0]]).ok_or_else(|| format!("{col}: a licence not listed"))?;
                    *value = put_i16(out, Some(id))
                }
                // Upper-cased where it is written: no buffer per value, and no byte-by-byte
                // Extend (1.3 % of atl-mart's samples on a high-volume month).
                Conv::Code(_) => match code(row[at[0]]) {
                    None => put_raw(out, None),
                    Some(code) => {
                        out.put_i32(code.len() as i32);
                        let start = out.len();
                        out.put_slice(code);
                        out[start..].make_ascii_uppercase();
                    }
                },
                Conv::Zone(_) => *value = put_i32(out, float(row, at[0]).map(|x| x as i32)),
                Conv::IntIn(_, lo, hi) => {
                    let v = int(row, at[0]).filter(|v| (i64::from(lo)..=i64::from(hi)).contains(v));
                    *value = put_i32(out, v.map(|v| v as i32))
                }
                Conv::SecondsWithinDay(..) => {
                    let d = ts(row, at[1]).zip(ts(row, at[0])).map(|(b, a)| b - a);
                    *value = put_i32(out, d.filter(|d| (0..=DAY_US).contains(d)).map(seconds))
                }
                Conv::LooseFlag(_) => *value = put_bool(out, loose_flag(row[at[0]])),
                Conv::FlagOr(..) => {
                    let flag =
                        if float(row, at[0]) == Some(1.0) { Some(true) } else { loose_flag(row[at[1]]) };
                    *value = put_bool(out, flag)
                }
                Conv::CentsSum(cols) => {
                    let mut sum: i64 = 0;
                    for (i, col) in at.iter().zip(cols) {
                        if let Some(x) = float(row, *i) {
                            sum += round_cents(x).ok_or_else(|| format!("{col} = {x} (in cents)"))?;
                        }
                    }
                    let total =
                        i32::try_from(sum).map_err(|_| format!("a passenger total of {sum} cents"))?;
                    *value = put_i32(out, Some(total))
                }
                Conv::Cents(col) => match float(row, at[0]) {
                    None => put_raw(out, None),
                    Some(x) => {
                        let cents = round_cents(x).and_then(|c| i32::try_from(c).ok());
                        *value = put_i32(out, Some(cents.ok_or_else(|| format!("{col} = {x} (in cents)"))?));
                    }
                },
            }
        }
        Ok(())
    }
}

/// `nullif(upper(btrim(x)), '')` before the upper-casing (ASCII `x`, [`Cleaner::streamable`]):
/// the bytes between the spaces at either end, `None` for NULL or no bytes.
fn code(value: Option<&[u8]>) -> Option<&[u8]> {
    value.map(trim_spaces).filter(|b| !b.is_empty())
}

/// `btrim(x)`: without the spaces at either end.
fn trim_spaces(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|b| *b != b' ').unwrap_or(bytes.len());
    let end = bytes.iter().rposition(|b| *b != b' ').map_or(start, |e| e + 1);
    &bytes[start..end]
}

/// `CASE upper(btrim(x)) WHEN 'Y' THEN true WHEN 'N' THEN false END` (ASCII `x`).
fn loose_flag(value: Option<&[u8]>) -> Option<bool> {
    match value.map(trim_spaces) {
        Some(b"Y" | b"y") => Some(true),
        Some(b"N" | b"n") => Some(false),
        _ => None,
    }
}

fn sql_name(field: Field) -> &'static str {
    match field {
        Field::Bigint => "bigint",
        Field::Float8 => "double precision",
        Field::Timestamp => "timestamp without time zone",
        Field::Date => "date",
        Field::Text => "text",
    }
}

/// PostgreSQL's float8 `>`: NaN is above every number and equal to itself.
fn pg_gt(a: f64, b: f64) -> bool {
    match (a.is_nan(), b.is_nan()) {
        (true, b_nan) => !b_nan,
        (false, true) => false,
        _ => a > b,
    }
}

fn eight(row: &Row, i: usize) -> Option<[u8; 8]> {
    row[i].and_then(|b| b.try_into().ok())
}
fn ts(row: &Row, i: usize) -> Option<i64> {
    eight(row, i).map(i64::from_be_bytes)
}
fn int(row: &Row, i: usize) -> Option<i64> {
    eight(row, i).map(i64::from_be_bytes)
}
fn float(row: &Row, i: usize) -> Option<f64> {
    eight(row, i).map(f64::from_be_bytes)
}

/// `floor(date_part('epoch', b - a) + 0.5)` for 0 < b - a <= 24 h, the durations the rules
/// keep: the interval's epoch is its microseconds / 1e6 in float8.
pub fn seconds(micros: i64) -> i32 {
    (micros as f64 / 1e6 + 0.5).floor() as i32
}

fn put_raw(out: &mut BytesMut, value: Option<&[u8]>) {
    match value {
        None => out.put_i32(-1),
        Some(bytes) => {
            out.put_i32(bytes.len() as i32);
            out.put_slice(bytes);
        }
    }
}
/// Writes `value` and returns it, widened.
fn put_i16(out: &mut BytesMut, value: Option<i16>) -> Option<i64> {
    put_raw(out, value.map(i16::to_be_bytes).as_ref().map(|b| b.as_slice()));
    value.map(i64::from)
}
fn put_i32(out: &mut BytesMut, value: Option<i32>) -> Option<i64> {
    put_raw(out, value.map(i32::to_be_bytes).as_ref().map(|b| b.as_slice()));
    value.map(i64::from)
}
/// Writes `value` and returns it as 1 or 0.
fn put_bool(out: &mut BytesMut, value: Option<bool>) -> Option<i64> {
    put_raw(out, value.map(|v| [u8::from(v)]).as_ref().map(|b| b.as_slice()));
    value.map(i64::from)
}
