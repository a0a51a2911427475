//! `to_nsq`: publish stdin, split on a one-byte delimiter, to a topic on
//! every given nsqd (flags.md §10.3).
//!
//! Every non-empty chunk is published to each nsqd; `--rate` caps the
//! messages per second. Publishes are pipelined (a bounded window of
//! unacknowledged messages per nsqd) and every acknowledgement is checked
//! before exiting; a rejected or unacknowledged publish ends the tool with
//! status 1. SIGINT/SIGTERM stop reading; what was sent is still awaited.
//!
//! Deliberate fix: v1.3.0 drops the last byte of every chunk, including a
//! final chunk without a delimiter (its last real character was lost). Here
//! only an actual delimiter is removed.

use std::collections::VecDeque;
use std::time::Duration;

use bytes::Bytes;
use nsq_client::{PendingAck, Producer};
use tokio::io::AsyncBufReadExt;

use crate::common::{self, Outcome, UtilError};

const NAME: &str = "to_nsq";

/// Unacknowledged publishes allowed per nsqd before waiting.
const WINDOW: usize = 256;

/// Runs to_nsq with `args` (including `argv[0]`); returns the exit status.
pub fn main(args: Vec<String>) -> i32 {
    let parsed = match common::parse_command_line(nsq_flags::tables::to_nsq(), args, false) {
        Ok(p) => p,
        Err(code) => return code,
    };
    common::run_main(NAME, run(parsed))
}

/// Removes a trailing delimiter from a chunk read up to (and including) it.
/// A final chunk that ended at EOF without one is kept whole.
pub fn strip_delimiter(chunk: &[u8], delimiter: u8) -> &[u8] {
    match chunk.split_last() {
        Some((&last, rest)) if last == delimiter => rest,
        _ => chunk,
    }
}

struct Destination {
    producer: Producer,
    pending: VecDeque<PendingAck>,
}

impl Destination {
    async fn settle_one(&mut self) -> Outcome {
        if let Some(ack) = self.pending.pop_front() {
            ack.await.map_err(|e| {
                UtilError::Runtime(format!("publish to {} failed: {e}", self.producer.addr()))
            })?;
        }
        Ok(())
    }
}

async fn run(p: nsq_flags::Parsed) -> Outcome {
    common::init_logging("[to_nsq] ", "info")?;
    let topic = p.string("topic").to_string();
    if topic.is_empty() {
        return Err(UtilError::usage("--topic required"));
    }
    common::check_topic(&topic)?;
    let delimiter = match p.string("delimiter").as_bytes() {
        [b] => *b,
        _ => return Err(UtilError::usage("--delimiter must be a single byte")),
    };
    let addrs = p.string_list("nsqd-tcp-address").to_vec();
    if addrs.is_empty() {
        return Err(UtilError::usage("--nsqd-tcp-address required"));
    }
    let rate = p.int("rate");
    if rate < 0 {
        return Err(UtilError::usage("--rate must not be negative"));
    }
    let config = common::client_config(&p, NAME, "producer-opt", 1)?;

    let mut dests = Vec::new();
    for addr in &addrs {
        let producer = Producer::new(addr.clone(), config.clone());
        producer
            .connect()
            .await
            .map_err(|e| UtilError::Unreachable(e.to_string()))?;
        dests.push(Destination {
            producer,
            pending: VecDeque::new(),
        });
    }

    let mut throttle = (rate > 0).then(|| {
        let mut t = tokio::time::interval(
            Duration::from_secs_f64(1.0 / rate as f64).max(Duration::from_nanos(1)),
        );
        t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        t
    });
    let mut input = tokio::io::BufReader::new(tokio::io::stdin());
    let mut signal = std::pin::pin!(nsq_app::shutdown_signal());
    let mut chunk = Vec::new();
    let result: Outcome = async {
        loop {
            chunk.clear();
            let read = tokio::select! {
                _ = &mut signal => break,
                read = input.read_until(delimiter, &mut chunk) => read,
            };
            let n = read.map_err(|e| UtilError::Runtime(format!("cannot read stdin: {e}")))?;
            let body = strip_delimiter(&chunk, delimiter);
            if !body.is_empty() {
                if let Some(t) = throttle.as_mut() {
                    t.tick().await;
                }
                let body = Bytes::copy_from_slice(body);
                for d in dests.iter_mut() {
                    if d.pending.len() >= WINDOW {
                        d.settle_one().await?;
                    }
                    let ack = d
                        .producer
                        .publish_async(&topic, body.clone())
                        .await
                        .map_err(|e| {
                            UtilError::Runtime(format!(
                                "publish to {} failed: {e}",
                                d.producer.addr()
                            ))
                        })?;
                    d.pending.push_back(ack);
                }
            }
            if n == 0 {
                break;
            }
        }
        Ok(())
    }
    .await;
    // Every message sent must be acknowledged before we report success.
    let mut settled = Ok(());
    for d in dests.iter_mut() {
        while !d.pending.is_empty() {
            if let Err(e) = d.settle_one().await {
                settled = Err(e);
                d.pending.clear();
            }
        }
        d.producer.stop().await;
    }
    result.and(settled)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_real_delimiter_is_removed() {
        assert_eq!(strip_delimiter(b"abc\n", b'\n'), b"abc");
        assert_eq!(strip_delimiter(b"abc", b'\n'), b"abc");
        assert_eq!(strip_delimiter(b"\n", b'\n'), b"");
        assert_eq!(strip_delimiter(b"", b'\n'), b"");
        assert_eq!(strip_delimiter(b"a,b,", b','), b"a,b");
    }
}
