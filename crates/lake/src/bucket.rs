//! Creating the lake's bucket. object_store reads and writes objects but has no call for
//! buckets, so the request is signed with rusty-s3 (SigV4 without hand-written crypto)
//! and sent with reqwest.

use std::time::Duration;

use rusty_s3::{Bucket, Credentials, S3Action, UrlStyle};

use crate::open::{Backend, S3Target};
use crate::{Lake, LakeError};

/// How long a signed bucket request stays valid.
const SIGNATURE_LIFETIME: Duration = Duration::from_secs(300);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// What [`Lake::init`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InitOutcome {
    /// The folder or bucket was created.
    Created,
    /// It was already there.
    AlreadyPresent,
}

impl Lake {
    /// Makes the lake ready to receive objects: for S3, creates the bucket when it is
    /// missing (an existing bucket you own is fine); for a folder, which [`Lake::create`]
    /// created if it was missing, reports whether that happened.
    pub async fn init(&self) -> Result<InitOutcome, LakeError> {
        match &self.backend {
            Backend::Local { created, root } => {
                std::fs::create_dir_all(root)
                    .map_err(|source| LakeError::Folder { path: root.clone(), source })?;
                Ok(if *created { InitOutcome::Created } else { InitOutcome::AlreadyPresent })
            }
            Backend::S3(target) => create_bucket(target).await,
        }
    }
}

async fn create_bucket(target: &S3Target) -> Result<InitOutcome, LakeError> {
    let fail = |reason: String| LakeError::Bucket {
        bucket: target.bucket.clone(),
        endpoint: target.endpoint.clone(),
        reason,
    };
    let endpoint = target.endpoint.parse().map_err(|e| fail(format!("endpoint is not a URL: {e}")))?;
    let bucket = Bucket::new(endpoint, UrlStyle::Path, target.bucket.clone(), target.region.clone())
        .map_err(|e| fail(format!("cannot address the bucket: {e}")))?;
    let credentials = Credentials::new(target.access_key.clone(), target.secret_key.expose());
    let client = reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .build()
        .map_err(|e| fail(format!("HTTP client: {e}")))?;

    // without_url: the presigned URL carries the access key and a live signature.
    let head_url = bucket.head_bucket(Some(&credentials)).sign(SIGNATURE_LIFETIME);
    let head =
        client.head(head_url).send().await.map_err(|e| fail(format!("HEAD bucket: {}", http_cause(e))))?;
    match head.status().as_u16() {
        200 => return Ok(InitOutcome::AlreadyPresent),
        404 => {}
        status => return Err(fail(format!("HEAD bucket answered HTTP {status}"))),
    }

    let put_url = bucket.create_bucket(&credentials).sign(SIGNATURE_LIFETIME);
    // Outside us-east-1, S3 wants the region restated in the body.
    let body = if target.region == "us-east-1" {
        String::new()
    } else {
        format!(
            "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\
             <LocationConstraint>{}</LocationConstraint></CreateBucketConfiguration>",
            target.region
        )
    };
    let response = client
        .put(put_url)
        // S3 servers want a length even for an empty body, which hyper would leave out.
        .header(reqwest::header::CONTENT_LENGTH, body.len())
        .body(body)
        .send()
        .await
        .map_err(|e| fail(format!("PUT bucket: {}", http_cause(e))))?;
    let status = response.status();
    if status.is_success() {
        return Ok(InitOutcome::Created);
    }
    let text = response.text().await.unwrap_or_default();
    // Another process created it between our HEAD and PUT: still ours, still fine.
    if status.as_u16() == 409 && text.contains("BucketAlreadyOwnedByYou") {
        return Ok(InitOutcome::AlreadyPresent);
    }
    Err(fail(format!("PUT bucket answered HTTP {}: {}", status.as_u16(), s3_error_code(&text))))
}

/// A request that got no answer, with its cause (DNS, refused, TLS, timeout), never the URL
/// (a presigned URL carries the access key and a live signature).
fn http_cause(error: reqwest::Error) -> String {
    let error = error.without_url();
    atl_core::ErrorChain::new(&error).one_line()
}

/// The `<Code>` of an S3 XML error, or the start of the body.
fn s3_error_code(body: &str) -> String {
    let code = body.split_once("<Code>").and_then(|(_, rest)| rest.split_once("</Code>")).map(|(c, _)| c);
    match code {
        Some(code) => code.to_owned(),
        None => body.chars().take(200).collect(),
    }
}
