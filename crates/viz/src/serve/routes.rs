//! The live server's routes: `/` (the dashboard, filtered by the query string), `/healthz`,
//! and the error pages. A page never shows the mart's host, port, role, database or a
//! driver's message: those go to the log, the reader gets what happened in plain words.

use std::time::Duration;

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower::limit::ConcurrencyLimitLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;

use crate::error::VizError;
use crate::filter::Filter;
use crate::html::PageMode;
use crate::page;
use crate::query::Mart;

/// Seconds between the browser's automatic reloads of the live page.
pub const REFRESH_SECS: u32 = 300;
/// A request still unanswered after this gets 408 (a stuck query must not pin a client).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// How long `/healthz` waits for the mart.
const HEALTH_TIMEOUT: Duration = Duration::from_secs(3);

/// The routes over `mart`, with their limits.
pub fn router(mart: Mart) -> Router {
    // Pages rendered at once: one per pooled connection (a render holds one for its queries);
    // the others wait their turn here rather than time out waiting for the pool.
    let renders = mart.pool().options().get_max_connections() as usize;
    Router::new()
        .route("/", get(index).layer(ConcurrencyLimitLayer::new(renders)))
        .route("/index.html", get(index).layer(ConcurrencyLimitLayer::new(renders)))
        .route("/healthz", get(healthz))
        .fallback(|| async { (StatusCode::NOT_FOUND, "not found\n") })
        .with_state(mart)
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, REQUEST_TIMEOUT))
        // GET and HEAD only: a body is never read, and never accepted at length.
        .layer(RequestBodyLimitLayer::new(1024))
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
}

async fn index(State(mart): State<Mart>, RawQuery(query): RawQuery) -> Response {
    let (status, html) = match Filter::from_query(query.as_deref()) {
        Ok(filter) => live_page(&mart, &filter).await,
        Err(e) => (400, page::unavailable(&e.to_string(), "bad-request", PageMode::File)),
    };
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response()
}

async fn healthz(State(mart): State<Mart>) -> Response {
    match tokio::time::timeout(HEALTH_TIMEOUT, mart.ping()).await {
        Ok(Ok(())) => (StatusCode::OK, "ok\n").into_response(),
        Ok(Err(e)) => {
            tracing::warn!(error = %atl_core::ErrorChain::new(&e), "health check: the mart does not answer");
            (StatusCode::SERVICE_UNAVAILABLE, "mart unavailable\n").into_response()
        }
        Err(_) => {
            tracing::warn!("health check: the mart did not answer within {HEALTH_TIMEOUT:?}");
            (StatusCode::SERVICE_UNAVAILABLE, "mart unavailable\n").into_response()
        }
    }
}

/// The page and its status: 200; 400 for a filter the mart cannot satisfy; 503 (mart down,
/// not built, empty) or 500 with a page that says what happened without naming the server.
pub async fn live_page(mart: &Mart, filter: &Filter) -> (u16, String) {
    let mode = PageMode::Live { refresh_secs: REFRESH_SECS };
    match crate::dashboard::render(mart, filter, mode).await {
        Ok(dashboard) => (200, dashboard.html),
        Err(e) if e.is_bad_request() => {
            (400, page::unavailable(&e.to_string(), "bad-request", PageMode::File))
        }
        Err(e) => {
            tracing::warn!(error = %atl_core::ErrorChain::new(&e), "dashboard not rendered");
            let (status, cause, message) = public_cause(&e);
            // Refresh sooner while the mart is down.
            (status, page::unavailable(message, cause, PageMode::Live { refresh_secs: 30 }))
        }
    }
}

/// Status, `data-error` and the reader's message for a failure: fixed words only, since the
/// error itself carries the server's address and the driver's text.
fn public_cause(e: &VizError) -> (u16, &'static str, &'static str) {
    match e {
        VizError::Unreachable { .. } => (503, "unreachable", "The mart is unreachable at the moment."),
        VizError::MartMissing { .. } => {
            (503, "missing", "The mart has no aggregate tables yet: run atl-mart build first.")
        }
        VizError::EmptyMart => (503, "empty", "The mart holds no month yet: run atl-mart build first."),
        _ => (500, "query", "A query of the dashboard failed; the server's log says which and why."),
    }
}
