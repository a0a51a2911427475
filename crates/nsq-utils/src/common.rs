//! What every utility shares: command-line handling (version, usage name,
//! exit codes), the error type that becomes the exit status, client
//! configuration from `--consumer-opt` / `--producer-opt`, and connecting a
//! consumer to `--nsqd-tcp-address` or `--lookupd-http-address`.

use std::future::Future;
use std::sync::Arc;

use nsq_client::{Config, Consumer, Delivery};
use nsq_flags::{FlagSet, Parsed};
use tokio::sync::mpsc;

/// The NSQ release these utilities reproduce.
pub const VERSION: &str = "1.3.0";

/// Why a utility stops with a non-zero exit status.
#[derive(Debug, thiserror::Error)]
pub enum UtilError {
    /// A bad flag value or combination (exit 1, like Go's `log.Fatal`).
    #[error("{0}")]
    Usage(String),
    /// A daemon could not be reached or refused us.
    #[error("{0}")]
    Unreachable(String),
    /// Anything that went wrong while running.
    #[error("{0}")]
    Runtime(String),
}

impl UtilError {
    /// A usage error from anything printable.
    pub fn usage(msg: impl std::fmt::Display) -> UtilError {
        UtilError::Usage(msg.to_string())
    }
}

/// The result of a utility's body.
pub type Outcome = Result<(), UtilError>;

/// Parses the command line with Go `flag` rules. `Err` carries the exit
/// code after the usage or error text has been printed (0 for `--help`).
/// The usage header names `argv[0]`, as Go does, unless the table sets a
/// fixed name (nsq_to_file's set is called `nsqd`).
pub fn parse_command_line(
    mut set: FlagSet,
    args: Vec<String>,
    fixed_name: bool,
) -> Result<Parsed, i32> {
    let mut args = args.into_iter();
    let argv0 = args.next().unwrap_or_else(|| set.program.to_string());
    if !fixed_name {
        set.program = Box::leak(argv0.into_boxed_str());
    }
    nsq_flags::parse_args(&set, args).map_err(|exit| {
        eprint!("{}", exit.stderr);
        exit.code
    })
}

/// Runs `body` on a fresh multi-threaded runtime and turns its outcome into
/// an exit status, printing a FATAL line for errors.
pub fn run_main<F>(program: &str, body: F) -> i32
where
    F: Future<Output = Outcome>,
{
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprint!(
                "{}",
                nsq_flags::fatal_line(program, &format!("cannot start: {e}"))
            );
            return 1;
        }
    };
    match runtime.block_on(body) {
        Ok(()) => 0,
        Err(e) => {
            eprint!("{}", nsq_flags::fatal_line(program, &e.to_string()));
            1
        }
    }
}

/// Installs NSQ-format logging on stderr with `[<program>] ` as prefix.
pub fn init_logging(prefix: &str, level: &str) -> Outcome {
    let level: nsq_app::LogLevel = level.parse().map_err(UtilError::usage)?;
    nsq_app::init_logging(prefix, level);
    Ok(())
}

/// The user agent the utilities announce in IDENTIFY.
pub fn user_agent(program: &str) -> String {
    format!("{program}/{VERSION} go-nsq/1.1.0")
}

/// A client config with the utility's user agent and every `--<flag>`
/// pass-through option applied in order; `max_in_flight` (the utility's
/// own flag) is applied last, as in v1.3.0.
pub fn client_config(
    p: &Parsed,
    program: &str,
    flag: &str,
    max_in_flight: i64,
) -> Result<Config, UtilError> {
    let mut config = Config {
        user_agent: user_agent(program),
        ..Config::default()
    };
    for opt in p.string_list(flag) {
        config
            .set_pair(opt)
            .map_err(|e| UtilError::Usage(format!("failed to process --{flag}={opt}: {e}")))?;
    }
    config.max_in_flight = u32::try_from(max_in_flight.max(0)).unwrap_or(u32::MAX);
    Ok(config)
}

/// Where a consumer finds nsqd: addresses given directly or through nsqlookupd.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sources {
    /// `--nsqd-tcp-address` values.
    Nsqd(Vec<String>),
    /// `--lookupd-http-address` values.
    Lookupd(Vec<String>),
}

/// Exactly one of `--<nsqd_flag>` and `--lookupd-http-address` must be given.
pub fn sources(p: &Parsed, nsqd_flag: &str) -> Result<Sources, UtilError> {
    let nsqd = p.string_list(nsqd_flag).to_vec();
    let lookupd = p.string_list("lookupd-http-address").to_vec();
    match (nsqd.is_empty(), lookupd.is_empty()) {
        (true, true) => Err(UtilError::Usage(format!(
            "--{nsqd_flag} or --lookupd-http-address required"
        ))),
        (false, false) => Err(UtilError::Usage(format!(
            "use --{nsqd_flag} or --lookupd-http-address not both"
        ))),
        (false, true) => Ok(Sources::Nsqd(nsqd)),
        (true, false) => Ok(Sources::Lookupd(lookupd)),
    }
}

/// Connects `consumer` to its sources; an unreachable daemon is an error.
pub async fn connect(consumer: &Consumer, sources: &Sources) -> Outcome {
    let result = match sources {
        Sources::Nsqd(addrs) => consumer.connect_to_nsqds(addrs).await,
        Sources::Lookupd(addrs) => consumer.connect_to_lookupds(addrs).await,
    };
    result.map_err(|e| {
        UtilError::Unreachable(format!("[{}/{}] {e}", consumer.topic(), consumer.channel()))
    })
}

/// A consumer of `topic` on `channel`; a name `Consumer::new` rejects is a
/// usage error.
pub fn new_consumer(topic: &str, channel: &str, config: Config) -> Result<Consumer, UtilError> {
    Consumer::new(topic, channel, config).map_err(|e| UtilError::usage(e.to_string()))
}

/// The `--topic` values (a list flag): at least one, each a valid name.
pub fn required_topics(p: &Parsed) -> Result<Vec<String>, UtilError> {
    let topics = p.string_list("topic").to_vec();
    if topics.is_empty() {
        return Err(UtilError::usage("--topic is required"));
    }
    for t in &topics {
        check_topic(t)?;
    }
    Ok(topics)
}

/// One consumer per topic, all on `channel` with `config`, each connected
/// to `sources` (the first unreachable daemon is the error).
pub async fn start_consumers(
    topics: &[String],
    channel: &str,
    config: &Config,
    sources: &Sources,
) -> Result<Vec<Arc<Consumer>>, UtilError> {
    let mut consumers = Vec::new();
    for topic in topics {
        consumers.push(Arc::new(new_consumer(topic, channel, config.clone())?));
    }
    for c in &consumers {
        connect(c, sources).await?;
    }
    Ok(consumers)
}

/// Merges the deliveries of every consumer into one stream; it ends when
/// all consumers have stopped and drained.
pub fn merge_deliveries(consumers: &[Arc<Consumer>]) -> mpsc::Receiver<Delivery> {
    let (tx, rx) = mpsc::channel::<Delivery>(1024);
    for c in consumers {
        let (c, tx) = (c.clone(), tx.clone());
        tokio::spawn(async move {
            while let Some(d) = c.recv().await {
                if tx.send(d).await.is_err() {
                    break;
                }
            }
        });
    }
    rx
}

/// Prints `<name> v1.3.0` when `--version` was given; true if printed.
pub fn print_version(p: &Parsed, name: &str) -> bool {
    if p.value("version").is_some() && p.bool("version") {
        println!("{name} v{VERSION}");
        return true;
    }
    false
}

/// Validates a topic name for a clear startup error.
pub fn check_topic(topic: &str) -> Outcome {
    if nsq_protocol::is_valid_topic_name(topic) {
        Ok(())
    } else {
        Err(UtilError::Usage(format!("--topic {topic:?} is invalid")))
    }
}

/// Validates a channel name for a clear startup error.
pub fn check_channel(channel: &str) -> Outcome {
    if nsq_protocol::is_valid_channel_name(channel) {
        Ok(())
    } else {
        Err(UtilError::Usage(format!(
            "--channel {channel:?} is invalid"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(set: FlagSet, args: &[&str]) -> Parsed {
        let mut all = vec!["prog".to_string()];
        all.extend(args.iter().map(|s| s.to_string()));
        parse_command_line(set, all, false).unwrap()
    }

    #[test]
    fn exactly_one_source_kind() {
        let set = nsq_flags::tables::nsq_tail;
        let p = parse(set(), &["--topic=t"]);
        assert!(sources(&p, "nsqd-tcp-address").is_err());
        let p = parse(
            set(),
            &["--nsqd-tcp-address=a:1", "--lookupd-http-address=b:2"],
        );
        let err = sources(&p, "nsqd-tcp-address").unwrap_err().to_string();
        assert!(err.contains("not both"), "{err}");
        let p = parse(
            set(),
            &["--lookupd-http-address=b:2", "--lookupd-http-address=c:3"],
        );
        assert_eq!(
            sources(&p, "nsqd-tcp-address").unwrap(),
            Sources::Lookupd(vec!["b:2".into(), "c:3".into()])
        );
    }

    #[test]
    fn consumer_opts_apply_in_order() {
        let p = parse(
            nsq_flags::tables::nsq_tail(),
            &["--consumer-opt=max_attempts,7", "--consumer-opt=snappy"],
        );
        let c = client_config(&p, "nsq_tail", "consumer-opt", 200).unwrap();
        assert_eq!(c.max_attempts, 7);
        assert_eq!(c.max_in_flight, 200);
        assert!(c.snappy);
        assert_eq!(c.user_agent, "nsq_tail/1.3.0 go-nsq/1.1.0");
        let p = parse(nsq_flags::tables::nsq_tail(), &["--consumer-opt=bogus,1"]);
        let err = client_config(&p, "nsq_tail", "consumer-opt", 1)
            .unwrap_err()
            .to_string();
        assert!(err.contains("bogus"), "{err}");
    }

    #[test]
    fn tls_producer_opts_reach_the_config() {
        let p = parse(
            nsq_flags::tables::to_nsq(),
            &[
                "--producer-opt=tls_v1",
                "--producer-opt=tls_insecure_skip_verify,true",
                "--producer-opt=tls_min_version,tls1.2",
                "--producer-opt=deflate",
                "--producer-opt=deflate_level,3",
            ],
        );
        let c = client_config(&p, "to_nsq", "producer-opt", 1).unwrap();
        assert!(c.tls.enabled && c.tls.insecure_skip_verify);
        assert_eq!(c.tls.min_version, "tls1.2");
        assert!(c.deflate);
        assert_eq!(c.deflate_level, 3);
        let p = parse(
            nsq_flags::tables::to_nsq(),
            &["--producer-opt=tls_root_ca_file,/nonexistent/ca.pem"],
        );
        let err = client_config(&p, "to_nsq", "producer-opt", 1)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("--producer-opt") && err.contains("/nonexistent/ca.pem"),
            "{err}"
        );
    }
}
