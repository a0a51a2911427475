//! `nsq_load <conns|mesh|fill|drain> [flags]`: the command line, and the
//! output (`key: value` lines, plus one JSON object with `--json` for
//! scripts). Exits 1 when a check fails, 2 on a usage error.

use super::conns::{self, ConnsConfig};
use super::drain::{self, DrainConfig};
use super::fill::{self, FillConfig};
use super::mesh::{self, MeshConfig};
use super::sys;
use crate::args::Flags;
use crate::conn::{self, Result};
use serde_json::{json, Map, Value};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

const USAGE: &str = "\
usage: nsq_load <mode> [flags]

modes:
  conns   open --connections idle consumer connections (IDENTIFY with a
          heartbeat, SUB, answer heartbeats), hold them, check nsqd meanwhile
  mesh    --publishers x --consumers over --topics x --channels for --runfor,
          then check every published message reached every channel
  fill    publish exactly --count numbered messages with MPUB
  drain   consume and FIN exactly --count messages of a fill, checking them

common flags (Go flag syntax):
  --nsqd-tcp-address   nsqd TCP address (default 127.0.0.1:4150)
  --nsqd-http-address  nsqd HTTP address, for /ping and /stats (conns)
  --nsqd-pid           nsqd process id, to report its RSS from /proc
  --threads            runtime worker threads (default: number of CPUs)
  --json               also print the figures as one JSON object (last line)

conns:
  --connections   connections to hold (default 10000)
  --concurrency   handshakes in flight at once (default 256)
  --hold          how long to hold them all (default 30s)
  --ramp-limit    longest time allowed to open them (default 120s)
  --heartbeat     IDENTIFY heartbeat_interval (default 5s)
  --topic         topic (default load_conns); --channels N spreads them (default 100)

mesh:
  --publishers 200  --consumers 200  --topics 50  --channels 4 (per topic)
  --rate          messages/s over all publishers, 0 = as fast as acknowledged
                  (default 20000)
  --runfor        publishing time (default 30s)
  --size          body size, at least 20 (default 200)
  --max-batch     most messages per publish command (default 100)
  --rdy           consumer RDY (default 100)
  --drain-timeout time allowed to deliver the rest after publishing (default 60s)
  --topic-prefix  topics are <prefix>_<i> (default load)
  --unbuffered    consumers IDENTIFY with output_buffer_size/timeout -1
                  (default: nsqd's 16KiB / 250ms output buffering)

fill:   --topic --count --size (200) --batch (200) --connections (2)
drain:  --topic --channel --count --rdy (2500) --timeout (300s)
        --fill-count --fill-connections (2) --size (200): the fill's flags
";

/// Entry point of the `nsq_load` binary.
pub fn main() -> ExitCode {
    let mut flags = match Flags::parse(std::env::args().skip(1)) {
        Ok(f) => f,
        Err(e) => return usage_error(&e),
    };
    if flags.has("help") || flags.has("h") {
        print!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    if flags.positional.len() != 1 {
        return usage_error("expected exactly one mode");
    }
    let mode = flags.positional.remove(0);
    let result = match mode.as_str() {
        "conns" => conns_main(flags),
        "mesh" => mesh_main(flags),
        "fill" => fill_main(flags),
        "drain" => drain_main(flags),
        other => return usage_error(&format!("unknown mode {other:?}")),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("nsq_load {mode}: {e}");
            ExitCode::FAILURE
        }
    }
}

fn usage_error(msg: &str) -> ExitCode {
    eprintln!("nsq_load: {msg}\n\n{USAGE}");
    ExitCode::from(2)
}

/// Flags every mode takes.
struct Common {
    addr: SocketAddr,
    http: Option<SocketAddr>,
    pid: Option<u32>,
    threads: usize,
    json: bool,
}

fn common(flags: &mut Flags) -> Result<Common> {
    let addr = conn::resolve(&flags.string("nsqd-tcp-address", "127.0.0.1:4150"))?;
    let http = flags
        .opt_string("nsqd-http-address")
        .map(|a| conn::resolve(&a))
        .transpose()?;
    let pid = match flags.u64("nsqd-pid", 0)? {
        0 => None,
        p => Some(u32::try_from(p).map_err(|_| format!("--nsqd-pid {p} is not a process id"))?),
    };
    Ok(Common {
        addr,
        http,
        pid,
        threads: flags.u64("threads", conn::cpus() as u64)? as usize,
        json: flags.bool("json")?,
    })
}

fn runtime(threads: usize) -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads.max(1))
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start runtime: {e}"))
}

/// Figures printed as `[nsq_load <mode>] key: value`, and as JSON.
struct Output {
    mode: &'static str,
    fields: Map<String, Value>,
    json: bool,
}

impl Output {
    fn new(mode: &'static str, json: bool) -> Self {
        Output {
            mode,
            fields: Map::new(),
            json,
        }
    }

    fn put(&mut self, key: &str, value: Value) {
        let shown = match &value {
            Value::String(s) => s.clone(),
            Value::Null => "-".into(),
            other => other.to_string(),
        };
        println!("[nsq_load {}] {key}: {shown}", self.mode);
        self.fields.insert(key.to_string(), value);
    }

    fn finish(mut self, ok: bool) -> bool {
        self.put("result", json!(if ok { "PASS" } else { "FAIL" }));
        if self.json {
            println!("{}", Value::Object(self.fields));
        }
        ok
    }
}

fn mib(kb: Option<u64>) -> Value {
    kb.map_or(Value::Null, |k| {
        json!((k as f64 / 1024.0 * 10.0).round() / 10.0)
    })
}

fn ms(d: Duration) -> Value {
    json!((d.as_secs_f64() * 1e6).round() / 1e3)
}

fn conns_main(mut flags: Flags) -> Result<bool> {
    let c = common(&mut flags)?;
    let cfg = ConnsConfig {
        addr: c.addr,
        http: c.http,
        nsqd_pid: c.pid,
        connections: flags.u64("connections", 10_000)? as usize,
        concurrency: flags.u64("concurrency", 256)? as usize,
        hold: flags.duration("hold", Duration::from_secs(30))?,
        ramp_limit: flags.duration("ramp-limit", Duration::from_secs(120))?,
        heartbeat_ms: flags
            .duration("heartbeat", Duration::from_secs(5))?
            .as_millis() as u64,
        topic: flags.string("topic", "load_conns"),
        channels: flags.u64("channels", 100)? as usize,
    };
    flags.finish()?;
    let nofile = sys::raise_nofile_limit()?;
    if (nofile as usize) < cfg.connections + 64 {
        return Err(format!(
            "the open-file limit is {nofile}, too low for {} connections: raise the hard limit (ulimit -Hn)",
            cfg.connections
        ));
    }
    let report = runtime(c.threads)?.block_on(conns::run(cfg))?;
    let mut out = Output::new("conns", c.json);
    out.put("target", json!(report.target));
    out.put("opened", json!(report.opened));
    out.put(
        "ramp_s",
        json!((report.ramp.as_secs_f64() * 100.0).round() / 100.0),
    );
    out.put("held", json!(report.held));
    out.put("stats_clients", json!(report.stats_clients));
    out.put("stats_clients_end", json!(report.stats_clients_end));
    out.put("heartbeats_answered", json!(report.heartbeats));
    out.put("nsqd_rss_before_mib", mib(report.rss_before_kb));
    out.put("nsqd_rss_full_mib", mib(report.rss_full_kb));
    out.put("nsqd_peak_rss_mib", mib(report.rss_peak_kb));
    let per_conn = match (report.rss_before_kb, report.rss_full_kb) {
        (Some(a), Some(b)) if report.opened > 0 => {
            json!(((b.saturating_sub(a)) as f64 * 1024.0 / report.opened as f64).round())
        }
        _ => Value::Null,
    };
    out.put("nsqd_rss_per_conn_bytes", per_conn);
    let ping: Vec<String> = report
        .ping
        .iter()
        .map(|p| p.as_ref().map_or_else(|e| e.clone(), |_| "OK".into()))
        .collect();
    out.put("ping", json!(ping));
    let trips: Vec<String> = report
        .round_trips
        .iter()
        .map(|r| {
            r.as_ref()
                .map_or_else(|e| e.clone(), |d| format!("{:.3}ms", d.as_secs_f64() * 1e3))
        })
        .collect();
    out.put("pub_sub_round_trip", json!(trips));
    let errors: Vec<String> = report
        .errors
        .iter()
        .take(5)
        .map(|(e, n)| format!("{n} x {e}"))
        .collect();
    out.put("errors", json!(errors));
    Ok(out.finish(report.ok()))
}

fn mesh_main(mut flags: Flags) -> Result<bool> {
    let c = common(&mut flags)?;
    let cfg = MeshConfig {
        addr: c.addr,
        nsqd_pid: c.pid,
        publishers: flags.u64("publishers", 200)? as usize,
        consumers: flags.u64("consumers", 200)? as usize,
        topics: flags.u64("topics", 50)? as usize,
        channels: flags.u64("channels", 4)? as usize,
        prefix: flags.string("topic-prefix", "load"),
        size: flags.u64("size", 200)? as usize,
        rate: flags.f64("rate", 20_000.0)?,
        max_batch: flags.u64("max-batch", 100)?,
        runfor: flags.duration("runfor", Duration::from_secs(30))?,
        rdy: flags.u64("rdy", 100)?,
        drain_timeout: flags.duration("drain-timeout", Duration::from_secs(60))?,
        unbuffered: flags.bool("unbuffered")?,
    };
    flags.finish()?;
    sys::raise_nofile_limit()?;
    let (size, runfor, unbuffered) = (cfg.size, cfg.runfor, cfg.unbuffered);
    let report = runtime(c.threads)?.block_on(mesh::run(cfg))?;
    let mut out = Output::new("mesh", c.json);
    let secs = report.publish_time.as_secs_f64().max(1e-9);
    let total_secs = (report.publish_time + report.drain_time)
        .as_secs_f64()
        .max(1e-9);
    out.put("runfor_s", json!(runfor.as_secs_f64()));
    out.put("size", json!(size));
    out.put("unbuffered", json!(unbuffered));
    out.put("published", json!(report.published));
    out.put(
        "publish_rate",
        json!((report.published as f64 / secs).round()),
    );
    out.put("deliveries", json!(report.deliveries));
    out.put(
        "delivery_rate",
        json!((report.deliveries as f64 / total_secs).round()),
    );
    out.put(
        "drain_s",
        json!((report.drain_time.as_secs_f64() * 100.0).round() / 100.0),
    );
    let h = &report.latency;
    out.put(
        "latency_p50_ms",
        ms(Duration::from_nanos(h.quantile_ns(0.50))),
    );
    out.put(
        "latency_p99_ms",
        ms(Duration::from_nanos(h.quantile_ns(0.99))),
    );
    out.put(
        "latency_p999_ms",
        ms(Duration::from_nanos(h.quantile_ns(0.999))),
    );
    out.put("latency_max_ms", ms(Duration::from_nanos(h.max_ns())));
    let v = &report.verdict;
    out.put("expected_channel_deliveries", json!(v.expected));
    out.put("missing", json!(v.missing));
    out.put("missing_examples", json!(v.examples));
    out.put("duplicates", json!(v.duplicates));
    out.put("foreign", json!(v.foreign));
    out.put("error_frames", json!(report.error_frames));
    out.put("nsqd_rss_end_of_publish_mib", mib(report.rss_kb));
    out.put("nsqd_peak_rss_mib", mib(report.rss_peak_kb));
    let errors: Vec<&String> = report.errors.iter().take(5).collect();
    out.put("errors", json!(errors));
    out.put(
        "delivery_check",
        json!(if v.passed() { "PASS" } else { "FAIL" }),
    );
    let ok = report.ok();
    Ok(out.finish(ok))
}

fn fill_main(mut flags: Flags) -> Result<bool> {
    let c = common(&mut flags)?;
    let cfg = FillConfig {
        addr: c.addr,
        topic: flags.string("topic", "backlog"),
        count: flags.u64("count", 1_000_000)?,
        size: flags.u64("size", 200)? as usize,
        batch: flags.u64("batch", 200)?,
        connections: flags.u64("connections", 2)? as usize,
    };
    flags.finish()?;
    let report = runtime(c.threads)?.block_on(fill::run(cfg))?;
    let mut out = Output::new("fill", c.json);
    out.put("published", json!(report.published));
    out.put(
        "duration_s",
        json!((report.duration.as_secs_f64() * 100.0).round() / 100.0),
    );
    out.put(
        "rate",
        json!((report.published as f64 / report.duration.as_secs_f64().max(1e-9)).round()),
    );
    Ok(out.finish(true))
}

fn drain_main(mut flags: Flags) -> Result<bool> {
    let c = common(&mut flags)?;
    let count = flags.u64("count", 1_000_000)?;
    let cfg = DrainConfig {
        addr: c.addr,
        topic: flags.string("topic", "backlog"),
        channel: flags.string("channel", "idle"),
        count,
        rdy: flags.u64("rdy", 2500)?,
        fill_count: flags.u64("fill-count", count)?,
        fill_connections: flags.u64("fill-connections", 2)? as usize,
        size: flags.u64("size", 200)? as usize,
        timeout: flags.duration("timeout", Duration::from_secs(300))?,
    };
    flags.finish()?;
    let report = runtime(c.threads)?.block_on(drain::run(cfg))?;
    let mut out = Output::new("drain", c.json);
    out.put("received", json!(report.received));
    out.put(
        "duration_s",
        json!((report.duration.as_secs_f64() * 100.0).round() / 100.0),
    );
    out.put(
        "rate",
        json!((report.received as f64 / report.duration.as_secs_f64().max(1e-9)).round()),
    );
    out.put("duplicates", json!(report.duplicates));
    out.put("invalid", json!(report.invalid));
    out.put("missing", json!(report.missing));
    let ok = report.ok(count);
    Ok(out.finish(ok))
}
