// Over 400 lines: a hand-written HTTP/1.1 server with its own date code and fault injection
// (issue 29 moves it onto axum and tower-http, which would shrink it).
//! A static HTTP/1.1 server with the layout of the TLC CDN, for ingest and pipeline
//! tests: `trip-data/<kind>_tripdata_<YYYY-MM>.parquet` and `misc/taxi_zone_lookup.csv`
//! under a root folder, plus per-path fault injection.
//!
//! Like the CDN (CloudFront in front of S3) it answers a missing file with 403 and an
//! XML body, never 404, and supports `HEAD` and single byte ranges. Every response
//! closes its connection: simple, and enough for reqwest.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::error::{Error, Result};

/// What the CDN says for an object that does not exist (yet): S3 behind CloudFront
/// without list permission answers 403, not 404.
pub const ACCESS_DENIED_XML: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
    <Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>";

const CHUNK: usize = 64 * 1024;
const MAX_HEAD_BYTES: usize = 64 * 1024;

/// A misbehaviour the mirror shows for one path, set by a test with
/// [`TlcMirror::set_fault`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Answer the next `times` requests (GET or HEAD) with status `code` and a small
    /// body, then serve normally: e.g. a 500 that succeeds on retry.
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
struct Counts {
    gets: usize,
    heads: usize,
    others: usize,
}

#[derive(Debug)]
struct Shared {
    root: PathBuf,
    stopping: AtomicBool,
    faults: Mutex<HashMap<String, Fault>>,
    counts: Mutex<HashMap<String, Counts>>,
}

/// A TLC CDN look-alike serving the files under a root folder on a free port of
/// 127.0.0.1; stops accepting on drop.
///
/// Paths given to its methods are relative to the root, with or without a leading `/`
/// (`"trip-data/yellow_tripdata_2024-01.parquet"`).
///
/// ```no_run
/// use atl_devservices::{Fault, TlcMirror};
/// let mirror = TlcMirror::start("tests/cdn")?;
/// let path = "trip-data/yellow_tripdata_2024-01.parquet";
/// mirror.set_fault(path, Fault::Status { code: 500, times: 1 });
/// // point the ingest at mirror.base_url(), run it twice, then:
/// assert_eq!(mirror.gets(path), 2);
/// # Ok::<(), atl_devservices::Error>(())
/// ```
#[derive(Debug)]
pub struct TlcMirror {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept_loop: Option<JoinHandle<()>>,
}

impl TlcMirror {
    /// Serves `root` (which need not exist yet: its files are looked up per request).
    pub fn start(root: impl Into<PathBuf>) -> Result<TlcMirror> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(Error::Listen)?;
        let addr = listener.local_addr().map_err(Error::Listen)?;
        let shared = Arc::new(Shared {
            root: root.into(),
            stopping: AtomicBool::new(false),
            faults: Mutex::default(),
            counts: Mutex::default(),
        });
        let accept_shared = Arc::clone(&shared);
        let accept_loop = thread::Builder::new()
            .name("tlc-mirror".to_owned())
            .spawn(move || accept(&listener, &accept_shared))
            .map_err(Error::Listen)?;
        Ok(TlcMirror { addr, shared, accept_loop: Some(accept_loop) })
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
        self.shared.stopping.store(true, Ordering::SeqCst);
        // `accept` blocks: a connection of our own wakes it up to see the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(accept_loop) = self.accept_loop.take() {
            let _ = accept_loop.join();
        }
    }
}

/// Counters and faults stay usable after a panic in a connection thread.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The map key of a request target or a caller's path: no leading `/`, no query.
fn key(path: &str) -> String {
    let path = path.split(['?', '#']).next().unwrap_or_default();
    path.trim_start_matches('/').to_owned()
}

fn accept(listener: &TcpListener, shared: &Arc<Shared>) {
    for stream in listener.incoming() {
        if shared.stopping.load(Ordering::SeqCst) {
            break;
        }
        match stream {
            Ok(stream) => {
                let shared = Arc::clone(shared);
                // A client that hangs up early is its own business.
                thread::spawn(move || drop(serve(&shared, stream)));
            }
            // Out of file descriptors and the like: let it pass.
            Err(_) => thread::sleep(Duration::from_millis(10)),
        }
    }
}

struct Request {
    method: String,
    target: String,
    range: Option<String>,
}

fn read_request(reader: &mut impl BufRead) -> io::Result<Request> {
    let mut line = String::new();
    let mut total = 0;
    let mut next_line = |line: &mut String| -> io::Result<()> {
        line.clear();
        let n = reader.read_line(line)?;
        total += n;
        if n == 0 || total > MAX_HEAD_BYTES {
            return Err(io::ErrorKind::InvalidData.into());
        }
        Ok(())
    };
    next_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let (Some(method), Some(target)) = (parts.next(), parts.next()) else {
        return Err(io::ErrorKind::InvalidData.into());
    };
    let mut request = Request { method: method.to_owned(), target: target.to_owned(), range: None };
    loop {
        next_line(&mut line)?;
        let header = line.trim_end();
        if header.is_empty() {
            return Ok(request);
        }
        if let Some((name, value)) = header.split_once(':')
            && name.trim().eq_ignore_ascii_case("range")
        {
            request.range = Some(value.trim().to_owned());
        }
    }
}

fn serve(shared: &Shared, mut stream: TcpStream) -> io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    stream.set_write_timeout(Some(Duration::from_secs(60)))?;
    let request = read_request(&mut BufReader::new(&stream))?;
    let key = key(&request.target);
    let head_only = request.method == "HEAD";

    {
        let mut counts = lock(&shared.counts);
        let counts = counts.entry(key.clone()).or_default();
        match request.method.as_str() {
            "GET" => counts.gets += 1,
            "HEAD" => counts.heads += 1,
            _ => counts.others += 1,
        }
    }
    if !matches!(request.method.as_str(), "GET" | "HEAD") {
        return send_status(&mut stream, 405, head_only);
    }

    let fault = {
        let mut faults = lock(&shared.faults);
        let fault = faults.get(&key).cloned();
        if let Some(Fault::Status { times, .. }) = faults.get_mut(&key) {
            *times = times.saturating_sub(1);
            if *times == 0 {
                faults.remove(&key);
            }
        }
        fault
    };

    let mut body_limits = BodyLimits::default();
    match fault {
        Some(Fault::Status { times: 0, .. }) | None => {}
        Some(Fault::Status { code, .. }) => return send_status(&mut stream, code, head_only),
        Some(Fault::Body { content_type, body }) => {
            let head = response_head(200, &content_type, body.len() as u64, &[]);
            stream.write_all(head.as_bytes())?;
            if !head_only {
                stream.write_all(&body)?;
            }
            return finish(stream);
        }
        Some(Fault::Truncate { at_bytes }) => body_limits.truncate_at = Some(at_bytes),
        Some(Fault::Slow { bytes_per_sec }) => body_limits.bytes_per_sec = Some(bytes_per_sec),
    }

    let Some((file, len, modified)) = open_file(&shared.root, &key) else {
        return send_status(&mut stream, 403, head_only);
    };
    send_file(&mut stream, file, len, modified, &request, head_only, body_limits)?;
    finish(stream)
}

/// Opens `root/key` when `key` is a plain relative path to a regular file.
fn open_file(root: &Path, key: &str) -> Option<(File, u64, SystemTime)> {
    let relative = Path::new(key);
    if key.is_empty() || !relative.components().all(|c| matches!(c, Component::Normal(_))) {
        return None;
    }
    let file = File::open(root.join(relative)).ok()?;
    let meta = file.metadata().ok()?;
    meta.is_file().then(|| (file, meta.len(), meta.modified().unwrap_or(UNIX_EPOCH)))
}

#[derive(Debug, Default, Clone, Copy)]
struct BodyLimits {
    truncate_at: Option<u64>,
    bytes_per_sec: Option<u64>,
}

fn send_file(
    stream: &mut TcpStream,
    mut file: File,
    len: u64,
    modified: SystemTime,
    request: &Request,
    head_only: bool,
    limits: BodyLimits,
) -> io::Result<()> {
    let since_epoch = modified.duration_since(UNIX_EPOCH).unwrap_or_default();
    let etag = format!("\"{len:x}-{:x}\"", since_epoch.as_nanos());
    let last_modified = http_date(since_epoch.as_secs());
    let content_type = if request.target.ends_with(".csv") { "text/csv" } else { "application/octet-stream" };
    let mut headers =
        vec![("ETag", etag), ("Last-Modified", last_modified), ("Accept-Ranges", "bytes".to_owned())];

    let (status, start, count) = match request.range.as_deref().map(|r| parse_range(r, len)) {
        None | Some(RangeRequest::Ignored) => (200, 0, len),
        Some(RangeRequest::Satisfiable { start, end }) => {
            headers.push(("Content-Range", format!("bytes {start}-{end}/{len}")));
            (206, start, end - start + 1)
        }
        Some(RangeRequest::Unsatisfiable) => {
            headers.push(("Content-Range", format!("bytes */{len}")));
            let head = response_head(416, "text/plain", 0, &headers);
            return stream.write_all(head.as_bytes());
        }
    };
    stream.write_all(response_head(status, content_type, count, &headers).as_bytes())?;
    if head_only {
        return Ok(());
    }

    file.seek(SeekFrom::Start(start))?;
    let to_send = limits.truncate_at.map_or(count, |at| at.min(count));
    let chunk = match limits.bytes_per_sec {
        // About ten writes a second, so the rate is smooth enough for progress bars.
        Some(bps) => usize::try_from(bps / 10).unwrap_or(CHUNK).clamp(1, CHUNK),
        None => CHUNK,
    };
    let mut buf = vec![0; chunk];
    let started = Instant::now();
    let mut sent = 0u64;
    while sent < to_send {
        let want = usize::try_from(to_send - sent).map_or(chunk, |left| left.min(chunk));
        let n = file.read(&mut buf[..want])?;
        if n == 0 {
            // The file shrank under us: the client sees a short body, as with a real CDN.
            break;
        }
        stream.write_all(&buf[..n])?;
        sent += n as u64;
        if let Some(bps) = limits.bytes_per_sec.filter(|&bps| bps > 0) {
            let due = Duration::from_secs_f64(sent as f64 / bps as f64);
            if let Some(wait) = due.checked_sub(started.elapsed()) {
                thread::sleep(wait);
            }
        }
    }
    Ok(())
}

enum RangeRequest {
    /// Not a single `bytes=` range we understand: serve the whole file (RFC 9110 allows it).
    Ignored,
    Satisfiable {
        start: u64,
        end: u64,
    },
    Unsatisfiable,
}

/// `bytes=a-b`, `bytes=a-` or `bytes=-n`, inclusive ends, clipped to the file.
fn parse_range(value: &str, len: u64) -> RangeRequest {
    let Some(spec) = value.strip_prefix("bytes=") else {
        return RangeRequest::Ignored;
    };
    let Some((first, last)) = spec.trim().split_once('-') else {
        return RangeRequest::Ignored;
    };
    if spec.contains(',') {
        return RangeRequest::Ignored;
    }
    let (first, last) = (first.trim(), last.trim());
    let (start, end) = match (first.parse::<u64>(), last.parse::<u64>()) {
        (Ok(start), Ok(end)) if start <= end => (start, end.min(len.saturating_sub(1))),
        (Ok(start), Err(_)) if last.is_empty() => (start, len.saturating_sub(1)),
        (Err(_), Ok(suffix)) if first.is_empty() && suffix > 0 => {
            (len.saturating_sub(suffix), len.saturating_sub(1))
        }
        _ => return RangeRequest::Ignored,
    };
    if start >= len { RangeRequest::Unsatisfiable } else { RangeRequest::Satisfiable { start, end } }
}

fn send_status(stream: &mut TcpStream, code: u16, head_only: bool) -> io::Result<()> {
    let (content_type, body) = if code == 403 {
        ("application/xml", ACCESS_DENIED_XML.to_owned())
    } else {
        ("text/plain", format!("{code} {}\n", reason(code)))
    };
    let head = response_head(code, content_type, body.len() as u64, &[]);
    stream.write_all(head.as_bytes())?;
    if !head_only {
        stream.write_all(body.as_bytes())?;
    }
    Ok(())
}

fn response_head(code: u16, content_type: &str, content_length: u64, extra: &[(&str, String)]) -> String {
    let mut head = format!(
        "HTTP/1.1 {code} {}\r\nServer: atl-tlc-mirror\r\nConnection: close\r\n\
         Content-Type: {content_type}\r\nContent-Length: {content_length}\r\n",
        reason(code)
    );
    for (name, value) in extra {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    head
}

fn finish(stream: TcpStream) -> io::Result<()> {
    stream.shutdown(Shutdown::Write)
}

fn reason(code: u16) -> &'static str {
    match code {
        200 => "OK",
        206 => "Partial Content",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        416 => "Range Not Satisfiable",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}

/// An IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`) for seconds since the epoch.
fn http_date(secs: u64) -> String {
    const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] =
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let days = secs / 86_400;
    let rem = secs % 86_400;
    // Civil-from-days (Howard Hinnant), for days since 1970-01-01 (a Thursday).
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    format!(
        "{}, {day:02} {} {year} {:02}:{:02}:{:02} GMT",
        WEEKDAYS[(days % 7) as usize],
        MONTHS[(month - 1) as usize],
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_dates() {
        assert_eq!(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(http_date(784_111_777), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(http_date(1_709_210_096), "Thu, 29 Feb 2024 12:34:56 GMT");
    }

    #[test]
    fn ranges() {
        let sat = |r, len| match parse_range(r, len) {
            RangeRequest::Satisfiable { start, end } => Some((start, end)),
            _ => None,
        };
        assert_eq!(sat("bytes=0-9", 100), Some((0, 9)));
        assert_eq!(sat("bytes=90-", 100), Some((90, 99)));
        assert_eq!(sat("bytes=-10", 100), Some((90, 99)));
        assert_eq!(sat("bytes=95-200", 100), Some((95, 99)));
        assert!(matches!(parse_range("bytes=100-", 100), RangeRequest::Unsatisfiable));
        assert!(matches!(parse_range("bytes=0-1,5-6", 100), RangeRequest::Ignored));
        assert!(matches!(parse_range("items=0-1", 100), RangeRequest::Ignored));
    }

    #[test]
    fn keys_ignore_leading_slash_and_query() {
        assert_eq!(key("/misc/taxi_zone_lookup.csv?x=1"), "misc/taxi_zone_lookup.csv");
        assert_eq!(key("misc/taxi_zone_lookup.csv"), "misc/taxi_zone_lookup.csv");
    }
}
