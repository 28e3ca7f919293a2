//! moto's S3 server really starts and answers S3 requests.

use std::io::{Read, Write};
use std::net::TcpStream;

use atl_devservices::S3Server;

/// One raw HTTP/1.1 exchange; returns the status code and the body.
fn http(port: u16, method: &str, path: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\n\
         Connection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response[9..12].parse().unwrap();
    let body = response.split_once("\r\n\r\n").unwrap().1.to_owned();
    (status, body)
}

#[test]
fn s3_server_creates_and_lists_a_bucket() {
    let s3 = S3Server::start().expect("start moto_server");
    assert_eq!(s3.endpoint(), format!("http://127.0.0.1:{}", s3.port()));
    assert_eq!(s3.region(), "us-east-1");

    let (status, _) = http(s3.port(), "PUT", "/rawnyc");
    assert_eq!(status, 200);
    let (status, body) = http(s3.port(), "GET", "/");
    assert_eq!(status, 200);
    assert!(body.contains("<Name>rawnyc</Name>"), "{body}");
    let (status, body) = http(s3.port(), "GET", "/rawnyc?list-type=2");
    assert_eq!(status, 200);
    assert!(body.contains("ListBucketResult"), "{body}");
}
