//! Roll-ups keyed by a text code of the fact (the for-hire fact's dispatching base), declared
//! once like the number-keyed ones of [`super::rollup`]: their SQL (`CREATE TEMP TABLE IF NOT
//! EXISTS ... GROUP BY code`, in the same generated region) and [`CodeCounts`], which sums the
//! same groups as the stream writes the fact rows. The code is a text, which the number
//! roll-ups' fixed keys cannot hold; a month has a few hundred bases, so a map of them is
//! small, and the stream's count spares the SQL a grouping pass over the text column of the
//! whole new partition (0.54 s of insertion_for_hire.sql for a 3 M-row month, measured once
//! with auto_explain).

use rustc_hash::FxHashMap;

use super::Conv;

/// One code roll-up: per value of `code` (rows where it is not NULL), the smallest `min`
/// and the rows, as columns `code`, `min` and `trips`.
#[derive(Debug, Clone, Copy)]
pub struct CodeRollup {
    pub table: &'static str,
    /// A [`Conv::Code`] column of the fact.
    pub code: &'static str,
    /// A whole-number column of the fact (a smallint: the service).
    pub min: &'static str,
}

/// The roll-up's SQL over `build`, the month's build table.
pub fn sql(r: &CodeRollup, build: &str) -> String {
    let CodeRollup { table, code, min } = r;
    format!(
        "CREATE TEMP TABLE IF NOT EXISTS {table} ON COMMIT DROP AS\nSELECT {code}, min({min}) AS {min}, count(*) AS trips\n\
         FROM {build}\nWHERE {code} IS NOT NULL\nGROUP BY {code};\n"
    )
}

/// A code roll-up summed row by row.
#[derive(Debug)]
pub struct CodeCounts {
    rollup: CodeRollup,
    /// The positions of `code` and `min` in the fact row.
    code_at: usize,
    min_at: usize,
    /// The `min` column's SQL type, which `min()` keeps.
    min_type: String,
    /// Per code (upper-cased, as the fact holds it): (smallest `min`, rows).
    groups: FxHashMap<Box<[u8]>, (Option<i64>, i64)>,
    key: Vec<u8>,
}

impl CodeCounts {
    /// Resolves `r` against the fact's `columns`; an error names a column that is not of the
    /// kind the roll-up needs.
    pub fn new(r: &CodeRollup, columns: &[(&str, Conv)]) -> Result<CodeCounts, String> {
        let at = |name: &str| columns.iter().position(|(n, _)| *n == name);
        let code_at = at(r.code)
            .filter(|&i| matches!(columns[i].1, Conv::Code(_)))
            .ok_or_else(|| format!("{} counts {}, not a code column of the fact", r.table, r.code))?;
        let min_at = at(r.min)
            .filter(|&i| matches!(columns[i].1, Conv::Service | Conv::Kind | Conv::Licence(_)))
            .ok_or_else(|| {
                format!("{} takes the least {}, not a service column of the fact", r.table, r.min)
            })?;
        Ok(CodeCounts {
            rollup: *r,
            code_at,
            min_at,
            min_type: columns[min_at].1.sql_type(""),
            groups: FxHashMap::default(),
            key: Vec::with_capacity(16),
        })
    }

    /// Counts one fact row: `code(i)` gives fact column `i`'s code before upper-casing
    /// ([`super::row::Cleaner::code`]), `values` its numbers.
    pub fn add<'r>(&mut self, code: impl Fn(usize) -> Option<&'r [u8]>, values: &[Option<i64>]) {
        let Some(raw) = code(self.code_at) else { return };
        self.key.clear();
        self.key.extend(raw.iter().map(u8::to_ascii_uppercase));
        let min = values[self.min_at];
        let least = |a: Option<i64>| match (a, min) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        match self.groups.get_mut(self.key.as_slice()) {
            Some((m, trips)) => {
                *m = least(*m);
                *trips += 1;
            }
            None => {
                self.groups.insert(self.key.clone().into_boxed_slice(), (min, 1));
            }
        }
    }

    /// The CREATE TEMP TABLE statement (the types of [`sql`]'s SELECT), the COPY statement
    /// and the rows in COPY's text form (a backslash, tab, newline or carriage return in a
    /// code escaped as COPY reads it back), or an error for a code that is not UTF-8 (the
    /// stream only takes ASCII codes).
    pub fn table(&self) -> Result<(String, String, String), String> {
        let CodeRollup { table, code, min } = self.rollup;
        let create = format!(
            "CREATE TEMP TABLE {table} ({code} text, {min} {}, trips bigint) ON COMMIT DROP",
            self.min_type
        );
        let mut rows = String::new();
        for (key, (least, trips)) in &self.groups {
            let text = std::str::from_utf8(key)
                .map_err(|_| format!("{table}: a {code} that is not UTF-8: {key:?}"))?;
            for c in text.chars() {
                match c {
                    '\\' => rows.push_str("\\\\"),
                    '\t' => rows.push_str("\\t"),
                    '\n' => rows.push_str("\\n"),
                    '\r' => rows.push_str("\\r"),
                    c => rows.push(c),
                }
            }
            let least = least.map_or_else(|| "\\N".to_owned(), |m| m.to_string());
            rows.push_str(&format!("\t{least}\t{trips}\n"));
        }
        Ok((create, format!("COPY {table} FROM STDIN"), rows))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cleaning::for_hire::FACT;

    const BASES: CodeRollup =
        CodeRollup { table: "rollup_base", code: "dispatching_base_num", min: "service_id" };

    #[test]
    fn counts_each_upper_cased_code_with_its_least_service() {
        let mut counts = CodeCounts::new(&BASES, FACT).unwrap();
        let service = FACT.iter().position(|(n, _)| *n == "service_id").unwrap();
        let mut values = vec![None; FACT.len()];
        for (code, id) in [(Some(&b"b03404"[..]), 5), (Some(b"B03404"), 3), (None, 2), (Some(b"B02510"), 7)] {
            values[service] = Some(id);
            counts.add(|_| code, &values);
        }
        let (create, copy, rows) = counts.table().unwrap();
        assert_eq!(
            create,
            "CREATE TEMP TABLE rollup_base (dispatching_base_num text, service_id smallint, trips bigint) ON COMMIT DROP"
        );
        assert_eq!(copy, "COPY rollup_base FROM STDIN");
        let mut lines: Vec<&str> = rows.lines().collect();
        lines.sort_unstable();
        assert_eq!(lines, ["B02510\t7\t1", "B03404\t3\t2"]);
    }

    #[test]
    fn refuses_a_column_that_is_not_a_code() {
        let bad = CodeRollup { code: "pu_zone_id", ..BASES };
        assert!(CodeCounts::new(&bad, FACT).unwrap_err().contains("not a code column"));
        let bad = CodeRollup { min: "dispatching_base_num", ..BASES };
        assert!(CodeCounts::new(&bad, FACT).unwrap_err().contains("not a service column"));
    }

    #[test]
    fn a_code_with_copy_text_escapes_is_escaped() {
        let mut counts = CodeCounts::new(&BASES, FACT).unwrap();
        counts.add(|_| Some(b"b0\t1\\n\r"), &vec![Some(1); FACT.len()]);
        let (_, _, rows) = counts.table().unwrap();
        assert_eq!(rows, "B0\\t1\\\\N\\r\t1\t1\n");
    }

    #[test]
    fn a_code_that_is_not_utf8_is_an_error() {
        let mut counts = CodeCounts::new(&BASES, FACT).unwrap();
        counts.add(|_| Some(b"B0\xff"), &vec![Some(1); FACT.len()]);
        assert!(counts.table().unwrap_err().contains("rollup_base"));
    }
}
