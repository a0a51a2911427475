//! `nsqadmin`: parses Go-style flags, sets up logging, binds, serves the web
//! UI and API until SIGINT/SIGTERM.

use nsq_app::{init_logging, shutdown_signal, LogLevel};
use std::process::ExitCode;
use std::sync::Arc;

fn main() -> ExitCode {
    let set = nsq_flags::tables::nsqadmin();
    let flags = nsq_flags::parse_command_line(&set);
    if flags.bool("version") {
        println!(
            "nsqadmin v{} (built w/{})",
            nsqadmin::VERSION,
            nsqadmin::BUILT_WITH
        );
        return ExitCode::SUCCESS;
    }
    let level: LogLevel = flags
        .log_level("log-level")
        .parse()
        .unwrap_or(LogLevel::Info);
    init_logging(flags.string("log-prefix"), level);
    tracing::info!(
        "nsqadmin v{} (built w/{})",
        nsqadmin::VERSION,
        nsqadmin::BUILT_WITH
    );
    let opts = match nsqadmin::Options::from_flags(&set, &flags) {
        Ok(opts) => opts,
        Err(e) => return fatal(&format!("failed to instantiate nsqadmin - {e}")),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fatal(&format!("failed to start the async runtime - {e}")),
    };
    runtime.block_on(async move {
        let listener = match tokio::net::TcpListener::bind(&opts.http_address).await {
            Ok(l) => l,
            Err(e) => {
                return fatal(&format!("listen ({}) failed - {e}", opts.http_address));
            }
        };
        match listener.local_addr() {
            Ok(addr) => tracing::info!("HTTP: listening on {addr}"),
            Err(e) => return fatal(&format!("listen ({}) failed - {e}", opts.http_address)),
        }
        let state = Arc::new(nsqadmin::AppState::new(opts));
        nsqadmin::run(state, listener, shutdown_signal()).await;
        ExitCode::SUCCESS
    })
}

fn fatal(message: &str) -> ExitCode {
    tracing::error!("FATAL: {message}");
    eprintln!("FATAL: {message}");
    ExitCode::FAILURE
}
