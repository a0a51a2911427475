//! Command lines of `nsq_bench`, `bench_writer` and `bench_reader`.

use crate::args::{parse_deadline, Flags};
use crate::conn::{self, Result};
use crate::latency::{self, LatencyConfig};
use crate::null_server::{self, NullConfig};
use crate::reader::{self, ReaderConfig};
use crate::writer::{self, PubCommand, WriterConfig};
use std::process::ExitCode;
use std::time::Duration;

const USAGE: &str = "\
usage: nsq_bench <mode> [flags]

modes:
  writer       NSQ bench_writer: connections send MPUB batches, wait for OK, repeat
  reader       NSQ bench_reader: connections SUB, RDY, FIN every message
  latency      paced PUBs with the send time in the body, unbuffered consumer,
               prints p50/p90/p99/p99.9/max end-to-end latency
  null-server  a V2 server that only answers (OK, pre-built messages): run a
               client against it to measure the client's own ceiling

common flags (Go flag syntax: -name value, --name=value):
  --nsqd-tcp-address  <addr>:<port> to connect to (default 127.0.0.1:4150)
  --runfor            duration of time to run (default 10s)
  --size              size of messages (default 200)
  --topic             topic (default sub_bench)
  --threads           runtime worker threads (default: number of CPUs)
  --deadline          \"2006-01-02 15:04:05\" (UTC) to start the run, after connecting
  --start-at          Unix time in seconds (fractional) to start the run

writer:
  --batch-size        messages per batch (default 200)
  --connections       connections (default: number of CPUs)
  --topics            publish round-robin over N topics <topic>_<i> (default 1)
  --command           mpub (default) or pub (batch-size pipelined PUBs)
  --ack-latency       also print batch acknowledgement latency percentiles

reader:
  --channel           channel (default ch)
  --rdy               RDY count to use (default 2500)
  --connections       connections (default: number of CPUs; at least one per topic/channel)
  --topics            subscribe to N topics <topic>_<i> (default 1)
  --channels          subscribe to M channels <channel>_<j> per topic (default 1)
  --expect            stop once this many messages arrived in total (default 0: run for --runfor)

latency:
  --channel           channel (default ch)
  --rate              messages per second (default 10000)
  --warmup            leave out messages sent in this first period (default: runfor/10, at most 1s)
  --rdy               consumer RDY count (default 1000)

null-server:
  --tcp-address       listen address (default 127.0.0.1:0)
  --relay             forward published messages to subscribers (for latency)
  --max-rdy-count     largest RDY accepted (default 2500)
  --max-lifetime      exit after this long (default 1h)

output (writer, reader): [bench_writer] duration: <d> - <X>mb/s - <Y>ops/s - <Z>us/op
";

/// Entry point shared by the binaries. `fixed_mode` is the mode of a
/// single-purpose binary (`bench_writer`); `None` reads it from argv.
pub fn main(fixed_mode: Option<&str>) -> ExitCode {
    let mut flags = match Flags::parse(std::env::args().skip(1)) {
        Ok(f) => f,
        Err(e) => return usage_error(&e),
    };
    if flags.has("help") || flags.has("h") {
        print!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let mode = match fixed_mode {
        Some(m) => m.to_string(),
        None => {
            if flags.positional.is_empty() {
                return usage_error("missing mode");
            }
            flags.positional.remove(0)
        }
    };
    if let Some(extra) = flags.positional.first() {
        return usage_error(&format!("unexpected argument {extra:?}"));
    }
    let result = match mode.as_str() {
        "writer" => writer_main(flags),
        "reader" => reader_main(flags),
        "latency" => latency_main(flags),
        "null-server" => null_main(flags),
        other => return usage_error(&format!("unknown mode {other:?}")),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("nsq_bench {mode}: {e}");
            ExitCode::FAILURE
        }
    }
}

fn usage_error(msg: &str) -> ExitCode {
    eprintln!("nsq_bench: {msg}\n\n{USAGE}");
    ExitCode::from(2)
}

fn runtime(threads: usize) -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads.max(1))
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start runtime: {e}"))
}

fn start_at(flags: &mut Flags) -> Result<Option<f64>> {
    if let Some(d) = flags.opt_string("deadline").filter(|d| !d.is_empty()) {
        return parse_deadline(&d).map(Some);
    }
    match flags.opt_string("start-at") {
        None => Ok(None),
        Some(s) => s
            .trim()
            .parse::<f64>()
            .map(Some)
            .map_err(|_| format!("invalid value {s:?} for flag -start-at")),
    }
}

fn named(base: &str, count: u64) -> Vec<String> {
    if count <= 1 {
        vec![base.to_string()]
    } else {
        (0..count).map(|i| format!("{base}_{i}")).collect()
    }
}

fn size_flag(flags: &mut Flags) -> Result<usize> {
    let size = flags.u64("size", 200)?;
    if size == 0 || size > 64 << 20 {
        return Err("--size must be between 1 and 64MiB".into());
    }
    Ok(size as usize)
}

fn writer_main(mut flags: Flags) -> Result<ExitCode> {
    let addr = conn::resolve(&flags.string("nsqd-tcp-address", "127.0.0.1:4150"))?;
    let topic = flags.string("topic", "sub_bench");
    let topics = flags.u64("topics", 1)?;
    let size = size_flag(&mut flags)?;
    let batch_size = flags.u64("batch-size", 200)? as usize;
    let runfor = flags.duration("runfor", Duration::from_secs(10))?;
    let threads = flags.u64("threads", conn::cpus() as u64)? as usize;
    let connections = flags.u64("connections", conn::cpus() as u64)? as usize;
    let command = match flags.string("command", "mpub").as_str() {
        "mpub" | "MPUB" => PubCommand::Mpub,
        "pub" | "PUB" => PubCommand::Pub,
        other => return Err(format!("--command must be mpub or pub, not {other:?}")),
    };
    let ack_latency = flags.bool("ack-latency")?;
    let start_at = start_at(&mut flags)?;
    flags.finish()?;
    let cfg = WriterConfig {
        addr,
        topics: named(&topic, topics),
        size,
        batch_size,
        connections,
        runfor,
        command,
        start_at,
    };
    let report = runtime(threads)?.block_on(writer::run(cfg))?;
    println!(
        "[bench_writer] {}",
        conn::result_line(report.duration, report.msgs, size as u64)
    );
    if ack_latency {
        println!(
            "[bench_writer] ack latency: batches: {} - {}",
            report.ack_latency.count(),
            report.ack_latency.summary()
        );
    }
    Ok(report_errors("bench_writer", &report.errors))
}

fn reader_main(mut flags: Flags) -> Result<ExitCode> {
    let addr = conn::resolve(&flags.string("nsqd-tcp-address", "127.0.0.1:4150"))?;
    let topic = flags.string("topic", "sub_bench");
    let channel = flags.string("channel", "ch");
    let topics = flags.u64("topics", 1)?;
    let channels = flags.u64("channels", 1)?;
    let size = size_flag(&mut flags)?;
    let rdy = flags.u64("rdy", 2500)?;
    let runfor = flags.duration("runfor", Duration::from_secs(10))?;
    let threads = flags.u64("threads", conn::cpus() as u64)? as usize;
    let connections = flags.u64("connections", conn::cpus() as u64)? as usize;
    let expect = flags.u64("expect", 0)?;
    let start_at = start_at(&mut flags)?;
    flags.finish()?;
    let mut pairs = Vec::new();
    for t in named(&topic, topics) {
        for c in named(&channel, channels) {
            pairs.push((t.clone(), c));
        }
    }
    let cfg = ReaderConfig {
        addr,
        pairs,
        connections,
        rdy,
        runfor,
        expect,
        start_at,
    };
    let report = runtime(threads)?.block_on(reader::run(cfg))?;
    println!(
        "[bench_reader] {}",
        conn::result_line(report.duration, report.msgs, size as u64)
    );
    if report.error_frames > 0 {
        eprintln!("[bench_reader] {} error frames", report.error_frames);
    }
    Ok(report_errors("bench_reader", &report.errors))
}

fn latency_main(mut flags: Flags) -> Result<ExitCode> {
    let addr = conn::resolve(&flags.string("nsqd-tcp-address", "127.0.0.1:4150"))?;
    let topic = flags.string("topic", "sub_bench");
    let channel = flags.string("channel", "ch");
    let size = size_flag(&mut flags)?;
    let rate = flags.f64("rate", 10_000.0)?;
    let runfor = flags.duration("runfor", Duration::from_secs(10))?;
    let warmup = flags.duration("warmup", (runfor / 10).min(Duration::from_secs(1)))?;
    let rdy = flags.u64("rdy", 1000)?;
    flags.finish()?;
    let report = latency::run(LatencyConfig {
        addr,
        topic,
        channel,
        size,
        rate,
        runfor,
        warmup,
        rdy,
    })?;
    let secs = report.duration.as_secs_f64().max(1e-9);
    println!(
        "[bench_latency] duration: {} - {:.1}msgs/s - sent: {} - acked: {} - received: {} - {}",
        nsq_flags::go_parse::format_duration(report.duration),
        report.sent as f64 / secs,
        report.sent,
        report.acked,
        report.received,
        report.latency.summary()
    );
    if report.received < report.sent || report.acked < report.sent {
        eprintln!(
            "[bench_latency] {} of {} messages not received, {} not acknowledged",
            report.sent - report.received.min(report.sent),
            report.sent,
            report.sent - report.acked.min(report.sent)
        );
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

fn null_main(mut flags: Flags) -> Result<ExitCode> {
    let bind = flags.string("tcp-address", "127.0.0.1:0");
    let size = size_flag(&mut flags)?;
    let relay = flags.bool("relay")?;
    let max_rdy_count = flags.u64("max-rdy-count", 2500)?;
    let max_lifetime = flags.duration("max-lifetime", Duration::from_secs(3600))?;
    let threads = flags.u64("threads", conn::cpus() as u64)? as usize;
    flags.finish()?;
    runtime(threads)?.block_on(null_server::run(NullConfig {
        bind,
        size,
        relay,
        max_lifetime,
        max_rdy_count,
    }))?;
    Ok(ExitCode::SUCCESS)
}

fn report_errors(who: &str, errors: &[String]) -> ExitCode {
    if errors.is_empty() {
        return ExitCode::SUCCESS;
    }
    let mut shown = errors.to_vec();
    shown.sort();
    shown.dedup();
    for e in shown.iter().take(5) {
        eprintln!("[{who}] error: {e}");
    }
    eprintln!("[{who}] {} connection(s) failed", errors.len());
    ExitCode::FAILURE
}
