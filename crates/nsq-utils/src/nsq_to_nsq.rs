//! `nsq_to_nsq`: copy topics from one set of nsqd to another (flags.md §10.6).
//!
//! One consumer per `--topic`; each message is optionally filtered
//! (`--require-json-field` / `--require-json-value`) and trimmed
//! (`--whitelist-json-field`), then published asynchronously to one
//! destination chosen by `--mode`. The source message is finished when the
//! destination acknowledged it and requeued (default delay, with backoff)
//! when the publish failed. With a JSON option set, messages that are not
//! JSON objects (or miss the required field/value) are finished and dropped.
//! SIGINT/SIGTERM: stop consuming, wait for every publish in flight, exit 0.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use nsq_client::{Delivery, Producer};
use serde_json::{Map, Value};
use tokio::task::JoinSet;

use crate::common::{self, Outcome, UtilError};
use crate::hostpool::{HostPool, Mode};

const NAME: &str = "nsq_to_nsq";

/// Runs nsq_to_nsq with `args` (including `argv[0]`); returns the exit status.
pub fn main(args: Vec<String>) -> i32 {
    let parsed = match common::parse_command_line(nsq_flags::tables::nsq_to_nsq(), args, false) {
        Ok(p) => p,
        Err(code) => return code,
    };
    if common::print_version(&parsed, NAME) {
        return 0;
    }
    common::run_main(NAME, run(parsed))
}

/// The JSON options: which messages pass and what of them is forwarded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JsonFilter {
    /// `--require-json-field`.
    pub require_field: String,
    /// `--require-json-value`.
    pub require_value: String,
    /// `--whitelist-json-field` values.
    pub whitelist: Vec<String>,
}

impl JsonFilter {
    /// Whether any JSON option is set (then non-JSON messages are dropped).
    pub fn active(&self) -> bool {
        !self.require_field.is_empty() || !self.whitelist.is_empty()
    }

    /// The body to forward, or `None` to drop the message.
    pub fn apply(&self, body: &Bytes) -> Option<Bytes> {
        if !self.active() {
            return Some(body.clone());
        }
        let Ok(Value::Object(obj)) = serde_json::from_slice::<Value>(body) else {
            return None;
        };
        if !self.require_field.is_empty() {
            let value = obj.get(&self.require_field)?;
            if !self.require_value.is_empty() && value_text(value) != self.require_value {
                return None;
            }
        }
        if self.whitelist.is_empty() {
            return Some(body.clone());
        }
        let kept: Map<String, Value> = obj
            .into_iter()
            .filter(|(k, _)| self.whitelist.iter().any(|w| w == k))
            .collect();
        serde_json::to_vec(&Value::Object(kept))
            .ok()
            .map(Bytes::from)
    }
}

/// A JSON value as text for comparing with `--require-json-value`:
/// strings without quotes, numbers and booleans as written.
fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

struct Shared {
    producers: Vec<Producer>,
    pool: HostPool,
    filter: JsonFilter,
    destination_topic: String,
    status_every: u64,
    published: AtomicU64,
    started: Instant,
}

async fn forward(shared: Arc<Shared>, d: Delivery) {
    let Some(body) = shared.filter.apply(d.body()) else {
        d.finish();
        return;
    };
    let topic = if shared.destination_topic.is_empty() {
        d.topic().to_string()
    } else {
        shared.destination_topic.clone()
    };
    let mut ok = true;
    for i in shared.pool.pick() {
        let Some(p) = shared.producers.get(i) else {
            continue;
        };
        let start = Instant::now();
        let result = match p.publish_async(&topic, body.clone()).await {
            Ok(ack) => ack.await,
            Err(e) => Err(e),
        };
        shared.pool.mark(i, result.is_ok(), start.elapsed());
        if let Err(e) = result {
            tracing::error!("publishing to {} failed: {e}", p.addr());
            ok = false;
        }
    }
    if ok {
        d.finish();
        let n = shared.published.fetch_add(1, Ordering::SeqCst) + 1;
        if n.checked_rem(shared.status_every) == Some(0) {
            let secs = shared.started.elapsed().as_secs_f64().max(0.001);
            tracing::info!("{n} messages published ({:.1}/s)", n as f64 / secs);
        }
    } else {
        d.requeue(None);
    }
}

async fn run(p: nsq_flags::Parsed) -> Outcome {
    common::init_logging("[nsq_to_nsq] ", "info")?;
    let topics = common::required_topics(&p)?;
    let channel = p.string("channel").to_string();
    if channel.is_empty() {
        return Err(UtilError::usage("--channel is required"));
    }
    common::check_channel(&channel)?;
    let destination_topic = p.string("destination-topic").to_string();
    if !destination_topic.is_empty() {
        common::check_topic(&destination_topic)?;
    }
    let sources = common::sources(&p, "nsqd-tcp-address")?;
    let destinations = p.string_list("destination-nsqd-tcp-address").to_vec();
    if destinations.is_empty() {
        return Err(UtilError::usage("--destination-nsqd-tcp-address required"));
    }
    let mode = Mode::parse(p.string("mode")).ok_or_else(|| {
        UtilError::Usage(format!(
            "invalid --mode {:?} (round-robin, hostpool, epsilon-greedy)",
            p.string("mode")
        ))
    })?;
    let filter = JsonFilter {
        require_field: p.string("require-json-field").to_string(),
        require_value: p.string("require-json-value").to_string(),
        whitelist: p.string_list("whitelist-json-field").to_vec(),
    };
    if !filter.require_value.is_empty() && filter.require_field.is_empty() {
        return Err(UtilError::usage(
            "--require-json-value requires --require-json-field",
        ));
    }
    let max_in_flight = p.int("max-in-flight");
    let consumer_config = common::client_config(&p, NAME, "consumer-opt", max_in_flight)?;
    let producer_config = common::client_config(&p, NAME, "producer-opt", 1)?;
    let status_every = u64::try_from(p.int("status-every")).unwrap_or(0);

    let mut producers = Vec::new();
    for addr in &destinations {
        let producer = Producer::new(addr.clone(), producer_config.clone());
        producer
            .connect()
            .await
            .map_err(|e| UtilError::Unreachable(format!("destination {e}")))?;
        producers.push(producer);
    }
    let shared = Arc::new(Shared {
        pool: HostPool::new(mode, producers.len()),
        producers,
        filter,
        destination_topic,
        status_every,
        published: AtomicU64::new(0),
        started: Instant::now(),
    });

    let consumers = common::start_consumers(&topics, &channel, &consumer_config, &sources).await?;
    let mut rx = common::merge_deliveries(&consumers);

    let mut tasks = JoinSet::new();
    let mut signal = std::pin::pin!(nsq_app::shutdown_signal());
    let mut stopping = false;
    loop {
        tokio::select! {
            _ = &mut signal, if !stopping => {
                stopping = true;
                consumers.iter().for_each(|c| c.stop());
            }
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            next = rx.recv() => match next {
                Some(d) => {
                    tasks.spawn(forward(shared.clone(), d));
                }
                None => break,
            },
        }
    }
    while tasks.join_next().await.is_some() {}
    for p in &shared.producers {
        p.stop().await;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(field: &str, value: &str, whitelist: &[&str]) -> JsonFilter {
        JsonFilter {
            require_field: field.into(),
            require_value: value.into(),
            whitelist: whitelist.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn no_options_pass_everything() {
        let b = Bytes::from_static(b"not json");
        assert_eq!(JsonFilter::default().apply(&b), Some(b));
    }

    #[test]
    fn required_field_and_value() {
        let filter = f("kind", "a", &[]);
        assert!(filter
            .apply(&Bytes::from_static(br#"{"kind":"a","x":1}"#))
            .is_some());
        assert!(filter
            .apply(&Bytes::from_static(br#"{"kind":"b"}"#))
            .is_none());
        assert!(filter.apply(&Bytes::from_static(br#"{"x":1}"#)).is_none());
        assert!(filter.apply(&Bytes::from_static(b"plain")).is_none());
        let num = f("n", "5", &[]);
        assert!(num.apply(&Bytes::from_static(br#"{"n":5}"#)).is_some());
        let any = f("n", "", &[]);
        assert!(any.apply(&Bytes::from_static(br#"{"n":null}"#)).is_some());
    }

    #[test]
    fn whitelist_keeps_only_listed_fields() {
        let filter = f("", "", &["a", "c"]);
        let out = filter
            .apply(&Bytes::from_static(br#"{"a":1,"b":2,"c":{"d":3}}"#))
            .unwrap();
        assert_eq!(&out[..], br#"{"a":1,"c":{"d":3}}"#);
        assert!(filter.apply(&Bytes::from_static(b"[1,2]")).is_none());
    }
}
