//! `nsq_stat`: print a channel's aggregated stats every `--interval`
//! (flags.md §10.5).
//!
//! Each round finds the nsqd nodes (nsqlookupd `/lookup`, or the given
//! `--nsqd-http-address` list), sums the channel's `/stats` over them and
//! prints one row of rates (from the difference to the previous round) and
//! current values. The first round only primes the differences; the header
//! is repeated every 25 rounds; with `--count N` the tool exits 0 after N
//! rows. A daemon that cannot be queried, or a channel found nowhere, ends
//! the tool with status 1.

use std::io::Write;
use std::time::Duration;

use nsq_client::http::base_url;
use nsq_client::HttpClient;
use serde_json::Value;

use crate::common::{self, Outcome, Sources, UtilError};

const NAME: &str = "nsq_stat";

/// Runs nsq_stat with `args` (including `argv[0]`); returns the exit status.
pub fn main(args: Vec<String>) -> i32 {
    let parsed = match common::parse_command_line(nsq_flags::tables::nsq_stat(), args, false) {
        Ok(p) => p,
        Err(code) => return code,
    };
    if common::print_version(&parsed, NAME) {
        return 0;
    }
    common::run_main(NAME, run(parsed))
}

/// A channel's figures summed over every nsqd.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ChannelTotals {
    /// `depth` (memory + disk).
    pub depth: i64,
    /// `backend_depth` (disk).
    pub backend_depth: i64,
    /// `in_flight_count`.
    pub in_flight: i64,
    /// `deferred_count`.
    pub deferred: i64,
    /// `message_count`.
    pub message_count: i64,
    /// `requeue_count`.
    pub requeue: i64,
    /// `timeout_count`.
    pub timeout: i64,
    /// `client_count`.
    pub clients: i64,
}

impl ChannelTotals {
    /// Adds one nsqd's channel stats object.
    pub fn add(&mut self, ch: &Value) {
        let n = |k: &str| ch.get(k).and_then(Value::as_i64).unwrap_or(0);
        self.depth += n("depth");
        self.backend_depth += n("backend_depth");
        self.in_flight += n("in_flight_count");
        self.deferred += n("deferred_count");
        self.message_count += n("message_count");
        self.requeue += n("requeue_count");
        self.timeout += n("timeout_count");
        self.clients += match ch.get("client_count").and_then(Value::as_i64) {
            Some(c) => c,
            None => ch
                .get("clients")
                .and_then(Value::as_array)
                .map_or(0, |c| c.len() as i64),
        };
    }
}

/// The two header lines.
pub fn header() -> String {
    format!(
        "{}+{}+{}\n{:>7} {:>7} | {:>7} {:>7} {:>7} {:>5} {:>5} | {:>7} {:>7} {:>12} {:>7}\n",
        "------rate------",
        "----------------depth----------------",
        "--------------metadata---------------",
        "ingress",
        "egress",
        "total",
        "mem",
        "disk",
        "inflt",
        "def",
        "req",
        "t-o",
        "msgs",
        "clients"
    )
}

/// One data row from the previous and current totals.
pub fn row(prev: &ChannelTotals, cur: &ChannelTotals, interval: Duration) -> String {
    let secs = interval.as_secs_f64();
    let ingress = ((cur.message_count - prev.message_count) as f64 / secs) as i64;
    let egress =
        ((cur.message_count - prev.message_count - (cur.depth - prev.depth)) as f64 / secs) as i64;
    format!(
        "{:>7} {:>7} | {:>7} {:>7} {:>7} {:>5} {:>5} | {:>7} {:>7} {:>12} {:>7}\n",
        ingress,
        egress,
        cur.depth,
        cur.depth - cur.backend_depth,
        cur.backend_depth,
        cur.in_flight,
        cur.deferred,
        cur.requeue,
        cur.timeout,
        cur.message_count,
        cur.clients
    )
}

/// Finds the channel in one nsqd's `/stats` JSON.
fn channel_in<'a>(stats: &'a Value, topic: &str, channel: &str) -> Option<&'a Value> {
    stats
        .get("topics")?
        .as_array()?
        .iter()
        .find(|t| t.get("topic_name").and_then(Value::as_str) == Some(topic))?
        .get("channels")?
        .as_array()?
        .iter()
        .find(|c| c.get("channel_name").and_then(Value::as_str) == Some(channel))
}

struct Query {
    http: HttpClient,
    sources: Sources,
    topic: String,
    channel: String,
}

impl Query {
    async fn nsqd_addrs(&self) -> Result<Vec<String>, UtilError> {
        match &self.sources {
            Sources::Nsqd(list) => Ok(list.clone()),
            Sources::Lookupd(lookupds) => {
                let mut out = Vec::new();
                for l in lookupds {
                    let producers = nsq_client::lookup::lookup(&self.http, l, &self.topic)
                        .await
                        .map_err(|e| {
                            UtilError::Unreachable(format!("failed to get topic producers - {e}"))
                        })?;
                    out.extend(producers.iter().map(|p| p.http_address()));
                }
                out.sort();
                out.dedup();
                Ok(out)
            }
        }
    }

    async fn totals(&self) -> Result<ChannelTotals, UtilError> {
        let mut totals = ChannelTotals::default();
        let mut found = false;
        for addr in self.nsqd_addrs().await? {
            let url = format!(
                "{}/stats?format=json&topic={}&channel={}",
                base_url(&addr),
                nsq_client::lookup::query_escape(&self.topic),
                nsq_client::lookup::query_escape(&self.channel)
            );
            let r = self.http.get(&url).await.map_err(|e| {
                UtilError::Unreachable(format!("failed to get nsqd stats - {url}: {e}"))
            })?;
            if r.status != 200 {
                return Err(UtilError::Unreachable(format!(
                    "failed to get nsqd stats - {url} answered {}",
                    r.status
                )));
            }
            let stats: Value = serde_json::from_slice(&r.body)
                .map_err(|e| UtilError::Runtime(format!("bad stats JSON from {url}: {e}")))?;
            // Older servers wrap the document in {"data": ...}.
            let stats = stats.get("data").cloned().unwrap_or(stats);
            if let Some(ch) = channel_in(&stats, &self.topic, &self.channel) {
                totals.add(ch);
                found = true;
            }
        }
        if !found {
            return Err(UtilError::Runtime(format!(
                "failed to find channel({}) in stats metadata for topic({})",
                self.channel, self.topic
            )));
        }
        Ok(totals)
    }
}

async fn run(p: nsq_flags::Parsed) -> Outcome {
    let topic = p.string("topic").to_string();
    let channel = p.string("channel").to_string();
    if topic.is_empty() || channel.is_empty() {
        return Err(UtilError::usage("--topic and --channel are required"));
    }
    let interval = p.duration("interval");
    if interval.is_zero() {
        return Err(UtilError::usage("--interval should be positive"));
    }
    let count = if p.is_set("count") {
        let c = p.int("count");
        if c <= 0 {
            return Err(UtilError::usage("--count should be positive"));
        }
        Some(c)
    } else {
        None
    };
    let sources = common::sources(&p, "nsqd-http-address")?;
    let (Sources::Nsqd(list) | Sources::Lookupd(list)) = &sources;
    if let Some(bad) = list.iter().find(|a| a.starts_with("http")) {
        return Err(UtilError::Usage(format!(
            "address {bad:?} should not have an http:// prefix"
        )));
    }
    let query = Query {
        http: HttpClient::new(
            p.duration("http-client-connect-timeout"),
            p.duration("http-client-request-timeout"),
        ),
        sources,
        topic,
        channel,
    };
    let mut signal = std::pin::pin!(nsq_app::shutdown_signal());
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut prev: Option<ChannelTotals> = None;
    let mut round: i64 = 0;
    let mut stdout = std::io::stdout();
    while count.is_none_or(|c| round <= c) {
        tokio::select! {
            _ = &mut signal => return Ok(()),
            _ = ticker.tick() => {}
        }
        let cur = query.totals().await?;
        let mut text = String::new();
        if round % 25 == 0 {
            text.push_str(&header());
        }
        if let Some(prev) = &prev {
            text.push_str(&row(prev, &cur, interval));
        }
        stdout
            .write_all(text.as_bytes())
            .and_then(|_| stdout.flush())
            .map_err(|e| UtilError::Runtime(format!("cannot write to stdout: {e}")))?;
        prev = Some(cur);
        round += 1;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn header_matches_v1_3_0() {
        assert_eq!(
            header(),
            "------rate------+----------------depth----------------+--------------metadata---------------\n\
             ingress  egress |   total     mem    disk inflt   def |     req     t-o         msgs clients\n"
        );
    }

    #[test]
    fn rows_show_rates_and_totals() {
        let mut a = ChannelTotals::default();
        a.add(&json!({"depth": 10, "backend_depth": 4, "message_count": 100, "client_count": 1}));
        let mut b = a;
        b.add(&json!({"depth": 2, "backend_depth": 0, "message_count": 20, "in_flight_count": 3,
                      "deferred_count": 1, "requeue_count": 5, "timeout_count": 6, "clients": [{}, {}]}));
        assert_eq!((b.depth, b.backend_depth, b.clients), (12, 4, 3));
        let line = row(&a, &b, Duration::from_secs(2));
        assert_eq!(
            line,
            "     10       9 |      12       8       4     3     1 |       5       6          120       3\n"
        );
    }

    #[test]
    fn finds_the_channel() {
        let stats = json!({"topics": [{"topic_name": "t", "channels": [{"channel_name": "c", "depth": 1}]}]});
        assert!(channel_in(&stats, "t", "c").is_some());
        assert!(channel_in(&stats, "t", "x").is_none());
        assert!(channel_in(&json!({"topics": null}), "t", "c").is_none());
    }
}
