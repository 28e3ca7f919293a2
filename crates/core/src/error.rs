//! Errors of the core vocabulary, typed so that callers can match on them.

use arrow::datatypes::DataType;

/// A month, range or kind written the wrong way.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("`{0}` is not a month: write it as YYYY-MM, e.g. 2023-01")]
    Month(String),
    #[error(
        "`{0}` is not a month range: write it as YYYY-MM..YYYY-MM with the first month not after the last"
    )]
    Range(String),
    #[error(
        "`{0}` is not a trip kind: use yellow, green, fhv or fhvhv (or all, where a command takes several)"
    )]
    Kind(String),
}

/// A file whose columns cannot be mapped onto the canonical schema of its kind.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SchemaError {
    #[error(
        "{source_name}: column `{column}` has type {found}, which cannot be stored losslessly as {expected}"
    )]
    Type { source_name: String, column: String, found: DataType, expected: DataType },
    #[error("{source_name}: column `{column}` is not a {kind} trip column (is this file of another kind?)")]
    Unknown { source_name: String, column: String, kind: String },
    #[error("{source_name}: required {kind} column `{column}` is missing (is this file of another kind?)")]
    Missing { source_name: String, column: String, kind: String },
    #[error("{source_name}: columns `{first}` and `{second}` both map to `{column}`")]
    Duplicate { source_name: String, column: String, first: String, second: String },
    #[error("{source_name}: no canonical schema for {kind} trips yet")]
    UnsupportedKind { source_name: String, kind: String },
    #[error("{source_name}: converting a batch failed: {message}")]
    Convert { source_name: String, message: String },
}

/// Configuration that cannot be read or does not make sense.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("reading configuration: {0}")]
    Load(#[from] config::ConfigError),
    #[error("configuration key `{key}`: {message}")]
    Invalid { key: &'static str, message: String },
}
