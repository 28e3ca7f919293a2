//! The mirror's misbehaviours, as an axum middleware in front of tower-http's `ServeDir`:
//! it counts each request, answers a faulted path itself (a status, an error page) or
//! reshapes the file's body on its way out (cut, throttled, stalled).

use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures::{Stream, StreamExt};

use super::{Shared, key, lock, source_etag};

/// What the CDN says for an object that does not exist (yet): S3 behind CloudFront
/// without list permission answers 403, not 404.
pub const ACCESS_DENIED_XML: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
    <Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>";

/// The largest body frame sent: slow rates are cut finer, to about ten frames a second.
const CHUNK: usize = 64 * 1024;

/// How long a cut body waits for hyper to write out what comes before the cut.
const FLUSH_BEFORE_CUT: Duration = Duration::from_millis(200);

/// A misbehaviour the mirror shows for one path, set by a test with
/// [`TlcMirror::set_fault`](super::TlcMirror::set_fault).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Answer the next `times` requests (GET or HEAD) with status `code` and a small
    /// body (for 403, the CDN's [`ACCESS_DENIED_XML`]), then serve normally: e.g. a 500 or
    /// 503 that succeeds on retry.
    Status {
        /// The HTTP status, e.g. 500, 503 or 403.
        code: u16,
        /// How many requests get it.
        times: usize,
    },
    /// Send the headers with the full `Content-Length`, then close the connection after
    /// `at_bytes` bytes of body. Lasts until cleared.
    Truncate {
        /// Body bytes sent before the connection is closed.
        at_bytes: u64,
    },
    /// Send the body at about `bytes_per_sec`. Lasts until cleared.
    Slow {
        /// The throttled rate.
        bytes_per_sec: u64,
    },
    /// For the next `times` GETs, send the headers and `at_bytes` bytes of body, then stay
    /// silent on the open connection for `pause` before the rest: a stalled transfer.
    Stall {
        /// Body bytes sent before the silence.
        at_bytes: u64,
        /// How long the connection stays silent.
        pause: Duration,
        /// How many GETs stall.
        times: usize,
    },
    /// Answer 200 with this body instead of the file (e.g. an HTML error page).
    /// Lasts until cleared.
    Body {
        /// The `Content-Type` header.
        content_type: String,
        /// The body.
        body: Vec<u8>,
    },
}

/// Requests a path received, by method.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Counts {
    pub(super) gets: usize,
    pub(super) heads: usize,
    pub(super) others: usize,
}

/// The middleware: counts, then applies the path's fault, if any, around `next` (the files).
pub(super) async fn misbehave(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let key = key(request.uri().path());
    let method = request.method().clone();
    {
        let mut counts = lock(&shared.counts);
        let counts = counts.entry(key.clone()).or_default();
        match method {
            Method::GET => counts.gets += 1,
            Method::HEAD => counts.heads += 1,
            _ => counts.others += 1,
        }
    }
    let shape = match take_fault(&shared, &key, &method) {
        Some(Fault::Status { code, .. }) => return status_response(code),
        Some(Fault::Body { content_type, body }) => {
            return ([(header::CONTENT_TYPE, content_type)], body).into_response();
        }
        Some(Fault::Truncate { at_bytes }) => Shape { cut_at: Some(at_bytes), ..Shape::default() },
        Some(Fault::Slow { bytes_per_sec }) => {
            Shape { bytes_per_sec: Some(bytes_per_sec), ..Shape::default() }
        }
        Some(Fault::Stall { at_bytes, pause, .. }) => {
            Shape { pause: Some((at_bytes, pause)), ..Shape::default() }
        }
        None => Shape::default(),
    };
    // Read before the file is served, so that a file replaced meanwhile gets a new tag on the
    // next request rather than the old tag on its new bytes.
    let etag = source_etag(&shared.root, &key);
    let mut response = next.run(request).await;
    if response.status().is_success()
        && let Some(etag) = etag.and_then(|e| HeaderValue::from_str(&e).ok())
    {
        response.headers_mut().insert(header::ETAG, etag);
    }
    if shape == Shape::default() || method != Method::GET {
        return response;
    }
    response.map(|body| Body::from_stream(shape.apply(body)))
}

/// The path's fault for this request, counting down a [`Fault::Status`] (any method) or a
/// [`Fault::Stall`] (GETs: a HEAD has no body to stall).
fn take_fault(shared: &Shared, key: &str, method: &Method) -> Option<Fault> {
    let mut faults = lock(&shared.faults);
    let fault = faults.get_mut(key)?;
    let left = match fault {
        Fault::Status { times, .. } => times,
        Fault::Stall { times, .. } if method == Method::GET => times,
        Fault::Stall { .. } => return None,
        _ => return Some(fault.clone()),
    };
    if *left == 0 {
        faults.remove(key);
        return None;
    }
    *left -= 1;
    let taken = fault.clone();
    if matches!(taken, Fault::Status { times: 0, .. } | Fault::Stall { times: 0, .. }) {
        faults.remove(key);
    }
    Some(taken)
}

fn status_response(code: u16) -> Response {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if status == StatusCode::FORBIDDEN {
        return access_denied();
    }
    let reason = status.canonical_reason().unwrap_or("Status");
    (status, [(header::CONTENT_TYPE, "text/plain")], format!("{code} {reason}\n")).into_response()
}

/// The CDN's answer for a missing object (and the fallback of the file service).
pub(super) fn access_denied() -> Response {
    (StatusCode::FORBIDDEN, [(header::CONTENT_TYPE, "application/xml")], ACCESS_DENIED_XML).into_response()
}

/// How a file's body is sent when a fault reshapes it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Shape {
    /// Fail the body (hyper then drops the connection) after this many bytes.
    cut_at: Option<u64>,
    /// Sleep this long once this many bytes are out.
    pause: Option<(u64, Duration)>,
    bytes_per_sec: Option<u64>,
}

struct Sending<S> {
    frames: S,
    shape: Shape,
    pending: Bytes,
    sent: u64,
    paused: bool,
    started: Instant,
}

impl Shape {
    fn apply(self, body: Body) -> impl Stream<Item = io::Result<Bytes>> + Send {
        let sending = Sending {
            frames: body.into_data_stream(),
            shape: self,
            pending: Bytes::new(),
            sent: 0,
            paused: false,
            started: Instant::now(),
        };
        futures::stream::unfold(Some(sending), |state| async move {
            let mut s = state?;
            let item = s.next_frame().await?;
            // After a cut, nothing more: the stream ends with its error.
            let next = if item.is_err() { None } else { Some(s) };
            Some((item, next))
        })
    }

    fn frame_len(self) -> usize {
        match self.bytes_per_sec {
            Some(bps) => usize::try_from(bps / 10).unwrap_or(CHUNK).clamp(1, CHUNK),
            None => CHUNK,
        }
    }
}

impl<S> Sending<S>
where
    S: Stream<Item = Result<Bytes, axum::Error>> + Unpin,
{
    /// The next piece of body, an error at the cut, or `None` at the end of the file.
    async fn next_frame(&mut self) -> Option<io::Result<Bytes>> {
        if let Some(at) = self.shape.cut_at
            && self.sent >= at
        {
            // hyper drops a connection whose body fails with what it has not written yet: a
            // pause first lets it flush the bytes before the cut.
            tokio::time::sleep(FLUSH_BEFORE_CUT).await;
            return Some(Err(io::Error::other(format!("the mirror's fault cut the body at {at} bytes"))));
        }
        if let Some((at, pause)) = self.shape.pause
            && !self.paused
            && self.sent >= at
        {
            self.paused = true;
            tokio::time::sleep(pause).await;
        }
        while self.pending.is_empty() {
            match self.frames.next().await? {
                Ok(bytes) => self.pending = bytes,
                Err(e) => return Some(Err(io::Error::other(e))),
            }
        }
        let mut len = self.pending.len().min(self.shape.frame_len());
        let limits = [self.shape.cut_at, self.shape.pause.filter(|_| !self.paused).map(|(at, _)| at)];
        for limit in limits.into_iter().flatten() {
            len = len.min(usize::try_from(limit - self.sent).unwrap_or(usize::MAX));
        }
        let frame = self.pending.split_to(len);
        self.sent += frame.len() as u64;
        if let Some(bps) = self.shape.bytes_per_sec.filter(|&bps| bps > 0) {
            let due = Duration::from_secs_f64(self.sent as f64 / bps as f64);
            if let Some(wait) = due.checked_sub(self.started.elapsed()) {
                tokio::time::sleep(wait).await;
            }
        }
        Some(Ok(frame))
    }
}
