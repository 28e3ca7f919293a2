//! `data_reports_monthly.csv`, the TLC's monthly indicators per licence class. Read by
//! header name, trimmed: older releases pad the names with spaces. Numbers come quoted with
//! thousands separators (`"1,632"`), rates with `%`; `-` (and empty, `NULL`, `N/A`) means
//! "not applicable" and reads as `None`.

use atl_core::YearMonth;

use super::ReferenceError;

/// The indicators this project compares with its own figures, for one month and class.
#[derive(Debug, Clone, PartialEq)]
pub struct Indicator {
    pub month: YearMonth,
    /// `Yellow`, `Green`, `FHV - High Volume`, `FHV - Black Car`, ... as published.
    pub licence_class: String,
    /// Trips picked up in the month over its days.
    pub trips_per_day: Option<f64>,
    /// Total amount less the tips of card trips over the month's days (sql/mart/README.md,
    /// "The TLC's farebox"); `None` for the
    /// for-hire classes, which the TLC does not publish it for.
    pub farebox_per_day: Option<f64>,
}

fn fail(reason: impl Into<String>) -> ReferenceError {
    ReferenceError { what: "the indicators CSV", reason: reason.into() }
}

const MONTH: &str = "Month/Year";
const CLASS: &str = "License Class";
const TRIPS: &str = "Trips Per Day";
const FAREBOX: &str = "Farebox Per Day";

/// Every row of the CSV. Fails, naming the column or line, on a file without the columns
/// above, a month that does not read, or no row.
pub fn read_indicators(bytes: &[u8]) -> Result<Vec<Indicator>, ReferenceError> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(bytes);
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| fail(format!("the header does not read: {e}")))?
        .iter()
        .map(|h| h.trim().to_owned())
        .collect();
    let column = |name: &str| {
        header.iter().position(|h| h.eq_ignore_ascii_case(name)).ok_or_else(|| {
            let shown: String = header.join(",").chars().take(120).collect();
            fail(format!("no column {name:?} in the header `{shown}`"))
        })
    };
    let (month, class, trips, farebox) = (column(MONTH)?, column(CLASS)?, column(TRIPS)?, column(FAREBOX)?);
    let mut out = Vec::new();
    for (i, row) in reader.records().enumerate() {
        let line = i + 2;
        let row = row.map_err(|e| fail(format!("line {line}: {e}")))?;
        let cell = |c: usize| row.get(c).unwrap_or("").trim();
        if row.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let month = parse_month(cell(month))
            .ok_or_else(|| fail(format!("line {line}: {:?} is not a month", cell(month))))?;
        let number = |c: usize| {
            let v = cell(c);
            parse_number(v)
                .map_err(|()| fail(format!("line {line}: {:?} in {:?} is not a number", v, header[c])))
        };
        out.push(Indicator {
            month,
            licence_class: cell(class).to_owned(),
            trips_per_day: number(trips)?,
            farebox_per_day: number(farebox)?,
        });
    }
    if out.is_empty() {
        return Err(fail("it has a header and no rows"));
    }
    Ok(out)
}

/// `2024-01`, `2024-01-01` or `01/2024`.
fn parse_month(v: &str) -> Option<YearMonth> {
    if let Ok(m) = v.get(..7).unwrap_or(v).parse::<YearMonth>() {
        return Some(m);
    }
    let (m, y) = v.split_once('/')?;
    YearMonth::new(y.trim().parse().ok()?, m.trim().parse().ok()?)
}

/// `"1,632"` → 1632, `76%` → 76, `-`/empty/`NULL`/`N/A` → `None`.
fn parse_number(v: &str) -> Result<Option<f64>, ()> {
    if v.is_empty() || v == "-" || v.eq_ignore_ascii_case("null") || v.eq_ignore_ascii_case("n/a") {
        return Ok(None);
    }
    let cleaned: String = v.chars().filter(|c| !matches!(c, ',' | '%' | '$' | ' ')).collect();
    cleaned.parse().map(Some).map_err(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padded_headers_placeholders_and_separators() {
        let csv = "Month/Year , License Class ,Trips Per Day, Farebox Per Day ,Unique Drivers\r\n\
                   2024-01,Green,\"1,824\",\"37,028\",829\r\n\
                   2024-01,FHV - High Volume,\"634,317\",-,\"84,472\"\r\n\
                   2015-05,Yellow,NULL, ,1\r\n";
        let rows = read_indicators(csv.as_bytes()).unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0].month.to_string(), "2024-01");
        assert_eq!(rows[0].licence_class, "Green");
        assert_eq!(rows[0].trips_per_day, Some(1824.0));
        assert_eq!(rows[0].farebox_per_day, Some(37028.0));
        assert_eq!(rows[1].farebox_per_day, None);
        assert_eq!((rows[2].trips_per_day, rows[2].farebox_per_day), (None, None));
        let err = read_indicators(b"Month,Class\n2024-01,Green\n").unwrap_err();
        assert!(err.reason.contains("Month/Year"), "{err}");
        assert!(read_indicators(b"Month/Year,License Class,Trips Per Day,Farebox Per Day\n").is_err());
        let err = read_indicators(b"Month/Year,License Class,Trips Per Day,Farebox Per Day\nJan,Green,1,2\n")
            .unwrap_err();
        assert!(err.reason.contains("line 2"), "{err}");
    }
}
