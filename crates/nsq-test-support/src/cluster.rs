//! A whole cluster on free loopback ports: nsqlookupd, several nsqd
//! registered with it, and nsqadmin pointed at it (or at the nsqd directly).

use crate::daemon::Daemon;
use crate::http::http_request;
use std::future::Future;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// How long [`eventually`] waits by default.
pub const EVENTUALLY_TIMEOUT: Duration = Duration::from_secs(20);

/// Polls `check` every 25 ms until it returns `Some`, for at most
/// `timeout`; panics naming `what` otherwise. For states that other
/// processes reach asynchronously (lookupd registration, stats).
pub async fn eventually<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Starts nsqadmin on a free loopback port with `args` added.
pub fn nsqadmin(args: &[String]) -> Daemon {
    let mut all = vec!["--http-address=127.0.0.1:0".to_string()];
    all.extend(args.iter().cloned());
    Daemon::start("nsqadmin", &all, &["HTTP"])
}

/// nsqlookupd + `n` nsqd registered with it + nsqadmin in lookupd mode.
pub struct Cluster {
    /// The nsqlookupd.
    pub lookupd: Daemon,
    /// The nsqd, each started with `--lookupd-tcp-address`.
    pub nsqds: Vec<Daemon>,
    /// nsqadmin with `--lookupd-http-address`.
    pub admin: Daemon,
}

impl Cluster {
    /// Starts the cluster; `admin_args` are extra nsqadmin flags.
    pub fn start(n: usize, admin_args: &[&str]) -> Cluster {
        let lookupd = Daemon::start(
            "nsqlookupd",
            &[
                "--tcp-address=127.0.0.1:0".to_string(),
                "--http-address=127.0.0.1:0".to_string(),
                "--broadcast-address=127.0.0.1".to_string(),
            ],
            &["TCP", "HTTP"],
        );
        let lookup_flag = format!("--lookupd-tcp-address={}", lookupd.tcp());
        let nsqds = (0..n)
            .map(|_| Daemon::nsqd(&[lookup_flag.as_str()]))
            .collect();
        let mut args = vec![format!("--lookupd-http-address={}", lookupd.http())];
        args.extend(admin_args.iter().map(|s| s.to_string()));
        let admin = nsqadmin(&args);
        Cluster {
            lookupd,
            nsqds,
            admin,
        }
    }

    /// nsqadmin's HTTP address.
    pub fn admin_http(&self) -> SocketAddr {
        self.admin.http()
    }

    /// Waits until lookupd's `/lookup?topic=` lists `producers` nsqd.
    pub async fn wait_producers(&self, topic: &str, producers: usize) {
        let lookupd = self.lookupd.http();
        let target = format!("/lookup?topic={topic}");
        eventually(
            &format!("{producers} producers of {topic} in nsqlookupd"),
            EVENTUALLY_TIMEOUT,
            || async {
                let r = http_request(lookupd, "GET", &target, b"").await;
                let n = (r.status == 200)
                    .then(|| r.json()["producers"].as_array().map(|a| a.len()))
                    .flatten()?;
                (n == producers).then_some(())
            },
        )
        .await
    }
}
