//! `nsq_to_file`: write topics to rotating local files (flags.md §10.4,
//! formats.md §7).
//!
//! Submodules: [`filename`] (name tokens, strftime), [`output`] (one file:
//! open with a free revision, gzip members, sync, move), [`logger`] (the
//! per-topic write / sync / FIN / rotate loop). This module validates the
//! options, discovers topics (`--topic`, or nsqlookupd `/topics` filtered by
//! `--topic-pattern` every `--topic-refresh`) and handles signals: SIGHUP
//! rotates every file, SIGINT/SIGTERM stop the consumers, sync, finish and
//! close everything, then exit 0.

pub mod filename;
pub mod logger;
pub mod output;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use nsq_client::{Config, Consumer, HttpClient};
use nsq_flags::Parsed;
use regex::Regex;
use time::UtcOffset;
use tokio::sync::{broadcast, watch};
use tokio::task::JoinSet;

use crate::common::{self, Outcome, Sources, UtilError};
use filename::NameTemplate;
use logger::Rotation;
use output::FileSettings;

const NAME: &str = "nsq_to_file";

/// Everything nsq_to_file needs after validation.
pub struct Options {
    channel: String,
    sources: Sources,
    topics: Vec<String>,
    pattern: Option<Regex>,
    topic_refresh: Duration,
    filename_format: String,
    datetime_format: String,
    host: String,
    offset: UtcOffset,
    settings: Arc<FileSettings>,
    rotation: Rotation,
    consumer: Config,
    http: HttpClient,
}

/// Runs nsq_to_file with `args` (including `argv[0]`); returns the exit status.
pub fn main(args: Vec<String>) -> i32 {
    // v1.3.0's flag set is named "nsqd": `Usage of nsqd:`.
    let parsed = match common::parse_command_line(nsq_flags::tables::nsq_to_file(), args, true) {
        Ok(p) => p,
        Err(code) => return code,
    };
    if common::print_version(&parsed, NAME) {
        return 0;
    }
    // The local offset can only be read safely while single-threaded.
    let offset = UtcOffset::current_local_offset().unwrap_or(UtcOffset::UTC);
    common::run_main(NAME, async move {
        let options = options(&parsed, offset)?;
        run(options).await
    })
}

/// Validates the flags the way v1.3.0 does.
pub fn options(p: &Parsed, offset: UtcOffset) -> Result<Options, UtilError> {
    if !p.args().is_empty() {
        return Err(UtilError::Usage(format!(
            "unknown arguments: [{}]",
            p.args().join(" ")
        )));
    }
    common::init_logging(p.string("log-prefix"), p.string("log-level"))?;
    let channel = p.string("channel").to_string();
    if channel.is_empty() {
        return Err(UtilError::usage("--channel is required"));
    }
    common::check_channel(&channel)?;
    let sources = common::sources(p, "nsqd-tcp-address")?;
    let gzip_level = p.int("gzip-level");
    if !(1..=9).contains(&gzip_level) {
        return Err(UtilError::usage("invalid --gzip-level (1-9)"));
    }
    let topics = p.string_list("topic").to_vec();
    let pattern_text = p.string("topic-pattern");
    if topics.is_empty() && pattern_text.is_empty() {
        return Err(UtilError::usage("--topic or --topic-pattern required"));
    }
    if topics.is_empty() && !matches!(sources, Sources::Lookupd(_)) {
        return Err(UtilError::usage(
            "--lookupd-http-address must be specified when no --topic specified",
        ));
    }
    for t in &topics {
        common::check_topic(t)?;
    }
    let pattern = if pattern_text.is_empty() {
        None
    } else {
        Some(
            Regex::new(pattern_text)
                .map_err(|e| UtilError::Usage(format!("invalid --topic-pattern: {e}")))?,
        )
    };
    let output_dir = PathBuf::from(p.string("output-dir"));
    let work_dir = match p.string("work-dir") {
        "" => output_dir.clone(),
        w => PathBuf::from(w),
    };
    let rotate_size = p.int("rotate-size");
    if rotate_size < 0 {
        return Err(UtilError::usage("--rotate-size must not be negative"));
    }
    let gzip = p.bool("gzip");
    let rotate_interval = p.duration("rotate-interval");
    let mut filename_format = p.string("filename-format").to_string();
    let needs_rev = gzip || rotate_size > 0 || !rotate_interval.is_zero() || work_dir != output_dir;
    if needs_rev && !filename_format.contains("<REV>") {
        return Err(UtilError::usage(
            "missing <REV> in --filename-format when gzip, rotation, or work dir enabled",
        ));
    }
    if gzip && !filename_format.ends_with(".gz") {
        filename_format.push_str(".gz");
    }
    let max_in_flight = p.int("max-in-flight");
    let hostname = gethostname::gethostname().to_string_lossy().into_owned();
    Ok(Options {
        channel,
        sources,
        topics,
        pattern,
        topic_refresh: p.duration("topic-refresh").max(Duration::from_millis(10)),
        host: filename::host_identifier(p.string("host-identifier"), &hostname),
        filename_format,
        datetime_format: p.string("datetime-format").to_string(),
        offset,
        settings: Arc::new(FileSettings {
            work_dir,
            output_dir,
            gzip_level: gzip.then_some(gzip_level as u32),
            exclusive: gzip || !rotate_interval.is_zero(),
            skip_empty: p.bool("skip-empty-files"),
        }),
        rotation: Rotation {
            rotate_size: rotate_size as u64,
            rotate_interval,
            sync_interval: p.duration("sync-interval"),
            max_pending: usize::try_from(max_in_flight.max(1)).unwrap_or(usize::MAX),
        },
        consumer: common::client_config(p, NAME, "consumer-opt", max_in_flight)?,
        http: HttpClient::new(
            p.duration("http-client-connect-timeout"),
            p.duration("http-client-request-timeout"),
        ),
    })
}

/// The topics to log now: `--topic`, or every topic the nsqlookupds know,
/// filtered by `--topic-pattern`.
async fn current_topics(o: &Options) -> Result<Vec<String>, UtilError> {
    let mut found = o.topics.clone();
    if found.is_empty() {
        if let Sources::Lookupd(lookupds) = &o.sources {
            for l in lookupds {
                match nsq_client::lookup::topics(&o.http, l).await {
                    Ok(list) => found.extend(list),
                    Err(e) => tracing::warn!("{e}"),
                }
            }
        }
    }
    found.sort();
    found.dedup();
    Ok(found
        .into_iter()
        .filter(|t| o.pattern.as_ref().is_none_or(|re| re.is_match(t)))
        .collect())
}

async fn run(o: Options) -> Outcome {
    let (hup_tx, _) = broadcast::channel::<()>(4);
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut loggers: JoinSet<Outcome> = JoinSet::new();
    let mut running: BTreeMap<String, Arc<Consumer>> = BTreeMap::new();
    let mut refresh = tokio::time::interval(o.topic_refresh);
    refresh.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let discovering = o.topics.is_empty();
    let mut shutdown = std::pin::pin!(nsq_app::shutdown_signal());
    let mut hup = hangup_signal();
    let mut first_error: Option<UtilError> = None;
    let mut stopping = false;
    loop {
        tokio::select! {
            _ = &mut shutdown, if !stopping => {
                stopping = true;
                let _ = stop_tx.send(true);
            }
            _ = hup.recv() => {
                tracing::info!("SIGHUP: rotating files");
                let _ = hup_tx.send(());
            }
            _ = refresh.tick(), if !stopping && (discovering || running.is_empty()) => {
                for topic in current_topics(&o).await? {
                    if running.contains_key(&topic) {
                        continue;
                    }
                    let consumer =
                        Arc::new(common::new_consumer(&topic, &o.channel, o.consumer.clone())?);
                    if let Err(e) = common::connect(&consumer, &o.sources).await {
                        // At start-up an unreachable daemon is fatal; later
                        // discoveries are retried on the next refresh.
                        if running.is_empty() && !discovering {
                            let _ = stop_tx.send(true);
                            return Err(e);
                        }
                        tracing::error!("{e}");
                        continue;
                    }
                    let template = NameTemplate::new(
                        &o.filename_format,
                        &topic,
                        &o.host,
                        &o.datetime_format,
                        o.offset,
                        o.settings.exclusive || o.rotation.rotate_size > 0 || o.settings.work_dir != o.settings.output_dir,
                    );
                    tracing::info!("starting logger for topic {topic}");
                    loggers.spawn(logger::run(
                        consumer.clone(),
                        template,
                        o.settings.clone(),
                        o.rotation.clone(),
                        hup_tx.subscribe(),
                        stop_rx.clone(),
                    ));
                    running.insert(topic, consumer);
                }
            }
            done = loggers.join_next(), if !loggers.is_empty() => {
                match done {
                    Some(Ok(Err(e))) => {
                        tracing::error!("{e}");
                        first_error.get_or_insert(e);
                        let _ = stop_tx.send(true);
                        stopping = true;
                    }
                    Some(Err(e)) => {
                        first_error.get_or_insert(UtilError::Runtime(format!("topic logger failed: {e}")));
                        let _ = stop_tx.send(true);
                        stopping = true;
                    }
                    _ => {}
                }
                if stopping && loggers.is_empty() {
                    break;
                }
            }
            _ = std::future::ready(()), if stopping && loggers.is_empty() => break,
        }
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// SIGHUP as a stream of events (never fires where signals are unavailable).
fn hangup_signal() -> HangUp {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        HangUp(signal(SignalKind::hangup()).ok())
    }
    #[cfg(not(unix))]
    {
        HangUp(())
    }
}

#[cfg(unix)]
struct HangUp(Option<tokio::signal::unix::Signal>);

#[cfg(unix)]
impl HangUp {
    async fn recv(&mut self) {
        match self.0.as_mut() {
            Some(s) => {
                s.recv().await;
            }
            None => std::future::pending().await,
        }
    }
}

#[cfg(not(unix))]
struct HangUp(());

#[cfg(not(unix))]
impl HangUp {
    async fn recv(&mut self) {
        std::future::pending().await
    }
}
