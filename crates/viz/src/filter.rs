//! What a reader chose to see: services, a month range and a borough. The live server reads
//! it from the query string (`?service=green&period=2024-01..2024-03&borough=Queens`, as the
//! page's form sends it), the `dashboard` command from `--service`, `--period`, `--borough`.
//! Names are checked against the mart's own dimensions when the page is read
//! ([`crate::Mart::aggregates`]), so a service the mart learns later is accepted unchanged.

use std::fmt;

use atl_core::MonthRange;

/// The longest period a request may ask for: the page draws every month of it, and an
/// unbounded one would be a request that costs the server minutes.
pub const MAX_PERIOD_MONTHS: usize = 600;

/// A selection of the mart's trips. The default is everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Months shown; `None`: every month the mart holds.
    pub period: Option<MonthRange>,
    /// `mart.dim_service` names (`green`, `uber`); empty: every service.
    pub services: Vec<String>,
    /// A `mart.dim_borough` name (`Queens`); `None`: every borough.
    pub borough: Option<String>,
    /// What the second zone map colours.
    pub measure: Measure,
}

/// The figure of the second zone map.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Measure {
    /// Card tips over card fares.
    #[default]
    TipRate,
    /// total_amount per trip.
    RevenuePerTrip,
    /// total_amount summed.
    Revenue,
}

impl Measure {
    pub const ALL: [Measure; 3] = [Measure::TipRate, Measure::RevenuePerTrip, Measure::Revenue];

    /// The query-string value.
    pub fn key(self) -> &'static str {
        match self {
            Measure::TipRate => "tip_rate",
            Measure::RevenuePerTrip => "revenue_per_trip",
            Measure::Revenue => "revenue",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Measure::TipRate => "Tip rate (card payments)",
            Measure::RevenuePerTrip => "Average total per trip",
            Measure::Revenue => "Revenue",
        }
    }

    /// Whether the figure is a ratio, too noisy to show from a handful of trips.
    pub fn is_ratio(self) -> bool {
        !matches!(self, Measure::Revenue)
    }
}

impl std::str::FromStr for Measure {
    type Err = String;
    fn from_str(s: &str) -> Result<Measure, String> {
        Measure::ALL.into_iter().find(|m| m.key() == s).ok_or_else(|| {
            format!("unknown measure {} (one of {})", quoted(s), Measure::ALL.map(|m| m.key()).join(", "))
        })
    }
}

/// The most of a reader's value an error message quotes: the 400 page must not echo a
/// 20 KB parameter back.
pub const QUOTED_CHARS: usize = 60;

/// `value` as an error message quotes it: whole when short, else its start and its length.
pub fn quoted(value: &str) -> String {
    if value.chars().count() <= QUOTED_CHARS {
        return format!("{value:?}");
    }
    let start: String = value.chars().take(QUOTED_CHARS).collect();
    format!("{start:?}… ({} bytes)", value.len())
}

/// A query string or flag the filter cannot use; the message quotes the offending value
/// (cut to [`QUOTED_CHARS`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    #[error("bad period {}: {reason}", quoted(value))]
    Period { value: String, reason: String },
    #[error("unknown query parameter {} (service, period, borough and measure are understood)", quoted(name))]
    Parameter { name: String },
    #[error("{0}")]
    Measure(String),
    /// `service` lists names and may repeat; the others hold one value, so a second one
    /// would have to be dropped silently.
    #[error(
        "{name} is given more than once ({} and {}): it takes one value (only service may repeat)",
        quoted(first),
        quoted(second)
    )]
    Repeated { name: String, first: String, second: String },
}

impl Filter {
    /// Parses `service=…&period=…&borough=…` (form-encoded; `service` may repeat or list
    /// names with commas, and the names combine; `period`, `borough` and `measure` take one
    /// value each and are refused when repeated; empty values mean "all", as the form's first
    /// option sends them).
    pub fn from_query(query: Option<&str>) -> Result<Filter, FilterError> {
        let mut filter = Filter::default();
        let mut seen: Vec<(String, String)> = Vec::new();
        for (name, value) in url::form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
            let value = value.trim();
            if name != "service" {
                if let Some((_, first)) = seen.iter().find(|(n, _)| *n == name) {
                    let (name, first, second) = (name.into_owned(), first.clone(), value.to_owned());
                    return Err(FilterError::Repeated { name, first, second });
                }
                seen.push((name.clone().into_owned(), value.to_owned()));
            }
            match &*name {
                "service" => filter.add_services(value),
                "period" if value.is_empty() => filter.period = None,
                "period" => filter.period = Some(parse_period(value)?),
                "borough" => filter.borough = (!value.is_empty()).then(|| value.to_owned()),
                "measure" if value.is_empty() => filter.measure = Measure::default(),
                "measure" => filter.measure = value.parse().map_err(FilterError::Measure)?,
                // The page's own form never sends others; a typo must not be ignored silently.
                _ => return Err(FilterError::Parameter { name: name.into_owned() }),
            }
        }
        Ok(filter)
    }

    /// Adds `green` or `green,yellow` (case kept: dim_service names are compared as they are
    /// after lower-casing, the form of every name the mart writes).
    pub fn add_services(&mut self, list: &str) {
        for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            let name = name.to_lowercase();
            if !self.services.contains(&name) {
                self.services.push(name);
            }
        }
    }

    /// The query string that selects this filter (for links and the form's state).
    pub fn to_query(&self) -> String {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        for s in &self.services {
            q.append_pair("service", s);
        }
        if let Some(p) = self.period {
            q.append_pair("period", &p.to_string());
        }
        if let Some(b) = &self.borough {
            q.append_pair("borough", b);
        }
        if self.measure != Measure::default() {
            q.append_pair("measure", self.measure.key());
        }
        q.finish()
    }
}

/// A month range, at most [`MAX_PERIOD_MONTHS`] long.
pub fn parse_period(value: &str) -> Result<MonthRange, FilterError> {
    let fail = |reason: String| FilterError::Period { value: value.to_owned(), reason };
    let period: MonthRange = value.parse().map_err(|e| fail(format!("{e}")))?;
    if period.len() > MAX_PERIOD_MONTHS {
        return Err(fail(format!("longer than {MAX_PERIOD_MONTHS} months")));
    }
    Ok(period)
}

impl fmt::Display for Filter {
    /// `green, yellow · 2024-01..2024-03 · Queens`, or `all services · all months`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let services =
            if self.services.is_empty() { "all services".to_owned() } else { self.services.join(", ") };
        let period = self.period.map(|p| p.to_string()).unwrap_or_else(|| "all months".into());
        write!(f, "{services} · {period}")?;
        if let Some(b) = &self.borough {
            write!(f, " · {b}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_strings() {
        let f =
            Filter::from_query(Some("service=green&period=2024-01..2024-03&borough=Staten+Island")).unwrap();
        assert_eq!(f.services, ["green"]);
        assert_eq!(f.period.unwrap().to_string(), "2024-01..2024-03");
        assert_eq!(f.borough.as_deref(), Some("Staten Island"));
        assert_eq!(Filter::from_query(Some(&f.to_query())).unwrap(), f);

        let f = Filter::from_query(Some("service=green&service=Yellow,uber&period=&borough=")).unwrap();
        assert_eq!(f.services, ["green", "yellow", "uber"]);
        assert_eq!((f.period, f.borough), (None, None));
        assert_eq!(Filter::from_query(None).unwrap(), Filter::default());
        assert_eq!(
            Filter::from_query(Some("period=2023-01%2E%2E2023-02")).unwrap().period.unwrap().to_string(),
            "2023-01..2023-02"
        );
        assert!(matches!(Filter::from_query(Some("period=nope")), Err(FilterError::Period { .. })));
        assert!(Filter::from_query(Some("period=1000-01..9999-12")).is_err());
        assert!(Filter::from_query(Some("period=2000-01..2049-12")).is_ok());
        assert!(matches!(Filter::from_query(Some("servce=green")), Err(FilterError::Parameter { .. })));
        assert!(matches!(Filter::from_query(Some("measure=speed")), Err(FilterError::Measure(_))));
    }

    #[test]
    fn only_service_may_repeat() {
        for (query, name) in [
            ("period=2024-01..2024-02&period=2024-03", "period"),
            ("borough=Queens&service=green&borough=Bronx", "borough"),
            ("measure=revenue&measure=tip_rate", "measure"),
        ] {
            let err = Filter::from_query(Some(query)).unwrap_err();
            assert!(matches!(&err, FilterError::Repeated { name: n, .. } if n == name), "{query}: {err}");
            assert!(err.to_string().starts_with(&format!("{name} is given more than once (")), "{err}");
        }
        let f = Filter::from_query(Some("service=green&service=yellow&service=green")).unwrap();
        assert_eq!(f.services, ["green", "yellow"]);
    }

    #[test]
    fn a_long_value_is_quoted_cut() {
        let long = "x".repeat(20_000);
        for query in [format!("period={long}"), format!("{long}=1"), format!("borough=a&borough={long}")] {
            let message = Filter::from_query(Some(&query)).unwrap_err().to_string();
            assert!(message.len() < 300, "{} bytes: {}", message.len(), &message[..300]);
            assert!(message.contains("… (20000 bytes)"), "{message}");
        }
    }
}
