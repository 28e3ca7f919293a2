//! The TLC CDN look-alike serves files, answers missing ones like CloudFront and
//! misbehaves on demand.

use std::io::{Read, Write};
use std::net::TcpStream;

use atl_devservices::{ACCESS_DENIED_XML, Fault, TlcMirror};

const TRIPS: &str = "trip-data/yellow_tripdata_2024-01.parquet";

struct Response {
    status: u16,
    headers: String,
    body: Vec<u8>,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.lines().find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
}

fn request(mirror: &TlcMirror, method: &str, path: &str, extra: &str) -> Response {
    let addr = mirror.base_url().trim_start_matches("http://").to_owned();
    let mut stream = TcpStream::connect(&addr).unwrap();
    write!(stream, "{method} /{path} HTTP/1.1\r\nHost: {addr}\r\n{extra}\r\n").unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let headers = String::from_utf8(raw[..split].to_vec()).unwrap();
    Response { status: headers[9..12].parse().unwrap(), headers, body: raw[split + 4..].to_vec() }
}

fn mirror_with_file(len: usize) -> (tempfile::TempDir, Vec<u8>, TlcMirror) {
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("trip-data")).unwrap();
    let content: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
    std::fs::write(root.path().join(TRIPS), &content).unwrap();
    let mirror = TlcMirror::start(root.path()).unwrap();
    (root, content, mirror)
}

#[test]
fn serves_files_and_heads_and_ranges() {
    let (_root, content, mirror) = mirror_with_file(300_000);

    let get = request(&mirror, "GET", TRIPS, "");
    assert_eq!(get.status, 200);
    assert_eq!(get.body, content);
    assert!(get.header("ETag").is_some());

    let head = request(&mirror, "HEAD", TRIPS, "");
    assert_eq!(head.status, 200);
    assert_eq!(head.header("Content-Length"), Some("300000"));
    assert!(head.body.is_empty());
    assert_eq!(head.header("ETag"), get.header("ETag"));

    let range = request(&mirror, "GET", TRIPS, "Range: bytes=100-\r\n");
    assert_eq!(range.status, 206);
    assert_eq!(range.body, content[100..]);
    assert_eq!(range.header("Content-Range"), Some("bytes 100-299999/300000"));

    assert_eq!(mirror.gets(TRIPS), 2);
    assert_eq!(mirror.heads(&format!("/{TRIPS}")), 1);
    assert_eq!(mirror.requests(TRIPS), 3);
    mirror.reset_counts();
    assert_eq!(mirror.requests(TRIPS), 0);
}

#[test]
fn missing_files_are_access_denied_xml() {
    let (_root, _, mirror) = mirror_with_file(10);
    let missing = "trip-data/yellow_tripdata_2099-01.parquet";
    let response = request(&mirror, "GET", missing, "");
    assert_eq!(response.status, 403);
    assert_eq!(response.header("Content-Type"), Some("application/xml"));
    assert_eq!(response.body, ACCESS_DENIED_XML.as_bytes());
    assert_eq!(mirror.gets(missing), 1);

    let escape = request(&mirror, "GET", "../etc/passwd", "");
    assert_eq!(escape.status, 403);
}

#[test]
fn status_fault_fails_then_recovers() {
    let (_root, content, mirror) = mirror_with_file(1000);
    mirror.set_fault(TRIPS, Fault::Status { code: 500, times: 2 });
    assert_eq!(request(&mirror, "GET", TRIPS, "").status, 500);
    assert_eq!(request(&mirror, "HEAD", TRIPS, "").status, 500);
    let third = request(&mirror, "GET", TRIPS, "");
    assert_eq!(third.status, 200);
    assert_eq!(third.body, content);
    assert_eq!(mirror.requests(TRIPS), 3);
}

#[test]
fn truncate_fault_closes_early() {
    let (_root, content, mirror) = mirror_with_file(200_000);
    mirror.set_fault(TRIPS, Fault::Truncate { at_bytes: 1234 });
    let cut = request(&mirror, "GET", TRIPS, "");
    assert_eq!(cut.status, 200);
    assert_eq!(cut.header("Content-Length"), Some("200000"));
    assert_eq!(cut.body, content[..1234]);

    mirror.clear_fault(TRIPS);
    assert_eq!(request(&mirror, "GET", TRIPS, "").body, content);
}

#[test]
fn slow_and_body_faults() {
    let (_root, content, mirror) = mirror_with_file(20_000);
    mirror.set_fault(TRIPS, Fault::Slow { bytes_per_sec: 100_000 });
    let started = std::time::Instant::now();
    assert_eq!(request(&mirror, "GET", TRIPS, "").body, content);
    assert!(started.elapsed().as_millis() >= 150, "{:?}", started.elapsed());

    let page = b"<html><body>Service temporarily unavailable</body></html>".to_vec();
    mirror.set_fault(TRIPS, Fault::Body { content_type: "text/html".to_owned(), body: page.clone() });
    let html = request(&mirror, "GET", TRIPS, "");
    assert_eq!(html.status, 200);
    assert_eq!(html.header("Content-Type"), Some("text/html"));
    assert_eq!(html.body, page);
}
