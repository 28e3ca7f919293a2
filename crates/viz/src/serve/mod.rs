//! The live dashboard: axum routes ([`routes`]) served by hyper, querying the mart's
//! aggregates on every request so a month that lands shows on the next load.
//!
//! The accept loop is hyper-util's rather than `axum::serve`, which has no connection cap
//! and no header-read timeout: here at most [`MAX_CONNECTIONS`] connections are open (the
//! next waits in the kernel's backlog), a client has [`HEADER_READ_TIMEOUT`] to send its
//! request head, and shutdown stops accepting, lets the requests in flight finish (at most
//! [`DRAIN_TIMEOUT`]) and returns.

pub mod routes;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use atl_core::DatabaseConfig;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::error::VizError;
use crate::query::Mart;

pub use routes::{REFRESH_SECS, live_page, router};

/// Connections open at once; more wait to be accepted.
pub const MAX_CONNECTIONS: usize = 512;
/// Time a client has to send a request's head (slow-loris clients are dropped).
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// How long shutdown waits for requests in flight.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// A bound, not yet running, live dashboard server.
#[derive(Debug)]
pub struct LiveServer {
    listener: TcpListener,
    mart: Mart,
}

impl LiveServer {
    /// Binds `addr` (`127.0.0.1:8080`; port 0 picks a free one). The mart is not contacted yet.
    pub async fn bind(db: &DatabaseConfig, addr: &str) -> Result<LiveServer, VizError> {
        let mart = Mart::connect_lazy(db)?;
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| VizError::Listen { addr: addr.to_owned(), source })?;
        Ok(LiveServer { listener, mart })
    }

    pub fn local_addr(&self) -> Result<SocketAddr, VizError> {
        self.listener
            .local_addr()
            .map_err(|source| VizError::Listen { addr: "the bound socket".into(), source })
    }

    /// Serves until `shutdown` completes, then drains the connections in flight. Errors of
    /// single connections are logged, never fatal.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> Result<(), VizError> {
        let service = TowerToHyperService::new(router(self.mart.clone()));
        let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
        let graceful = GracefulShutdown::new();
        let mut http = hyper::server::conn::http1::Builder::new();
        http.timer(TokioTimer::new()).header_read_timeout(HEADER_READ_TIMEOUT);
        tokio::pin!(shutdown);
        loop {
            let permit = tokio::select! {
                () = &mut shutdown => break,
                permit = slots.clone().acquire_owned() => permit.expect("the semaphore is never closed"),
            };
            let (stream, peer) = tokio::select! {
                () = &mut shutdown => break,
                accepted = self.listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    // Out of file descriptors and the like: wait and keep serving.
                    Err(e) => {
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                },
            };
            let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service.clone()));
            tokio::spawn(async move {
                if let Err(e) = connection.await {
                    tracing::debug!(%peer, error = %e, "connection ended early");
                }
                drop(permit);
            });
        }
        drop(self.listener);
        tracing::info!("shutting down: no new connections, draining the ones open");
        if tokio::time::timeout(DRAIN_TIMEOUT, graceful.shutdown()).await.is_err() {
            tracing::warn!("connections still open after {DRAIN_TIMEOUT:?}; closing them");
        }
        self.mart.pool().close().await;
        Ok(())
    }
}
