//! `nsqd`: parses Go-style flags, sets up logging, binds, serves until SIGINT/SIGTERM.

use nsq_app::{init_logging, shutdown_signal, LogLevel};
use std::process::ExitCode;

fn main() -> ExitCode {
    let flags = nsq_flags::parse_command_line(&nsq_flags::tables::nsqd());
    if flags.bool("version") {
        println!("{}", nsq_app::version_line("nsqd"));
        return ExitCode::SUCCESS;
    }
    let level: LogLevel = flags
        .log_level("log-level")
        .parse()
        .unwrap_or(LogLevel::Info);
    init_logging(flags.string("log-prefix"), level);
    tracing::info!("{}", nsq_app::version_line("nsqd"));
    let opts = match nsqd::Options::from_flags(&flags) {
        Ok(opts) => opts,
        Err(e) => return fatal(&format!("failed to instantiate nsqd - {e}")),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fatal(&format!("failed to start the async runtime - {e}")),
    };
    runtime.block_on(async move {
        let shutdown = shutdown_signal();
        let listeners = match nsqd::Listeners::bind(&opts).await {
            Ok(l) => l,
            Err(e) => return fatal(&format!("failed to instantiate nsqd - {e}")),
        };
        match nsqd::run(opts, listeners, shutdown).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => fatal(&e.to_string()),
        }
    })
}

fn fatal(message: &str) -> ExitCode {
    eprint!("{}", nsq_flags::fatal_line("nsqd", message));
    ExitCode::FAILURE
}
