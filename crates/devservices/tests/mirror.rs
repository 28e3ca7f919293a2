//! The TLC CDN look-alike serves files, answers missing ones like CloudFront and
//! misbehaves on demand.

use std::time::{Duration, Instant};

use atl_devservices::{ACCESS_DENIED_XML, Fault, TlcMirror};
use reqwest::{Method, StatusCode};

const TRIPS: &str = "trip-data/yellow_tripdata_2024-01.parquet";

struct Response {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    body: Vec<u8>,
    /// Why the body ended before its `Content-Length`, if it did.
    body_error: Option<String>,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// One request on a fresh client; the body is read frame by frame, so a cut one still
/// shows what arrived.
async fn request(mirror: &TlcMirror, method: Method, path: &str, range: Option<&str>) -> Response {
    let client = reqwest::Client::new();
    let mut builder = client.request(method, format!("{}/{path}", mirror.base_url()));
    if let Some(range) = range {
        builder = builder.header(reqwest::header::RANGE, range);
    }
    let mut response = builder.send().await.expect("the mirror answers");
    let (status, headers) = (response.status(), response.headers().clone());
    let (mut body, mut body_error) = (Vec::new(), None);
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => body.extend_from_slice(&chunk),
            Ok(None) => break,
            Err(e) => {
                body_error = Some(format!("{e:?}"));
                break;
            }
        }
    }
    Response { status, headers, body, body_error }
}

fn mirror_with_file(len: usize) -> (tempfile::TempDir, Vec<u8>, TlcMirror) {
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("trip-data")).unwrap();
    let content: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
    std::fs::write(root.path().join(TRIPS), &content).unwrap();
    let mirror = TlcMirror::start(root.path()).unwrap();
    (root, content, mirror)
}

#[tokio::test]
async fn serves_files_and_heads_and_ranges() {
    let (_root, content, mirror) = mirror_with_file(300_000);

    let get = request(&mirror, Method::GET, TRIPS, None).await;
    assert_eq!(get.status, 200);
    assert_eq!(get.body, content);
    assert!(get.header("ETag").is_some_and(|tag| tag.starts_with('"')), "{:?}", get.headers);
    assert!(get.header("Last-Modified").is_some_and(|d| d.ends_with(" GMT")), "{:?}", get.headers);

    let head = request(&mirror, Method::HEAD, TRIPS, None).await;
    assert_eq!(head.status, 200);
    assert_eq!(head.header("Content-Length"), Some("300000"));
    assert!(head.body.is_empty());
    assert_eq!(head.header("ETag"), get.header("ETag"));

    let range = request(&mirror, Method::GET, TRIPS, Some("bytes=100-")).await;
    assert_eq!(range.status, 206);
    assert_eq!(range.body, content[100..]);
    assert_eq!(range.header("Content-Range"), Some("bytes 100-299999/300000"));

    assert_eq!(mirror.gets(TRIPS), 2);
    assert_eq!(mirror.heads(&format!("/{TRIPS}")), 1);
    assert_eq!(mirror.requests(TRIPS), 3);
    mirror.reset_counts();
    assert_eq!(mirror.requests(TRIPS), 0);
}

#[tokio::test]
async fn missing_files_and_folders_are_access_denied_xml() {
    let (_root, _, mirror) = mirror_with_file(10);
    let missing = "trip-data/yellow_tripdata_2099-01.parquet";
    for path in [missing, "trip-data", "trip-data/"] {
        let response = request(&mirror, Method::GET, path, None).await;
        assert_eq!(response.status, 403, "{path}");
        assert_eq!(response.header("Content-Type"), Some("application/xml"), "{path}");
        assert_eq!(response.body, ACCESS_DENIED_XML.as_bytes(), "{path}");
    }
    assert_eq!(mirror.gets(missing), 1);
    let head = request(&mirror, Method::HEAD, missing, None).await;
    assert_eq!((head.status.as_u16(), head.body.len()), (403, 0));

    // reqwest would normalise `..` away: the raw target reaches the server as written.
    let escape = raw_status(&mirror, "GET /../etc/passwd HTTP/1.1");
    assert_eq!(escape, 403);
}

/// The status of a request line sent as is, for targets a client would not send.
fn raw_status(mirror: &TlcMirror, request_line: &str) -> u16 {
    use std::io::{Read, Write};
    let addr = mirror.base_url().trim_start_matches("http://").to_owned();
    let mut stream = std::net::TcpStream::connect(&addr).unwrap();
    write!(stream, "{request_line}\r\nHost: {addr}\r\nConnection: close\r\n\r\n").unwrap();
    let mut raw = String::new();
    stream.read_to_string(&mut raw).unwrap();
    raw.get(9..12).and_then(|code| code.parse().ok()).unwrap_or_else(|| panic!("not HTTP: {raw:?}"))
}

#[tokio::test]
async fn status_fault_fails_then_recovers() {
    let (_root, content, mirror) = mirror_with_file(1000);
    mirror.set_fault(TRIPS, Fault::Status { code: 503, times: 2 });
    let first = request(&mirror, Method::GET, TRIPS, None).await;
    assert_eq!((first.status.as_u16(), first.body.as_slice()), (503, &b"503 Service Unavailable\n"[..]));
    assert_eq!(request(&mirror, Method::HEAD, TRIPS, None).await.status, 503);
    let third = request(&mirror, Method::GET, TRIPS, None).await;
    assert_eq!(third.status, 200);
    assert_eq!(third.body, content);
    assert_eq!(mirror.requests(TRIPS), 3);

    mirror.set_fault(TRIPS, Fault::Status { code: 403, times: 1 });
    let denied = request(&mirror, Method::GET, TRIPS, None).await;
    assert_eq!((denied.status.as_u16(), denied.body.as_slice()), (403, ACCESS_DENIED_XML.as_bytes()));
    assert_eq!(request(&mirror, Method::GET, TRIPS, None).await.status, 200);
}

#[tokio::test]
async fn truncate_fault_closes_early() {
    let (_root, content, mirror) = mirror_with_file(200_000);
    mirror.set_fault(TRIPS, Fault::Truncate { at_bytes: 1234 });
    let cut = request(&mirror, Method::GET, TRIPS, None).await;
    assert_eq!(cut.status, 200);
    assert_eq!(cut.header("Content-Length"), Some("200000"));
    assert_eq!(cut.body, content[..1234]);
    assert!(cut.body_error.is_some(), "a cut body must not look complete");

    mirror.clear_fault(TRIPS);
    let whole = request(&mirror, Method::GET, TRIPS, None).await;
    assert_eq!((whole.body == content, whole.body_error), (true, None));
}

#[tokio::test]
async fn stall_fault_pauses_mid_body_then_serves_whole() {
    let (_root, content, mirror) = mirror_with_file(100_000);
    let pause = Duration::from_millis(800);
    mirror.set_fault(TRIPS, Fault::Stall { at_bytes: 40_000, pause, times: 1 });
    // A HEAD has no body to stall: it leaves the GET its stall.
    assert_eq!(request(&mirror, Method::HEAD, TRIPS, None).await.status, 200);

    let client = reqwest::Client::new();
    let started = Instant::now();
    let mut response = client.get(format!("{}/{TRIPS}", mirror.base_url())).send().await.unwrap();
    let mut before_pause = Vec::new();
    while before_pause.len() < 40_000 {
        before_pause.extend_from_slice(&response.chunk().await.unwrap().expect("more body"));
    }
    assert_eq!(before_pause, content[..40_000], "the bytes before the stall");
    assert!(started.elapsed() < pause, "the first bytes came after the pause: {:?}", started.elapsed());
    let mut rest = Vec::new();
    while let Some(chunk) = response.chunk().await.unwrap() {
        rest.extend_from_slice(&chunk);
    }
    assert!(started.elapsed() >= pause, "no stall: {:?}", started.elapsed());
    assert_eq!(rest, content[40_000..]);

    let started = Instant::now();
    assert_eq!(request(&mirror, Method::GET, TRIPS, None).await.body, content);
    assert!(started.elapsed() < pause, "the stall outlived its count: {:?}", started.elapsed());
}

#[tokio::test]
async fn slow_and_body_faults() {
    let (_root, content, mirror) = mirror_with_file(20_000);
    mirror.set_fault(TRIPS, Fault::Slow { bytes_per_sec: 100_000 });
    let started = Instant::now();
    assert_eq!(request(&mirror, Method::GET, TRIPS, None).await.body, content);
    assert!(started.elapsed().as_millis() >= 150, "{:?}", started.elapsed());

    let page = b"<html><body>Service temporarily unavailable</body></html>".to_vec();
    mirror.set_fault(TRIPS, Fault::Body { content_type: "text/html".to_owned(), body: page.clone() });
    let html = request(&mirror, Method::GET, TRIPS, None).await;
    assert_eq!(html.status, 200);
    assert_eq!(html.header("Content-Type"), Some("text/html"));
    assert_eq!(html.body, page);
}

#[test]
fn a_dropped_mirror_stops_even_mid_stall() {
    let (_root, _, mirror) = mirror_with_file(100_000);
    mirror.set_fault(TRIPS, Fault::Stall { at_bytes: 10, pause: Duration::from_secs(60), times: 1 });
    let addr = mirror.base_url().trim_start_matches("http://").to_owned();
    let mut stream = std::net::TcpStream::connect(&addr).unwrap();
    std::io::Write::write_all(
        &mut stream,
        format!("GET /{TRIPS} HTTP/1.1\r\nHost: {addr}\r\n\r\n").as_bytes(),
    )
    .unwrap();
    let mut first = [0u8; 12];
    std::io::Read::read_exact(&mut stream, &mut first).unwrap();
    assert_eq!(&first, b"HTTP/1.1 200");
    let started = Instant::now();
    drop(mirror);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the drop waited out the stall: {:?}",
        started.elapsed()
    );
    assert!(std::net::TcpStream::connect(&addr).is_err(), "still listening on {addr}");
}
