//! The SQL of insertion.sql and insertion_for_hire.sql derived from the declarations: each
//! `GENERATED` region of a file is [`region`] of its name.

use super::for_hire::FOR_HIRE;
use super::{Conv, DIMENSIONS, Element, FactSpec, Rule, TAXI, Test};

/// The marker lines around a generated region.
pub fn markers(name: &str) -> (String, String) {
    (
        format!(
            "-- BEGIN GENERATED {name}: from crates/mart/src/cleaning (edit there; cargo test rewrites this)"
        ),
        format!("-- END GENERATED {name}"),
    )
}

/// The names of insertion.sql's regions, in file order.
pub const REGIONS: [&str; 4] = ["rules", "classify", "convert", "rollups"];
/// The names of insertion_for_hire.sql's regions, in file order.
pub const FOR_HIRE_REGIONS: [&str; 4] =
    ["for_hire_rules", "for_hire_classify", "for_hire_convert", "for_hire_rollups"];

/// The text between the markers of region `name` (each line ending in a newline).
pub fn region(name: &str) -> String {
    match name {
        "rules" => rules_doc(TAXI.rules),
        "classify" => classify(),
        "convert" => convert(&TAXI, "classified_trip"),
        "rollups" => super::rollup::sql(&super::rollup::TAXI_ROLLUPS),
        "for_hire_rules" => rules_doc(FOR_HIRE.rules),
        "for_hire_classify" => for_hire_classify(),
        "for_hire_convert" => convert(&FOR_HIRE, "classified_for_hire"),
        "for_hire_rollups" => super::rollup::sql(&super::for_hire::FOR_HIRE_ROLLUPS),
        _ => panic!("no generated region {name}"),
    }
}

/// Replaces every generated region `regions` of `file` with its current text.
pub fn regenerate(file: &str, regions: &[&str]) -> Result<String, String> {
    let mut out = file.to_owned();
    for &name in regions {
        let (begin, end) = markers(name);
        let start = out.find(&begin).ok_or_else(|| format!("no line {begin:?}"))? + begin.len() + 1;
        let stop = out[start..].find(&end).ok_or_else(|| format!("no line {end:?}"))? + start;
        out.replace_range(start..stop, &region(name));
    }
    Ok(out)
}

fn rules_doc(rules: &[Rule]) -> String {
    let mut out = String::new();
    for rule in rules {
        let mut line = format!("--   {:<25} ", rule.reason);
        let indent = line.len();
        for word in rule.doc.split(' ') {
            if line.len() + word.len() > 96 {
                out.push_str(line.trim_end());
                out.push('\n');
                line = format!("--{}", " ".repeat(indent - 2));
            }
            line.push_str(word);
            line.push(' ');
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// A test as a SQL condition over the staging row `s`; `%2$L` and `%3$L` are the month's
/// bounds in the format() that makes the view.
pub fn condition(test: Test) -> String {
    let each =
        |cs: &[&str], f: &dyn Fn(&str) -> String| cs.iter().map(|c| f(c)).collect::<Vec<_>>().join(" OR ");
    match test {
        Test::AnyNull(cs) => each(cs, &|c| format!("s.{c} IS NULL")),
        Test::OutsideMonth(c) => format!("s.{c} < %2$L::timestamp OR s.{c} >= %3$L::timestamp"),
        Test::NotAfter(a, b) => format!("s.{a} <= s.{b}"),
        Test::HoursAfter(a, b, h) => format!("s.{a} > s.{b} + interval '{h} hours'"),
        Test::NullOrOutside(cs, lo, hi) => format!(
            "{} OR {}",
            each(cs, &|c| format!("s.{c} IS NULL")),
            each(cs, &|c| format!("s.{c} NOT BETWEEN {lo} AND {hi}"))
        ),
        Test::NullOrRoundsToAtMost(c, v) => format!("s.{c} IS NULL OR mart.round_cents(s.{c}) <= {v}"),
        Test::Above(c, v) => format!("s.{c} > {v}"),
        Test::AnyNegative(cs) => each(cs, &|c| format!("s.{c} < 0")),
        Test::AbsAbove(cs, v) => {
            let abs: Vec<String> = cs.iter().map(|c| format!("abs(s.{c}),\u{0}")).collect();
            let list = wrap(abs.concat().trim_end_matches(",\u{0}"), '\u{0}', 25);
            format!("greatest({list}) > {v}")
        }
        Test::NotWholeIn(cs, lo, hi) => {
            each(cs, &|c| format!("s.{c} NOT BETWEEN {lo} AND {hi} OR s.{c} <> trunc(s.{c})"))
        }
        Test::Any(tests) => tests.iter().map(|t| condition(*t)).collect::<Vec<_>>().join(" OR "),
        // %6$s: true for a high-volume month, in the format() of insertion_for_hire.sql's view.
        Test::HighVolume(t) => format!("%6$s AND ({})", condition(*t)),
    }
}

/// Lines of SQL at most this long, where a list allows.
const WIDTH: usize = 96;

/// `text` with each `sep` a space, or a line break and `indent` spaces where the line would
/// pass [`WIDTH`] (counting the 16 columns a WHEN starts at).
fn wrap(text: &str, sep: char, indent: usize) -> String {
    let mut out = String::new();
    let mut column = 16;
    for (i, piece) in text.split(sep).enumerate() {
        if i > 0 {
            if column + 1 + piece.len() > WIDTH {
                out.push('\n');
                out.push_str(&" ".repeat(indent));
                column = indent;
            } else {
                out.push(' ');
                column += 1;
            }
        }
        out.push_str(piece);
        column += piece.len();
    }
    out
}

fn array_type(element: Element) -> &'static str {
    match element {
        Element::Bigint => "bigint[]",
        Element::Float8 => "float8[]",
    }
}

fn classify() -> String {
    let arrays: Vec<String> = DIMENSIONS
        .iter()
        .enumerate()
        .map(|(i, d)| format!("%{}$L::{} AS {}", i + 3, array_type(d.element), d.array))
        .collect();
    let members: Vec<String> = DIMENSIONS
        .iter()
        .map(|d| format!("        (SELECT array_agg({k} ORDER BY {k}) FROM {t})", k = d.key, t = d.table))
        .collect();
    let whens = whens(TAXI.rules);
    format!(
        "DO $do$
DECLARE
    p build_params;
BEGIN
    SELECT * INTO STRICT p FROM build_params;
    EXECUTE format($view$
CREATE TEMP VIEW build_constants AS
SELECT %1$L::date AS month_start, %2$s::int AS first_date_id,
       {arrays}
$view$, p.month_start::date, p.month_id * 100 + 1,
{members});
    EXECUTE format($view$
CREATE TEMP VIEW classified_trip AS
SELECT %1$s::smallint AS service_id, %2$L::date AS month_start, s.ctid AS staged_ctid, s.*,
       CASE
{whens}       END AS reason
FROM mart.staging_trip s
$view$, p.service_id, p.month_start, p.month_end);
END
$do$;
",
        arrays = arrays.join(", "),
        members = members.join(",\n"),
    )
}

/// The CASE's WHENs, a rule each.
fn whens(rules: &[Rule]) -> String {
    rules
        .iter()
        .map(|r| {
            let when = format!("           WHEN {} THEN '{}'", condition(r.test), r.reason);
            if when.len() <= WIDTH {
                return when + "\n";
            }
            // Long conditions: one alternative per line, the reason on its own.
            let cond = wrap(&condition(r.test).replace(" OR ", "\u{0}OR "), '\u{0}', 16);
            format!("           WHEN {cond}\n               THEN '{}'\n", r.reason)
        })
        .collect()
}

/// insertion_for_hire.sql's view: the kind, the month's bounds and the licence -> service map
/// (`services`, from build_services) written into it as constants, so that the queries over
/// it may scan the staging table in parallel.
fn for_hire_classify() -> String {
    format!(
        "DO $do$
DECLARE
    p build_params;
    services text;
BEGIN
    SELECT * INTO STRICT p FROM build_params;
    SELECT coalesce(string_agg(format('WHEN %L THEN %s', key, service_id), ' '), '') INTO services
    FROM build_services WHERE key <> '';
    EXECUTE format($view$
CREATE TEMP VIEW build_constants AS
SELECT %1$L::date AS month_start, %2$s::int AS first_date_id
$view$, p.month_start::date, p.month_id * 100 + 1);
    EXECUTE format($view$
CREATE TEMP VIEW classified_for_hire AS
SELECT %1$s::smallint AS kind_id,
       (CASE mart.for_hire_key(%4$L, s.hvfhs_license_num) WHEN '' THEN %1$s %5$s ELSE %1$s END)::smallint
           AS service_id,
       s.ctid AS staged_ctid, s.*,
       CASE
{whens}       END AS reason
FROM mart.staging_for_hire s
$view$, p.kind_id, p.month_start, p.month_end, p.kind, services,
                  CASE WHEN p.kind = 'fhvhv' THEN 'true' ELSE 'false' END);
END
$do$;
",
        whens = whens(FOR_HIRE.rules)
    )
}

/// A conversion as a SQL expression over the classified row `c` and build_constants `k`.
pub fn expression(conv: Conv) -> String {
    match conv {
        Conv::Service => "c.service_id".into(),
        Conv::Same(c) => format!("c.{c}"),
        Conv::DateId(c) => format!("k.first_date_id + (c.{c}::date - k.month_start)"),
        Conv::Hour(c) => format!("date_part('hour', c.{c})::smallint"),
        Conv::Int(c) => format!("c.{c}::int"),
        Conv::Member(c, d) => format!("CASE WHEN c.{c} = ANY (k.{}) THEN c.{c}::int ELSE -1 END", d.array),
        Conv::WholeIn(c, lo, hi) => {
            let list: Vec<String> = (lo..=hi).map(|v| v.to_string()).collect();
            format!("CASE WHEN c.{c} IN ({}) THEN c.{c}::smallint END", list.join(", "))
        }
        Conv::Flag(c) => format!("CASE c.{c} WHEN 'Y' THEN true WHEN 'N' THEN false END"),
        Conv::Seconds(a, b) => format!("floor(date_part('epoch', c.{b} - c.{a}) + 0.5)::int"),
        Conv::Cents(c) => format!("(mart.round_cents(c.{c}) * 100)::int"),
        Conv::CentsSum(cs) => {
            let terms: Vec<String> =
                cs.iter().map(|c| format!("coalesce(mart.round_cents(c.{c}), 0)")).collect();
            format!("(({}) * 100)::int", terms.join(" + "))
        }
        Conv::Kind => "c.kind_id".into(),
        Conv::Licence(_) => "c.service_id".into(),
        Conv::Code(c) => format!("nullif(upper(btrim(c.{c})), '')"),
        Conv::Zone(c) => format!("c.{c}::int"),
        Conv::IntIn(c, lo, hi) => format!("CASE WHEN c.{c} BETWEEN {lo} AND {hi} THEN c.{c}::int END"),
        Conv::SecondsWithinDay(a, b) => format!(
            "CASE WHEN c.{a} <= c.{b} AND c.{a} >= c.{b} - interval '1 day' \
             THEN floor(date_part('epoch', c.{b} - c.{a}) + 0.5)::int END"
        ),
        Conv::LooseFlag(c) => loose_flag(c),
        Conv::FlagOr(a, b) => format!("CASE WHEN c.{a} = 1 THEN true ELSE {} END", loose_flag(b)),
    }
}

fn loose_flag(c: &str) -> String {
    format!("CASE upper(btrim(c.{c})) WHEN 'Y' THEN true WHEN 'N' THEN false END")
}

fn convert(spec: &FactSpec, view: &str) -> String {
    let names: Vec<&str> = spec.columns.iter().map(|(n, _)| *n).collect();
    let select: Vec<String> = spec
        .columns
        .iter()
        .map(|(n, conv)| match expression(*conv) {
            e if e == format!("c.{n}") => format!("       {e}"),
            e => format!("       {e} AS {n}"),
        })
        .collect();
    let names: Vec<String> = names.iter().map(|n| format!("{n},\u{0}")).collect();
    let indent = "INSERT INTO (".len() + spec.build.len();
    let names = wrap(names.concat().trim_end_matches(",\u{0}"), '\u{0}', indent);
    format!(
        "INSERT INTO {} ({names})\nSELECT\n{}\nFROM {view} c CROSS JOIN build_constants k\nWHERE c.reason IS NULL;\n",
        spec.build,
        select.join(",\n")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// insertion.sql's and insertion_for_hire.sql's generated regions are what the
    /// declarations make today. On a difference the file is rewritten (review the diff, commit
    /// it) and the test fails once.
    #[test]
    fn insertion_sql_is_generated_from_the_rules() {
        let mut stale = Vec::new();
        for (file, regions) in
            [("insertion.sql", &REGIONS[..]), ("insertion_for_hire.sql", &FOR_HIRE_REGIONS[..])]
        {
            let path = format!("{}/../../sql/mart/{file}", env!("CARGO_MANIFEST_DIR"));
            let text = std::fs::read_to_string(&path).unwrap();
            let fresh = regenerate(&text, regions).unwrap();
            if fresh != text {
                std::fs::write(&path, &fresh).unwrap();
                stale.push(file);
            }
        }
        assert!(
            stale.is_empty(),
            "sql/mart/{stale:?} was out of date with crates/mart/src/cleaning and has been rewritten"
        );
    }

    #[test]
    fn each_rule_is_one_when_of_the_case_in_order() {
        let sql = region("classify");
        let mut at = 0;
        for rule in TAXI.rules {
            let found = sql[at..].find(&format!("THEN '{}'", rule.reason)).unwrap();
            at += found;
        }
        assert!(
            sql.contains("WHEN s.dropoff_at > s.pickup_at + interval '24 hours' THEN 'trip_over_24h'"),
            "{sql}"
        );
    }
}
