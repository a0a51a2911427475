//! `nsq_tail`: print the messages of one or more topics to stdout
//! (flags.md §10.2).
//!
//! One consumer per topic on the same channel (by default an ephemeral
//! `tail<6 digits>#ephemeral`). Each message is printed (body + `\n`,
//! optionally prefixed with `<topic> | `) and finished. With `-n N` the
//! tool stops after N messages; messages received beyond that are handed
//! back to nsqd instead of being lost. SIGINT/SIGTERM stop the consumers
//! gracefully: messages already received are still printed and finished.

use std::io::Write;
use std::sync::Arc;

use nsq_client::Consumer;

use crate::common::{self, Outcome, UtilError};

const NAME: &str = "nsq_tail";

/// Runs nsq_tail with `args` (including `argv[0]`); returns the exit status.
pub fn main(args: Vec<String>) -> i32 {
    let parsed = match common::parse_command_line(nsq_flags::tables::nsq_tail(), args, false) {
        Ok(p) => p,
        Err(code) => return code,
    };
    if common::print_version(&parsed, NAME) {
        return 0;
    }
    common::run_main(NAME, run(parsed))
}

/// The channel name: given, or a random ephemeral `tail<digits>#ephemeral`.
pub fn channel_name(given: &str) -> String {
    if given.is_empty() {
        format!("tail{:06}#ephemeral", rand::random::<u32>() % 1_000_000)
    } else {
        given.to_string()
    }
}

/// One output line.
pub fn format_line(topic: &str, body: &[u8], print_topic: bool) -> Vec<u8> {
    let mut line = Vec::with_capacity(body.len() + topic.len() + 4);
    if print_topic {
        line.extend_from_slice(topic.as_bytes());
        line.extend_from_slice(b" | ");
    }
    line.extend_from_slice(body);
    line.push(b'\n');
    line
}

async fn run(p: nsq_flags::Parsed) -> Outcome {
    common::init_logging("[nsq_tail] ", "info")?;
    let topics = common::required_topics(&p)?;
    let channel = channel_name(p.string("channel"));
    common::check_channel(&channel)?;
    let sources = common::sources(&p, "nsqd-tcp-address")?;
    let total = p.int("n");
    if total < 0 {
        return Err(UtilError::usage("-n must not be negative"));
    }
    let mut max_in_flight = p.int("max-in-flight");
    if total > 0 && total < max_in_flight {
        max_in_flight = total;
    }
    let config = common::client_config(&p, NAME, "consumer-opt", max_in_flight)?;
    let print_topic = p.bool("print-topic");

    let consumers = common::start_consumers(&topics, &channel, &config, &sources).await?;
    // All consumers feed one stream of (topic, delivery).
    let mut rx = common::merge_deliveries(&consumers);

    let stop_all = |consumers: &[Arc<Consumer>]| consumers.iter().for_each(|c| c.stop());
    let mut shown: i64 = 0;
    let mut signal = std::pin::pin!(nsq_app::shutdown_signal());
    let mut stdout = std::io::stdout();
    let mut result = Ok(());
    loop {
        tokio::select! {
            _ = &mut signal, if !consumers[0].is_stopping() => stop_all(&consumers),
            next = rx.recv() => {
                let Some(d) = next else { break };
                if total > 0 && shown >= total {
                    // Past -n: hand it back for other consumers.
                    drop(d);
                    continue;
                }
                let line = format_line(d.topic(), d.body(), print_topic);
                if let Err(e) = stdout.write_all(&line).and_then(|_| stdout.flush()) {
                    drop(d);
                    if result.is_ok() {
                        result = Err(UtilError::Runtime(format!("cannot write to stdout: {e}")));
                    }
                    stop_all(&consumers);
                    continue;
                }
                d.finish();
                shown += 1;
                if total > 0 && shown >= total {
                    stop_all(&consumers);
                }
            }
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_channel_is_ephemeral_and_valid() {
        let c = channel_name("");
        assert!(c.starts_with("tail") && c.ends_with("#ephemeral"), "{c}");
        assert_eq!(c.len(), "tail".len() + 6 + "#ephemeral".len());
        assert!(nsq_protocol::is_valid_channel_name(&c));
        assert_eq!(channel_name("mine"), "mine");
    }

    #[test]
    fn lines_with_and_without_topic() {
        assert_eq!(format_line("t", b"hello", false), b"hello\n");
        assert_eq!(format_line("t", b"hello", true), b"t | hello\n");
    }
}
