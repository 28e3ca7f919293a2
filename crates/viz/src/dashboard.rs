//! The dashboard as a job: read the mart ([`crate::query`]), draw the charts
//! ([`crate::chart`]), lay out the page ([`crate::page`]), and write it with its PNG
//! exports ([`crate::png`]).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use atl_core::{DatabaseConfig, MonthRange};

use crate::chart::{self, Chart};
use crate::error::VizError;
use crate::filter::Filter;
use crate::html::PageMode;
use crate::model::{Aggregates, Kpi, kpis};
use crate::page;
use crate::png;
use crate::query::Mart;

/// A rendered dashboard.
#[derive(Debug, Clone)]
pub struct Dashboard {
    pub period: MonthRange,
    pub html: String,
    pub kpis: Vec<Kpi>,
    pub charts: Vec<Chart>,
    /// Time spent querying the mart (zero when rendered from given aggregates).
    pub query_time: Duration,
    /// Time spent drawing the charts and the page.
    pub render_time: Duration,
}

/// Queries the mart for `filter` (default period: every month it holds) and renders the page.
pub async fn render(mart: &Mart, filter: &Filter, mode: PageMode) -> Result<Dashboard, VizError> {
    let started = Instant::now();
    let aggregates = mart.aggregates(filter).await?;
    let query_time = started.elapsed();
    let mut dashboard = render_aggregates(&aggregates, mode)?;
    dashboard.query_time = query_time;
    Ok(dashboard)
}

/// Renders already-read aggregates (no I/O).
pub fn render_aggregates(a: &Aggregates, mode: PageMode) -> Result<Dashboard, VizError> {
    let started = Instant::now();
    let kpis = kpis(&a.totals, &a.previous_totals);
    let charts = chart::all(a)?;
    let generated_at = chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string();
    let html = page::dashboard(a, &kpis, &charts, mode, &generated_at);
    Ok(Dashboard {
        period: a.period,
        html,
        kpis,
        charts,
        query_time: Duration::ZERO,
        render_time: started.elapsed(),
    })
}

/// What [`write_dashboard`] wrote.
#[derive(Debug, Clone)]
pub struct WrittenDashboard {
    /// `out_dir/index.html`, the self-contained page.
    pub index: PathBuf,
    /// `out_dir/charts/<chart>.svg`, each chart on its own.
    pub charts: Vec<PathBuf>,
    /// `out_dir/charts/<chart>.png`, each chart rasterised at [`png::SCALE`]×, same order.
    pub pngs: Vec<PathBuf>,
    /// Time spent rasterising the PNGs (and encoding them, not writing them).
    pub png_time: Duration,
    pub dashboard: Dashboard,
}

/// Renders the dashboard from the mart at `db` into `out_dir`: `index.html`, and
/// `charts/<chart>.svg` and `charts/<chart>.png` for each chart.
pub async fn write_dashboard(
    db: &DatabaseConfig,
    filter: &Filter,
    out_dir: &Path,
) -> Result<WrittenDashboard, VizError> {
    let mart = Mart::connect_lazy(db)?;
    let dashboard = render(&mart, filter, PageMode::File).await?;
    mart.pool().close().await;
    // Rasterising and writing files block: not on the async runtime's threads.
    let out_dir = out_dir.to_owned();
    tokio::task::spawn_blocking(move || write_files(dashboard, &out_dir))
        .await
        .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
}

/// Writes `bytes` to `path`, creating its folder.
fn write(path: PathBuf, bytes: &[u8]) -> Result<PathBuf, VizError> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|source| VizError::Write { path: parent.to_owned(), source })?;
    }
    std::fs::write(&path, bytes).map_err(|source| VizError::Write { path: path.clone(), source })?;
    Ok(path)
}

/// The files of [`write_dashboard`] (blocking).
fn write_files(dashboard: Dashboard, out_dir: &Path) -> Result<WrittenDashboard, VizError> {
    let index = write(out_dir.join("index.html"), dashboard.html.as_bytes())?;
    let charts = dashboard
        .charts
        .iter()
        .map(|c| write(out_dir.join("charts").join(format!("{}.svg", c.name)), c.svg.as_bytes()))
        .collect::<Result<Vec<_>, _>>()?;
    let started = Instant::now();
    let encoded = png::charts_to_png(&dashboard.charts)?;
    let png_time = started.elapsed();
    let pngs = dashboard
        .charts
        .iter()
        .zip(&encoded)
        .map(|(c, bytes)| write(out_dir.join("charts").join(format!("{}.png", c.name)), bytes))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(WrittenDashboard { index, charts, pngs, png_time, dashboard })
}
