//! `nsq_to_http`: deliver each message of a topic to HTTP endpoints
//! (flags.md §10.7).
//!
//! `--post` sends the body (with `--content-type`); `--get` substitutes the
//! query-escaped body for the one `%s` in the URL. `--mode` picks the
//! endpoint per message (round-robin, hostpool, epsilon-greedy; any other
//! value sends to every endpoint). Success is 2xx for POST and exactly 200
//! for GET; otherwise the message is requeued (default delay, backoff).
//! `-n` bounds the concurrent requests; `--sample` finishes a share of
//! messages without sending them. SIGINT/SIGTERM: stop consuming, finish the
//! requests in flight, exit 0.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use nsq_client::lookup::query_escape;
use nsq_client::{Delivery, HttpClient};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::common::{self, Outcome, UtilError};
use crate::hostpool::{HostPool, Mode};

const NAME: &str = "nsq_to_http";

/// Runs nsq_to_http with `args` (including `argv[0]`); returns the exit status.
pub fn main(args: Vec<String>) -> i32 {
    let parsed = match common::parse_command_line(nsq_flags::tables::nsq_to_http(), args, false) {
        Ok(p) => p,
        Err(code) => return code,
    };
    if common::print_version(&parsed, NAME) {
        return 0;
    }
    common::run_main(NAME, run(parsed))
}

/// One endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// A URL with one `%s` for the query-escaped body.
    Get(String),
    /// A URL the body is posted to.
    Post(String),
}

impl Endpoint {
    /// The request URL for `body`.
    pub fn url(&self, body: &[u8]) -> String {
        match self {
            Endpoint::Get(template) => {
                template.replacen("%s", &query_escape(&String::from_utf8_lossy(body)), 1)
            }
            Endpoint::Post(url) => url.clone(),
        }
    }

    /// Whether `status` counts as delivered.
    pub fn success(&self, status: u16) -> bool {
        match self {
            Endpoint::Get(_) => status == 200,
            Endpoint::Post(_) => (200..300).contains(&status),
        }
    }
}

/// Parses `--header` values `Name: value` (split at the first colon).
pub fn parse_headers(values: &[String]) -> Result<Vec<(String, String)>, UtilError> {
    values
        .iter()
        .map(|h| match h.split_once(':') {
            Some((k, v)) if !k.trim().is_empty() => {
                Ok((k.trim().to_string(), v.trim().to_string()))
            }
            _ => Err(UtilError::Usage(format!(
                "invalid header {h:?} (must be \"Name: value\")"
            ))),
        })
        .collect()
}

struct Shared {
    http: HttpClient,
    endpoints: Vec<Endpoint>,
    pool: HostPool,
    headers: Vec<(String, String)>,
    content_type: String,
    sample: f64,
    status_every: u64,
    delivered: AtomicU64,
    total_ms: AtomicU64,
}

impl Shared {
    async fn send(&self, endpoint: &Endpoint, body: &Bytes) -> Result<(), String> {
        let mut headers = vec![(
            "User-Agent".to_string(),
            format!("{NAME} v{}", common::VERSION),
        )];
        let (method, payload) = match endpoint {
            Endpoint::Get(_) => ("GET", Bytes::new()),
            Endpoint::Post(_) => {
                headers.push(("Content-Type".to_string(), self.content_type.clone()));
                ("POST", body.clone())
            }
        };
        headers.extend(self.headers.iter().cloned());
        let url = endpoint.url(body);
        match self.http.request(method, &url, &headers, payload).await {
            Ok(r) if endpoint.success(r.status) => Ok(()),
            Ok(r) => Err(format!("{method} {url} answered {}", r.status)),
            Err(e) => Err(format!("{method} {url} failed: {e}")),
        }
    }
}

async fn handle(shared: Arc<Shared>, d: Delivery) {
    if shared.sample < 1.0 && rand::random::<f64>() > shared.sample {
        d.finish();
        return;
    }
    let start = Instant::now();
    let mut failed = None;
    for i in shared.pool.pick() {
        let Some(endpoint) = shared.endpoints.get(i) else {
            continue;
        };
        let t = Instant::now();
        let result = shared.send(endpoint, d.body()).await;
        shared.pool.mark(i, result.is_ok(), t.elapsed());
        if let Err(e) = result {
            failed = Some(e);
        }
    }
    match failed {
        None => {
            d.finish();
            let n = shared.delivered.fetch_add(1, Ordering::SeqCst) + 1;
            let ms = shared
                .total_ms
                .fetch_add(start.elapsed().as_millis() as u64, Ordering::SeqCst);
            if n.checked_rem(shared.status_every) == Some(0) {
                tracing::info!(
                    "{n} messages delivered, {:.1}ms average",
                    ms as f64 / n as f64
                );
            }
        }
        Some(e) => {
            tracing::warn!("msg {} (attempt {}): {e}; requeueing", d.id(), d.attempts());
            d.requeue(None);
        }
    }
}

async fn run(p: nsq_flags::Parsed) -> Outcome {
    common::init_logging("[nsq_to_http] ", "info")?;
    let topic = p.string("topic").to_string();
    if topic.is_empty() {
        return Err(UtilError::usage("--topic is required"));
    }
    common::check_topic(&topic)?;
    let channel = p.string("channel").to_string();
    common::check_channel(&channel)?;
    let sources = common::sources(&p, "nsqd-tcp-address")?;
    let gets = p.string_list("get");
    let posts = p.string_list("post");
    let endpoints: Vec<Endpoint> = match (gets.is_empty(), posts.is_empty()) {
        (true, true) => return Err(UtilError::usage("--get or --post required")),
        (false, false) => return Err(UtilError::usage("use --get or --post not both")),
        (false, true) => {
            for g in gets {
                if g.matches("%s").count() != 1 {
                    return Err(UtilError::Usage(format!(
                        "invalid GET address {g:?} - must contain exactly one %s"
                    )));
                }
            }
            gets.iter().cloned().map(Endpoint::Get).collect()
        }
        (true, false) => posts.iter().cloned().map(Endpoint::Post).collect(),
    };
    for e in &endpoints {
        let url = e.url(b"x");
        check_url(&url).map_err(|err| UtilError::Usage(format!("invalid URL {url:?}: {err}")))?;
    }
    let sample = p.float("sample");
    if !(0.0..=1.0).contains(&sample) {
        return Err(UtilError::usage("--sample must be between 0.0 and 1.0"));
    }
    let concurrency = p.int("n");
    if concurrency < 1 {
        return Err(UtilError::usage("-n must be at least 1"));
    }
    let headers = parse_headers(p.string_list("header"))?;
    let mode = Mode::parse(p.string("mode")).unwrap_or(Mode::All);
    let config = common::client_config(&p, NAME, "consumer-opt", p.int("max-in-flight"))?;
    let shared = Arc::new(Shared {
        http: HttpClient::new(
            p.duration("http-client-connect-timeout"),
            p.duration("http-client-request-timeout"),
        ),
        pool: HostPool::new(mode, endpoints.len()),
        endpoints,
        headers,
        content_type: p.string("content-type").to_string(),
        sample,
        status_every: u64::try_from(p.int("status-every")).unwrap_or(0),
        delivered: AtomicU64::new(0),
        total_ms: AtomicU64::new(0),
    });

    let consumer = common::new_consumer(&topic, &channel, config)?;
    common::connect(&consumer, &sources).await?;
    let permits = Arc::new(Semaphore::new(
        usize::try_from(concurrency).unwrap_or(usize::MAX),
    ));
    let mut tasks = JoinSet::new();
    let mut signal = std::pin::pin!(nsq_app::shutdown_signal());
    loop {
        tokio::select! {
            _ = &mut signal, if !consumer.is_stopping() => consumer.stop(),
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            next = consumer.recv() => {
                let Some(d) = next else { break };
                let Ok(permit) = permits.clone().acquire_owned().await else { break };
                let shared = shared.clone();
                tasks.spawn(async move {
                    handle(shared, d).await;
                    drop(permit);
                });
            }
        }
    }
    while tasks.join_next().await.is_some() {}
    Ok(())
}

/// Endpoints must be absolute `http://` URLs with a host (HTTPS needs the
/// TLS transport, which is not available yet).
fn check_url(url: &str) -> Result<(), &'static str> {
    let rest = url
        .strip_prefix("http://")
        .ok_or("only http:// URLs are supported")?;
    if rest.is_empty() || rest.starts_with('/') {
        return Err("missing host");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn get_urls_escape_the_body() {
        let e = Endpoint::Get("http://h/x?m=%s".into());
        assert_eq!(e.url(b"a b&c"), "http://h/x?m=a+b%26c");
        assert!(e.success(200) && !e.success(201));
        let p = Endpoint::Post("http://h/p".into());
        assert_eq!(p.url(b"zzz"), "http://h/p");
        assert!(p.success(204) && !p.success(500) && !p.success(302));
    }

    #[test]
    fn headers_split_at_first_colon() {
        let h = parse_headers(&["X-A: 1:2".into(), "X-B:b".into()]).unwrap();
        assert_eq!(
            h,
            vec![("X-A".into(), "1:2".into()), ("X-B".into(), "b".into())]
        );
        assert!(parse_headers(&["nocolon".into()]).is_err());
        assert!(check_url("http://h:1/x").is_ok());
        assert!(check_url("https://h").is_err() && check_url("http:///x").is_err());
    }
}
