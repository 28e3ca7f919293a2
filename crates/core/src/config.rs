//! The pipeline's configuration: defaults embedded from `atl.toml`, then an optional
//! `atl.toml` file, then `ATL__SECTION__KEY` environment variables; binaries apply their
//! CLI flags on top. Values that hold secrets are [`Secret`]s, redacted in `Debug` and logs.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::ConfigError;

/// The defaults committed at the root of the repository, compiled in so every binary
/// works from any folder.
pub const DEFAULTS_TOML: &str = include_str!("../../../atl.toml");

/// Everything a stage needs to find its source, the lake and the two servers.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AtlConfig {
    pub source: SourceConfig,
    pub lake: LakeConfig,
    pub warehouse: DatabaseConfig,
    pub mart: DatabaseConfig,
    pub viz: VizConfig,
}

/// Where trip files are downloaded from.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    /// The CDN or a mirror with the same layout (`trip-data/`, `misc/`).
    pub base_url: String,
    /// Months downloaded at once.
    pub concurrency: usize,
    /// Attempts per file on timeouts, resets and 5xx answers.
    pub retries: u32,
    /// Seconds without progress before a download is abandoned and retried.
    pub timeout_secs: u64,
    /// Months the pipeline fetches when none are given (e.g. `2023-01..2023-08`).
    pub months: String,
    /// Trip kind the pipeline works on when none is given.
    pub kind: String,
    /// The TLC's monthly indicators CSV (`atl-ingest --indicators`), published apart from the
    /// CDN on the TLC's own site.
    pub indicators_url: String,
}

/// The data lake: a local folder or an S3 bucket.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LakeConfig {
    /// `file://path` (relative paths from the current folder) or `s3://bucket`.
    pub url: String,
    /// S3 endpoint for MinIO and other S3 servers; `aws` means AWS S3 in `region` (empty
    /// is an error: a missing override must not send the keys to AWS).
    pub endpoint: String,
    pub region: String,
    pub access_key: String,
    pub secret_key: Secret,
    /// Allow plain `http://` endpoints (MinIO in a compose stack).
    pub allow_http: bool,
}

impl LakeConfig {
    /// Whether the S3 keys are the built-in defaults (the compose stack's MinIO, published
    /// in this repository): fine on this machine, a leak or a mistake anywhere else.
    pub fn has_default_keys(&self) -> bool {
        static DEFAULT_KEYS: std::sync::OnceLock<Option<(String, Secret)>> = std::sync::OnceLock::new();
        let defaults = DEFAULT_KEYS.get_or_init(|| {
            #[derive(Deserialize)]
            struct Defaults {
                lake: LakeConfig,
            }
            let defaults: Option<Defaults> = from_toml(DEFAULTS_TOML);
            defaults.map(|d| (d.lake.access_key, d.lake.secret_key))
        });
        defaults.as_ref().is_some_and(|(key, secret)| {
            !key.is_empty() && *key == self.access_key && *secret == self.secret_key
        })
    }
}

/// The `[lake]` section of a TOML text, read like the configuration is.
fn from_toml<T: serde::de::DeserializeOwned>(text: &str) -> Option<T> {
    config::Config::builder()
        .add_source(config::File::from_str(text, config::FileFormat::Toml))
        .build()
        .ok()?
        .try_deserialize()
        .ok()
}

/// A PostgreSQL server.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    /// `postgres://user:password@host:port/database`; the password is never printed.
    pub url: Secret,
    /// Months loaded at once, each over its own connection.
    pub parallelism: usize,
}

/// Where reports go and where the live dashboard listens.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VizConfig {
    pub out_dir: PathBuf,
    pub addr: String,
}

impl AtlConfig {
    /// Embedded defaults, then `file` if given (else `./atl.toml` when present, or the file
    /// named by `ATL_CONFIG`), then `ATL__SECTION__KEY` variables.
    pub fn load(file: Option<&Path>) -> Result<AtlConfig, ConfigError> {
        Self::load_from(file, std::env::vars())
    }

    /// [`AtlConfig::load`] with the environment given explicitly (tests, embedding programs).
    pub fn load_from(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<AtlConfig, ConfigError> {
        let env: std::collections::HashMap<String, String> = env.into_iter().collect();
        let file = file
            .map(Path::to_path_buf)
            .or_else(|| env.get("ATL_CONFIG").map(PathBuf::from))
            .or_else(|| Some(PathBuf::from("atl.toml")).filter(|p| p.is_file()));
        let mut builder = config::Config::builder()
            .add_source(config::File::from_str(DEFAULTS_TOML, config::FileFormat::Toml));
        if let Some(file) = file {
            builder = builder.add_source(config::File::from(file).required(true));
        }
        let env_source = config::Environment::with_prefix("ATL")
            .prefix_separator("__")
            .separator("__")
            .try_parsing(true)
            .source(Some(env.into_iter().filter(|(k, _)| k.starts_with("ATL__")).collect()));
        let config: AtlConfig = builder.add_source(env_source).build()?.try_deserialize()?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |key, message: &str| Err(ConfigError::Invalid { key, message: message.into() });
        if !(self.lake.url.starts_with("file://") || self.lake.url.starts_with("s3://")) {
            return invalid("lake.url", "must start with file:// or s3://");
        }
        if !self.source.base_url.starts_with("http://") && !self.source.base_url.starts_with("https://") {
            return invalid("source.base_url", "must be an http:// or https:// URL");
        }
        if !self.source.indicators_url.starts_with("http://")
            && !self.source.indicators_url.starts_with("https://")
        {
            return invalid("source.indicators_url", "must be an http:// or https:// URL");
        }
        if self.source.concurrency == 0 || self.warehouse.parallelism == 0 || self.mart.parallelism == 0 {
            return invalid("source.concurrency", "concurrency and parallelism must be at least 1");
        }
        for (key, db) in [("warehouse.url", &self.warehouse), ("mart.url", &self.mart)] {
            let scheme_ok = ["postgres://", "postgresql://"].iter().any(|s| db.url.expose().starts_with(s));
            if !scheme_ok {
                return invalid(key, "must be a postgres:// URL");
            }
        }
        Ok(())
    }
}

/// A value that must not appear in logs: `Debug` and `Display` show it redacted.
/// A PostgreSQL URL keeps its host, port and database visible, with the password hidden.
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The real value, for the one place that needs it (a connection, a signature).
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn redacted(&self) -> String {
        match url::Url::parse(&self.0) {
            Ok(mut u) if u.has_host() => {
                if u.password().is_some() {
                    let _ = u.set_password(Some("***"));
                }
                // libpq and sqlx also take the password as a query parameter.
                let pairs: Vec<(String, String)> = u.query_pairs().into_owned().collect();
                if pairs.iter().any(|(k, _)| k.ends_with("password")) {
                    let mut query = u.query_pairs_mut();
                    query.clear();
                    for (k, v) in &pairs {
                        query.append_pair(k, if k.ends_with("password") { "***" } else { v });
                    }
                }
                u.to_string()
            }
            _ if self.0.is_empty() => String::new(),
            _ => "***".to_owned(),
        }
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({:?})", self.redacted())
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Secret {
        Secret(s.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn defaults_are_the_embedded_local_stack() {
        let c = AtlConfig::load_from(None, env(&[])).unwrap();
        assert_eq!(c.source.base_url, "https://d37ci6vzurychx.cloudfront.net");
        assert_eq!(c.lake.url, "file://data/lake");
        assert!(c.warehouse.url.expose().contains(":15432/"));
        assert!(c.mart.url.expose().contains(":15435/"));
    }

    #[test]
    fn environment_overrides_defaults() {
        let c = AtlConfig::load_from(
            None,
            env(&[
                ("ATL__SOURCE__BASE_URL", "http://127.0.0.1:8000"),
                ("ATL__LAKE__URL", "s3://rawnyc"),
                ("ATL__LAKE__ALLOW_HTTP", "true"),
                ("ATL__SOURCE__CONCURRENCY", "2"),
            ]),
        )
        .unwrap();
        assert_eq!(c.source.base_url, "http://127.0.0.1:8000");
        assert_eq!(c.lake.url, "s3://rawnyc");
        assert!(c.lake.allow_http);
        assert_eq!(c.source.concurrency, 2);
    }

    #[test]
    fn a_file_overrides_defaults_and_env_overrides_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("atl.toml");
        std::fs::write(&path, "[lake]\nurl = \"file:///srv/lake\"\n[viz]\nout_dir = \"out\"\n").unwrap();
        let c = AtlConfig::load_from(Some(&path), env(&[("ATL__VIZ__OUT_DIR", "elsewhere")])).unwrap();
        assert_eq!(c.lake.url, "file:///srv/lake");
        assert_eq!(c.viz.out_dir, PathBuf::from("elsewhere"));
    }

    #[test]
    fn bad_values_are_named() {
        let err = AtlConfig::load_from(None, env(&[("ATL__LAKE__URL", "ftp://x")])).unwrap_err();
        assert!(err.to_string().contains("lake.url"), "{err}");
    }

    #[test]
    fn secrets_never_print() {
        let c = AtlConfig::load_from(
            None,
            env(&[
                ("ATL__WAREHOUSE__URL", "postgres://atl:hunter2@db:5432/warehouse"),
                ("ATL__MART__URL", "postgres://atl@db:5433/mart?sslmode=require&password=swordfish"),
                ("ATL__LAKE__SECRET_KEY", "s3cr3t"),
            ]),
        )
        .unwrap();
        let shown = format!("{c:?} {} {}", c.warehouse.url, c.mart.url);
        assert!(
            !shown.contains("hunter2") && !shown.contains("s3cr3t") && !shown.contains("swordfish"),
            "{shown}"
        );
        assert!(shown.contains("sslmode=require"), "{shown}");
        assert!(shown.contains("db:5432/warehouse"), "{shown}");
        assert_eq!(c.lake.secret_key.expose(), "s3cr3t");
    }
}
