//! A small HTTP/1.1 client (hyper) with connect and request timeouts, for
//! nsqlookupd queries, nsqd `/stats` and the utilities' HTTP endpoints.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use crate::error::HttpError;

/// A complete HTTP response.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// The whole body.
    pub body: Bytes,
}

impl HttpResponse {
    /// The body as text (lossy UTF-8).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A pooled HTTP client; cheap to clone.
#[derive(Clone, Debug)]
pub struct HttpClient {
    client: Client<HttpConnector, Full<Bytes>>,
    request_timeout: Duration,
}

impl HttpClient {
    /// A client whose connects give up after `connect_timeout` and whose
    /// requests (connect included) give up after `request_timeout`.
    pub fn new(connect_timeout: Duration, request_timeout: Duration) -> HttpClient {
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(connect_timeout));
        connector.set_nodelay(true);
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .build(connector);
        HttpClient {
            client,
            request_timeout,
        }
    }

    /// `GET url` with an `Accept` header asking for NSQ's v1 responses.
    pub async fn get(&self, url: &str) -> Result<HttpResponse, HttpError> {
        self.request(
            "GET",
            url,
            &[("Accept".into(), "application/vnd.nsq; version=1.0".into())],
            Bytes::new(),
        )
        .await
    }

    /// Sends one request and reads the whole response.
    pub async fn request(
        &self,
        method: &str,
        url: &str,
        headers: &[(String, String)],
        body: Bytes,
    ) -> Result<HttpResponse, HttpError> {
        let uri: hyper::Uri =
            url.parse()
                .map_err(|e: hyper::http::uri::InvalidUri| HttpError::BadUrl {
                    url: url.to_string(),
                    detail: e.to_string(),
                })?;
        let method = hyper::Method::from_bytes(method.as_bytes())
            .map_err(|_| HttpError::BadMethod(method.to_string()))?;
        let mut builder = hyper::Request::builder().method(method).uri(uri);
        for (name, value) in headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        let request = builder
            .body(Full::new(body))
            .map_err(|e| HttpError::BadUrl {
                url: url.to_string(),
                detail: e.to_string(),
            })?;
        let exchange = async {
            let response = self
                .client
                .request(request)
                .await
                .map_err(|e| HttpError::Request(error_chain(&e)))?;
            let status = response.status().as_u16();
            let body = response
                .into_body()
                .collect()
                .await
                .map_err(|e| HttpError::Request(error_chain(&e)))?
                .to_bytes();
            Ok(HttpResponse { status, body })
        };
        tokio::time::timeout(self.request_timeout, exchange)
            .await
            .map_err(|_| HttpError::Timeout(self.request_timeout))?
    }
}

/// An error and its causes, `outer: inner: ...`.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// `addr` as an `http://` base URL without a trailing slash: a bare
/// `host:port` gets the scheme added, as go-nsq does.
pub fn base_url(addr: &str) -> String {
    let addr = addr.trim_end_matches('/');
    if addr.starts_with("http://") || addr.starts_with("https://") {
        addr.to_string()
    } else {
        format!("http://{addr}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls() {
        assert_eq!(base_url("127.0.0.1:4161"), "http://127.0.0.1:4161");
        assert_eq!(base_url("http://h:1/"), "http://h:1");
        assert_eq!(base_url("https://h:1"), "https://h:1");
    }

    #[tokio::test]
    async fn unreachable_server_is_a_request_error() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let c = HttpClient::new(Duration::from_secs(1), Duration::from_secs(2));
        let err = c.get(&format!("http://{addr}/ping")).await.unwrap_err();
        assert!(matches!(err, HttpError::Request(_)), "{err}");
    }
}
