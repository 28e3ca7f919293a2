//! A static HTTP server with the layout of the TLC CDN, for ingest and pipeline tests:
//! `trip-data/<kind>_tripdata_<YYYY-MM>.parquet` and `misc/taxi_zone_lookup.csv` under a
//! root folder, plus per-path fault injection ([`Fault`]).
//!
//! tower-http's `ServeDir` serves the files (HEAD, single byte ranges, `Last-Modified`) on
//! axum and hyper; the faults are a middleware in front of it (`fault.rs`). Like the CDN
//! (CloudFront in front of S3) it answers a missing file with 403 and an XML body, never
//! 404, and tags each file with an ETag that changes when the file is written again.

mod fault;

use std::collections::HashMap;
use std::future::IntoFuture;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, UNIX_EPOCH};

use axum::Router;
use tokio::sync::oneshot;
use tower_http::services::ServeDir;

pub use fault::{ACCESS_DENIED_XML, Fault};

use crate::error::{Error, Result};
use fault::Counts;

/// How long a stopping mirror waits for file reads in flight; stalled responses are dropped.
const STOP_GRACE: Duration = Duration::from_secs(1);

#[derive(Debug)]
struct Shared {
    root: PathBuf,
    faults: Mutex<HashMap<String, Fault>>,
    counts: Mutex<HashMap<String, Counts>>,
}

/// A TLC CDN look-alike serving the files under a root folder on a free port of
/// 127.0.0.1, on a runtime of its own (so that synchronous callers and async tests alike
/// can use it); stops on drop, cutting any response still in flight.
///
/// Paths given to its methods are relative to the root, with or without a leading `/`
/// (`"trip-data/yellow_tripdata_2024-01.parquet"`).
///
/// ```no_run
/// use atl_devservices::{Fault, TlcMirror};
/// let mirror = TlcMirror::start("tests/cdn")?;
/// let path = "trip-data/yellow_tripdata_2024-01.parquet";
/// mirror.set_fault(path, Fault::Status { code: 503, times: 1 });
/// // point the ingest at mirror.base_url(), run it twice, then:
/// assert_eq!(mirror.gets(path), 2);
/// # Ok::<(), atl_devservices::Error>(())
/// ```
#[derive(Debug)]
pub struct TlcMirror {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<()>>,
}

impl TlcMirror {
    /// Serves `root` (which need not exist yet: its files are looked up per request).
    pub fn start(root: impl Into<PathBuf>) -> Result<TlcMirror> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(Error::Listen)?;
        let addr = listener.local_addr().map_err(Error::Listen)?;
        listener.set_nonblocking(true).map_err(Error::Listen)?;
        let shared =
            Arc::new(Shared { root: root.into(), faults: Mutex::default(), counts: Mutex::default() });
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("tlc-mirror")
            .enable_all()
            .build()
            .map_err(Error::Listen)?;
        let router = router(Arc::clone(&shared));
        let (stop, stopped) = oneshot::channel::<()>();
        let server = thread::Builder::new()
            .name("tlc-mirror".to_owned())
            .spawn(move || {
                runtime.block_on(async move {
                    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else { return };
                    tokio::select! {
                        _ = axum::serve(listener, router).into_future() => {}
                        _ = stopped => {}
                    }
                });
                runtime.shutdown_timeout(STOP_GRACE);
            })
            .map_err(Error::Listen)?;
        Ok(TlcMirror { addr, shared, stop: Some(stop), server: Some(server) })
    }

    /// `http://127.0.0.1:{port}`: what `source.base_url` is set to in tests.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The folder served.
    pub fn root(&self) -> &Path {
        &self.shared.root
    }

    /// Makes `path` misbehave, replacing its previous fault; takes effect on the next
    /// request, also while a client runs.
    pub fn set_fault(&self, path: &str, fault: Fault) {
        lock(&self.shared.faults).insert(key(path), fault);
    }

    /// Makes `path` behave again.
    pub fn clear_fault(&self, path: &str) {
        lock(&self.shared.faults).remove(&key(path));
    }

    /// Requests of any method received for `path`.
    pub fn requests(&self, path: &str) -> usize {
        let c = self.counts(path);
        c.gets + c.heads + c.others
    }

    /// `GET` requests received for `path`.
    pub fn gets(&self, path: &str) -> usize {
        self.counts(path).gets
    }

    /// `HEAD` requests received for `path`.
    pub fn heads(&self, path: &str) -> usize {
        self.counts(path).heads
    }

    /// Sets every request counter back to zero.
    pub fn reset_counts(&self) {
        lock(&self.shared.counts).clear();
    }

    fn counts(&self, path: &str) -> Counts {
        lock(&self.shared.counts).get(&key(path)).copied().unwrap_or_default()
    }
}

impl Drop for TlcMirror {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = server.join();
        }
    }
}

fn router(shared: Arc<Shared>) -> Router {
    // A directory is not a file: no index.html, and like any missing object it is denied.
    let files = ServeDir::new(&shared.root)
        .append_index_html_on_directories(false)
        .fallback(axum::handler::HandlerWithoutStateExt::into_service(denied));
    Router::new()
        .fallback_service(files)
        .layer(axum::middleware::from_fn_with_state(shared, fault::misbehave))
}

async fn denied() -> axum::response::Response {
    fault::access_denied()
}

/// Counters and faults stay usable after a panic in a handler.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The map key of a request path or a caller's path: no leading `/`, no query.
fn key(path: &str) -> String {
    let path = path.split(['?', '#']).next().unwrap_or_default();
    path.trim_start_matches('/').to_owned()
}

/// The CDN's ETag stand-in for `root/key`: its length and modification time, so that a file
/// written again (even at the same size) gets a new tag, as a republished TLC month does.
fn source_etag(root: &Path, key: &str) -> Option<String> {
    let relative = Path::new(key);
    if key.is_empty() || !relative.components().all(|c| matches!(c, Component::Normal(_))) {
        return None;
    }
    let meta = std::fs::metadata(root.join(relative)).ok().filter(|m| m.is_file())?;
    let modified = meta.modified().ok()?.duration_since(UNIX_EPOCH).unwrap_or_default();
    Some(format!("\"{:x}-{:x}\"", meta.len(), modified.as_nanos()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_ignore_leading_slash_and_query() {
        assert_eq!(key("/misc/taxi_zone_lookup.csv?x=1"), "misc/taxi_zone_lookup.csv");
        assert_eq!(key("misc/taxi_zone_lookup.csv"), "misc/taxi_zone_lookup.csv");
    }

    #[test]
    fn etags_change_with_the_file_and_skip_escapes() {
        let root = tempfile::tempdir().unwrap();
        std::fs::write(root.path().join("a.csv"), "x").unwrap();
        let first = source_etag(root.path(), "a.csv").unwrap();
        let later = std::time::SystemTime::now() + Duration::from_secs(5);
        std::fs::File::options()
            .write(true)
            .open(root.path().join("a.csv"))
            .unwrap()
            .set_modified(later)
            .unwrap();
        assert_ne!(source_etag(root.path(), "a.csv").unwrap(), first);
        assert_eq!(source_etag(root.path(), "../a.csv"), None);
        assert_eq!(source_etag(root.path(), ""), None);
    }
}
