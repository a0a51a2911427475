//! `nsqlookupd`: parses Go-style flags, sets up logging, binds, serves until SIGINT/SIGTERM.

use nsq_app::{init_logging, shutdown_signal, LogLevel};
use nsq_flags::{Parsed, Source};
use std::process::ExitCode;

fn main() -> ExitCode {
    let flags = nsq_flags::parse_command_line(&nsq_flags::tables::nsqlookupd());
    let version = nsq_app::version_line("nsqlookupd");
    if flags.bool("version") {
        println!("{version}");
        return ExitCode::SUCCESS;
    }
    let level: LogLevel = flags
        .log_level("log-level")
        .parse()
        .unwrap_or(LogLevel::Info);
    init_logging(flags.string("log-prefix"), level);
    tracing::info!("{version}");
    let opts = options(&flags);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fatal(&format!("failed to start the async runtime - {e}")),
    };
    runtime.block_on(async move {
        let shutdown = shutdown_signal();
        let tcp = match nsqlookupd::bind(&opts.tcp_address).await {
            Ok(l) => l,
            Err(e) => return fatal(&format!("failed to instantiate nsqlookupd - {e}")),
        };
        let http = match nsqlookupd::bind(&opts.http_address).await {
            Ok(l) => l,
            Err(e) => return fatal(&format!("failed to instantiate nsqlookupd - {e}")),
        };
        for (what, listener) in [("TCP", &tcp), ("HTTP", &http)] {
            match listener.local_addr() {
                Ok(addr) => tracing::info!("{what}: listening on {addr}"),
                Err(e) => return fatal(&format!("{what}: cannot read the bound address - {e}")),
            }
        }
        match nsqlookupd::run(opts, tcp, http, shutdown).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => fatal(&e.to_string()),
        }
    })
}

/// Maps the parsed flags onto the daemon's options.
fn options(flags: &Parsed) -> nsqlookupd::Options {
    let mut opts = nsqlookupd::Options {
        tcp_address: flags.string("tcp-address").to_string(),
        http_address: flags.string("http-address").to_string(),
        inactive_producer_timeout: flags.duration("inactive-producer-timeout"),
        tombstone_lifetime: flags.duration("tombstone-lifetime"),
        ..nsqlookupd::Options::default()
    };
    // The default is the OS hostname; an explicitly given value (even "") wins.
    if flags.source("broadcast-address") != Source::Default {
        opts.broadcast_address = flags.string("broadcast-address").to_string();
    }
    opts
}

fn fatal(message: &str) -> ExitCode {
    eprint!("{}", nsq_flags::fatal_line("nsqlookupd", message));
    ExitCode::FAILURE
}
