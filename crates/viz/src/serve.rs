//! The live dashboard: a small HTTP/1.1 server (GET and HEAD only) that queries the mart's
//! aggregates on every request, so a month that lands shows on the next load. A web
//! framework would be most of the binary for one page; this is the whole protocol we need.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use atl_core::{DatabaseConfig, MonthRange};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::error::VizError;
use crate::mart::Mart;
use crate::page::{self, PageMode};

/// Seconds between the browser's automatic reloads of the live page.
pub const REFRESH_SECS: u32 = 300;
const MAX_REQUEST_HEAD: usize = 16 * 1024;
const READ_TIMEOUT: Duration = Duration::from_secs(10);

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

    /// Serves until `shutdown` completes. Errors of single requests are logged, never fatal.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> Result<(), VizError> {
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                () = &mut shutdown => return Ok(()),
                accepted = self.listener.accept() => match accepted {
                    Ok((stream, peer)) => {
                        let mart = self.mart.clone();
                        tokio::spawn(async move {
                            if let Err(e) = handle(stream, &mart).await {
                                tracing::debug!(%peer, error = %e, "connection ended early");
                            }
                        });
                    }
                    // Out of file descriptors and the like: wait and keep serving.
                    Err(e) => {
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                },
            }
        }
    }
}

/// A parsed request line.
#[derive(Debug, PartialEq, Eq)]
struct Request {
    head_only: bool,
    path: String,
    query: Option<String>,
}

#[derive(Debug, PartialEq, Eq)]
enum Parsed {
    Ok(Request),
    BadRequest,
    MethodNotAllowed,
}

fn parse_request_line(head: &str) -> Parsed {
    let line = head.lines().next().unwrap_or("");
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version)) = (parts.next(), parts.next(), parts.next()) else {
        return Parsed::BadRequest;
    };
    if !version.starts_with("HTTP/1.") || !target.starts_with('/') {
        return Parsed::BadRequest;
    }
    let head_only = match method {
        "GET" => false,
        "HEAD" => true,
        _ => return Parsed::MethodNotAllowed,
    };
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p.to_owned(), Some(q.to_owned())),
        None => (target.to_owned(), None),
    };
    Parsed::Ok(Request { head_only, path, query })
}

/// `period=2023-01..2023-03` from a query string; `Err` on a malformed period.
fn period_param(query: Option<&str>) -> Result<Option<MonthRange>, String> {
    let Some(value) = query.into_iter().flat_map(|q| q.split('&')).find_map(|kv| kv.strip_prefix("period="))
    else {
        return Ok(None);
    };
    let period: MonthRange =
        value.replace("%2E", ".").parse().map_err(|e| format!("bad period {value:?}: {e}"))?;
    // The page draws every month of the period: an unbounded one would be a request that
    // costs the server minutes.
    if period.len() > MAX_PERIOD_MONTHS {
        return Err(format!("period {value:?} is longer than {MAX_PERIOD_MONTHS} months"));
    }
    Ok(Some(period))
}

const MAX_PERIOD_MONTHS: usize = 600;

async fn handle(mut stream: TcpStream, mart: &Mart) -> std::io::Result<()> {
    let mut buf = Vec::with_capacity(1024);
    let complete = tokio::time::timeout(READ_TIMEOUT, async {
        let mut chunk = [0u8; 2048];
        loop {
            if buf.windows(4).any(|w| w == b"\r\n\r\n") {
                return Ok::<bool, std::io::Error>(true);
            }
            if buf.len() > MAX_REQUEST_HEAD {
                return Ok(false);
            }
            let n = stream.read(&mut chunk).await?;
            if n == 0 {
                return Ok(false);
            }
            buf.extend_from_slice(&chunk[..n]);
        }
    })
    .await
    .unwrap_or(Ok(false))?;
    if !complete {
        return respond(&mut stream, 400, "text/plain", b"bad request\n", false).await;
    }
    let head = String::from_utf8_lossy(&buf);
    let request = match parse_request_line(&head) {
        Parsed::Ok(r) => r,
        Parsed::BadRequest => return respond(&mut stream, 400, "text/plain", b"bad request\n", false).await,
        Parsed::MethodNotAllowed => {
            return respond(&mut stream, 405, "text/plain", b"only GET and HEAD\n", false).await;
        }
    };
    match request.path.as_str() {
        "/" | "/index.html" => {
            let (status, html) = match period_param(request.query.as_deref()) {
                Err(message) => (400, page::unavailable(&message, "bad-period", PageMode::File)),
                Ok(period) => live_page(mart, period).await,
            };
            respond(&mut stream, status, "text/html; charset=utf-8", html.as_bytes(), request.head_only).await
        }
        "/healthz" => respond(&mut stream, 200, "text/plain", b"ok\n", request.head_only).await,
        _ => respond(&mut stream, 404, "text/plain", b"not found\n", request.head_only).await,
    }
}

/// The page and its status: 200, or 503 with a page that says why the mart is unavailable.
pub async fn live_page(mart: &Mart, period: Option<MonthRange>) -> (u16, String) {
    let mode = PageMode::Live { refresh_secs: REFRESH_SECS };
    match crate::render(mart, period, mode).await {
        Ok(dashboard) => (200, dashboard.html),
        Err(e) => {
            tracing::warn!(error = %e, "dashboard not rendered");
            let (status, cause) = match &e {
                VizError::Unreachable { .. } => (503, "unreachable"),
                VizError::MartMissing { .. } => (503, "missing"),
                VizError::EmptyMart => (503, "empty"),
                _ => (500, "query"),
            };
            // Refresh sooner while the mart is down.
            (status, page::unavailable(&e.to_string(), cause, PageMode::Live { refresh_secs: 30 }))
        }
    }
}

async fn respond(
    stream: &mut TcpStream,
    status: u16,
    content_type: &str,
    body: &[u8],
    head_only: bool,
) -> std::io::Result<()> {
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        503 => "Service Unavailable",
        _ => "Internal Server Error",
    };
    let allow = if status == 405 { "Allow: GET, HEAD\r\n" } else { "" };
    let head = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nCache-Control: no-store\r\n{allow}Connection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    if !head_only {
        stream.write_all(body).await?;
    }
    stream.shutdown().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_lines() {
        assert_eq!(
            parse_request_line("GET /?period=2023-01..2023-02 HTTP/1.1\r\nHost: x\r\n\r\n"),
            Parsed::Ok(Request {
                head_only: false,
                path: "/".into(),
                query: Some("period=2023-01..2023-02".into())
            })
        );
        assert_eq!(parse_request_line("POST / HTTP/1.1\r\n\r\n"), Parsed::MethodNotAllowed);
        assert_eq!(parse_request_line("garbage\r\n\r\n"), Parsed::BadRequest);
        assert!(matches!(
            parse_request_line("HEAD /healthz HTTP/1.0\r\n\r\n"),
            Parsed::Ok(Request { head_only: true, .. })
        ));
    }

    #[test]
    fn period_from_query() {
        assert_eq!(
            period_param(Some("x=1&period=2023-01..2023-02")).unwrap().unwrap().to_string(),
            "2023-01..2023-02"
        );
        assert_eq!(period_param(None).unwrap(), None);
        assert!(period_param(Some("period=nope")).is_err());
        assert!(period_param(Some("period=1000-01..9999-12")).is_err());
        assert!(period_param(Some("period=2000-01..2049-12")).unwrap().is_some());
    }
}
