//! A small HTTP client for the calls the daemons make to each other
//! (nsqd asking nsqlookupd for channels, later auth and nsqadmin fan-out):
//! GET with NSQ's `Accept` header, connect and request timeouts, JSON body.

use crate::connector::UpstreamConnector;
use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use std::sync::Arc;
use std::time::Duration;

/// The `Accept` header NSQ's own HTTP clients send.
pub const NSQ_ACCEPT: &str = "application/vnd.nsq; version=1.0";

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum HttpClientError {
    /// The URL could not be parsed.
    #[error("invalid URL {url}: {reason}")]
    BadUrl {
        /// The URL.
        url: String,
        /// The parser's message.
        reason: String,
    },
    /// Connecting or sending failed.
    #[error("request to {url} failed - {reason}")]
    Request {
        /// The URL.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// No complete answer within the request timeout.
    #[error("request to {url} timed out after {timeout:?}")]
    Timeout {
        /// The URL.
        url: String,
        /// The timeout.
        timeout: Duration,
    },
    /// The server answered with a non-200 status.
    #[error("got response {status} from {url}: {body}")]
    Status {
        /// The URL.
        url: String,
        /// The status code.
        status: u16,
        /// The body, as text.
        body: String,
    },
    /// The body is not the expected JSON.
    #[error("invalid JSON from {url}: {reason}")]
    Json {
        /// The URL.
        url: String,
        /// The decoder's message.
        reason: String,
    },
}

/// A reusable client with NSQ's timeouts (`--http-client-connect-timeout`,
/// `--http-client-request-timeout`).
#[derive(Clone, Debug)]
pub struct HttpClient {
    client: Client<UpstreamConnector, Empty<Bytes>>,
    request_timeout: Duration,
}

impl HttpClient {
    /// A client with the given connect and whole-request timeouts, for
    /// `http://` URLs only.
    pub fn new(connect_timeout: Duration, request_timeout: Duration) -> Self {
        Self::with_tls(connect_timeout, request_timeout, None)
    }

    /// Like [`HttpClient::new`], also reaching `https://` URLs with `tls`.
    pub fn with_tls(
        connect_timeout: Duration,
        request_timeout: Duration,
        tls: Option<Arc<nsq_transport::rustls::ClientConfig>>,
    ) -> Self {
        let mut tcp = HttpConnector::new();
        tcp.set_connect_timeout(Some(connect_timeout));
        tcp.set_nodelay(true);
        HttpClient {
            client: Client::builder(TokioExecutor::new()).build(UpstreamConnector::new(tcp, tls)),
            request_timeout,
        }
    }

    /// GETs `url` and returns the body of a 200 answer.
    pub async fn get(&self, url: &str) -> Result<Bytes, HttpClientError> {
        let uri: hyper::Uri =
            url.parse()
                .map_err(|e: hyper::http::uri::InvalidUri| HttpClientError::BadUrl {
                    url: url.to_string(),
                    reason: e.to_string(),
                })?;
        let req = hyper::Request::get(uri)
            .header(hyper::header::ACCEPT, NSQ_ACCEPT)
            .body(Empty::<Bytes>::new())
            .map_err(|e| HttpClientError::BadUrl {
                url: url.to_string(),
                reason: e.to_string(),
            })?;
        let request_failed = |reason: String| HttpClientError::Request {
            url: url.to_string(),
            reason,
        };
        let exchange = async {
            let resp = self
                .client
                .request(req)
                .await
                .map_err(|e| request_failed(e.to_string()))?;
            let status = resp.status().as_u16();
            let body = resp
                .into_body()
                .collect()
                .await
                .map_err(|e| request_failed(e.to_string()))?
                .to_bytes();
            Ok::<_, HttpClientError>((status, body))
        };
        let (status, body) = tokio::time::timeout(self.request_timeout, exchange)
            .await
            .map_err(|_| HttpClientError::Timeout {
                url: url.to_string(),
                timeout: self.request_timeout,
            })??;
        if status != 200 {
            return Err(HttpClientError::Status {
                url: url.to_string(),
                status,
                body: String::from_utf8_lossy(&body).into_owned(),
            });
        }
        Ok(body)
    }

    /// GETs `url` and decodes the JSON body of a 200 answer.
    pub async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        url: &str,
    ) -> Result<T, HttpClientError> {
        let body = self.get(url).await?;
        serde_json::from_slice(&body).map_err(|e| HttpClientError::Json {
            url: url.to_string(),
            reason: e.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    async fn one_shot_server(response: &'static str) -> std::net::SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 1024];
            let n = s.read(&mut buf).await.unwrap();
            let req = String::from_utf8_lossy(&buf[..n]).to_lowercase();
            assert!(
                req.contains("accept: application/vnd.nsq; version=1.0"),
                "{req}"
            );
            s.write_all(response.as_bytes()).await.unwrap();
        });
        addr
    }

    #[tokio::test]
    async fn decodes_json_of_a_200() {
        let addr = one_shot_server(
            "HTTP/1.1 200 OK\r\nContent-Length: 19\r\nConnection: close\r\n\r\n{\"channels\":[\"a\"]}\n",
        )
        .await;
        let c = HttpClient::new(Duration::from_secs(1), Duration::from_secs(2));
        let v: serde_json::Value = c
            .get_json(&format!("http://{addr}/channels"))
            .await
            .unwrap();
        assert_eq!(v["channels"][0], "a");
    }

    #[tokio::test]
    async fn non_200_is_an_error_with_the_body() {
        let addr = one_shot_server(
            "HTTP/1.1 404 Not Found\r\nContent-Length: 29\r\nConnection: close\r\n\r\n{\"message\":\"TOPIC_NOT_FOUND\"}",
        )
        .await;
        let c = HttpClient::new(Duration::from_secs(1), Duration::from_secs(2));
        let err = c.get(&format!("http://{addr}/x")).await.unwrap_err();
        assert!(err.to_string().contains("404"), "{err}");
        assert!(err.to_string().contains("TOPIC_NOT_FOUND"), "{err}");
    }

    #[tokio::test]
    async fn unreachable_server_is_an_error() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let c = HttpClient::new(Duration::from_millis(500), Duration::from_secs(1));
        assert!(c.get(&format!("http://{addr}/x")).await.is_err());
    }
}
