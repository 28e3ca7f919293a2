//! The exploratory report over the warehouse's raw tables as a job: profile the months
//! ([`crate::query::eda`]: per column and month the null rate, min/max, quantiles and a
//! histogram, per month the counts of anomalous rows), draw the charts
//! ([`crate::chart::eda`]) and write the page ([`crate::page::eda`]).
//!
//! The figures and what is measured (the anomalies, the quantiles) are declared in
//! [`crate::model::eda`], re-exported here.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use atl_core::DatabaseConfig;

pub use crate::chart::eda::EdaChart;
pub use crate::model::eda::{
    ANOMALIES, Anomaly, BINS, Bins, Column, ColumnKind, ColumnStats, DEFAULT_SAMPLE_ROWS, Distribution, Eda,
    EdaRequest, Histogram, MonthProfile, QUANTILES, Quantile, Rule, ValueCount, bins_for, histogram_name,
};
pub use crate::query::eda::profile;

use crate::error::VizError;

/// A rendered report.
#[derive(Debug, Clone)]
pub struct EdaReport {
    pub eda: Eda,
    pub html: String,
    /// Every chart, the anomalies' then the histograms.
    pub charts: Vec<EdaChart>,
    pub render_time: Duration,
}

/// Draws the charts and the page (no I/O).
pub fn render(eda: Eda) -> Result<EdaReport, VizError> {
    let started = Instant::now();
    let charts = crate::chart::eda::all(&eda)?;
    let generated_at = chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string();
    let html = crate::page::eda::eda_page(&eda, &charts, &generated_at);
    Ok(EdaReport { eda, html, charts, render_time: started.elapsed() })
}

/// What [`write_eda`] wrote.
#[derive(Debug, Clone)]
pub struct WrittenEda {
    /// `out_dir/index.html`, the self-contained page.
    pub index: PathBuf,
    pub report: EdaReport,
}

/// Profiles the warehouse at `db` and writes the report into `out_dir/index.html`.
pub async fn write_eda(
    db: &DatabaseConfig,
    request: &EdaRequest,
    out_dir: &Path,
) -> Result<WrittenEda, VizError> {
    let eda = profile(db, request).await?;
    let out_dir = out_dir.to_owned();
    // Rendering the charts and writing the page block: not on the async runtime's threads.
    tokio::task::spawn_blocking(move || {
        let report = render(eda)?;
        std::fs::create_dir_all(&out_dir)
            .map_err(|source| VizError::Write { path: out_dir.clone(), source })?;
        let index = out_dir.join("index.html");
        std::fs::write(&index, report.html.as_bytes())
            .map_err(|source| VizError::Write { path: index.clone(), source })?;
        Ok(WrittenEda { index, report })
    })
    .await
    .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
}
