//! The SQL of insertion.sql derived from the declarations: each `GENERATED` region of the file
//! is [`region`] of its name.

use super::{Conv, DIMENSIONS, Element, FACT, RULES, Test};

/// The marker lines around a generated region.
pub fn markers(name: &str) -> (String, String) {
    (
        format!(
            "-- BEGIN GENERATED {name}: from crates/mart/src/cleaning (edit there; cargo test rewrites this)"
        ),
        format!("-- END GENERATED {name}"),
    )
}

/// The names of the regions, in file order.
pub const REGIONS: [&str; 4] = ["rules", "classify", "convert", "rollups"];

/// The text between the markers of region `name` (each line ending in a newline).
pub fn region(name: &str) -> String {
    match name {
        "rules" => rules_doc(),
        "classify" => classify(),
        "convert" => convert(),
        "rollups" => super::rollup::sql(),
        _ => panic!("no generated region {name}"),
    }
}

/// Replaces every generated region of `file` with its current text.
pub fn regenerate(file: &str) -> Result<String, String> {
    let mut out = file.to_owned();
    for name in REGIONS {
        let (begin, end) = markers(name);
        let start = out.find(&begin).ok_or_else(|| format!("no line {begin:?}"))? + begin.len() + 1;
        let stop = out[start..].find(&end).ok_or_else(|| format!("no line {end:?}"))? + start;
        out.replace_range(start..stop, &region(name));
    }
    Ok(out)
}

fn rules_doc() -> String {
    let mut out = String::new();
    for rule in RULES {
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
    let whens: String = RULES
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
        .collect();
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
SELECT %1$s::smallint AS service_id, %2$L::date AS month_start, s.*,
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
    }
}

fn convert() -> String {
    let names: Vec<&str> = FACT.iter().map(|(n, _)| *n).collect();
    let select: Vec<String> = FACT
        .iter()
        .map(|(n, conv)| match expression(*conv) {
            e if e == format!("c.{n}") => format!("       {e}"),
            e => format!("       {e} AS {n}"),
        })
        .collect();
    let names: Vec<String> = names.iter().map(|n| format!("{n},\u{0}")).collect();
    let names = wrap(names.concat().trim_end_matches(",\u{0}"), '\u{0}', 33);
    format!(
        "INSERT INTO mart.fact_trip_build ({names})\nSELECT\n{}\nFROM classified_trip c CROSS JOIN build_constants k\nWHERE c.reason IS NULL;\n",
        select.join(",\n")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// insertion.sql's generated regions are what the declarations make today. On a
    /// difference the file is rewritten (review the diff, commit it) and the test fails once.
    #[test]
    fn insertion_sql_is_generated_from_the_rules() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../sql/mart/insertion.sql");
        let file = std::fs::read_to_string(path).unwrap();
        let fresh = regenerate(&file).unwrap();
        if fresh != file {
            std::fs::write(path, &fresh).unwrap();
            panic!(
                "sql/mart/insertion.sql was out of date with crates/mart/src/cleaning and has been rewritten"
            );
        }
    }

    #[test]
    fn each_rule_is_one_when_of_the_case_in_order() {
        let sql = region("classify");
        let mut at = 0;
        for rule in RULES {
            let found = sql[at..].find(&format!("THEN '{}'", rule.reason)).unwrap();
            at += found;
        }
        assert!(
            sql.contains("WHEN s.dropoff_at > s.pickup_at + interval '24 hours' THEN 'trip_over_24h'"),
            "{sql}"
        );
    }
}
