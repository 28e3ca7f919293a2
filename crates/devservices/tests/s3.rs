//! moto's S3 server really starts and answers S3 requests.

use atl_devservices::S3Server;

/// One request by an HTTP client; returns the status code and the body.
fn http(port: u16, method: &str, path: &str) -> (u16, String) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let url = format!("http://127.0.0.1:{port}{path}");
        let response = reqwest::Client::new()
            .request(method, &url)
            .send()
            .await
            .unwrap_or_else(|e| panic!("moto_server at {url}: {e}"));
        let status = response.status().as_u16();
        (status, response.text().await.unwrap())
    })
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
