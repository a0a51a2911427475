//! The daemons' whole start-up sequence for flags: parse the command line,
//! then load `--config` unless `--version` was asked for.

use std::path::Path;

use time::macros::format_description;
use time::OffsetDateTime;

use crate::parsed::Parsed;
use crate::spec::{FlagKind, FlagSet};

/// How the process must end instead of starting: exit code and the exact
/// text to write to stderr.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandLineExit {
    /// 0 for help, 2 for a bad command line, 1 for a bad config file.
    pub code: i32,
    /// Everything to print on stderr (already newline-terminated).
    pub stderr: String,
}

/// Parses `args` (without the program name) and, unless `--version` is
/// set, loads the `--config` file, like NSQ's daemons do before starting.
pub fn parse_args<I: IntoIterator<Item = String>>(
    set: &FlagSet,
    args: I,
) -> Result<Parsed, CommandLineExit> {
    let mut parsed = set.parse(args).map_err(|e| CommandLineExit {
        code: e.exit_code(),
        stderr: e.stderr_text(),
    })?;
    let wants_version = set
        .spec("version")
        .is_some_and(|s| s.kind == FlagKind::Bool)
        && parsed.bool("version");
    let config_path = match set.spec("config") {
        Some(s) if s.kind == FlagKind::String => parsed.string("config").to_string(),
        _ => String::new(),
    };
    if !wants_version && !config_path.is_empty() {
        parsed
            .apply_config_file(set, Path::new(&config_path))
            .map_err(|e| CommandLineExit {
                code: 1,
                stderr: fatal_line(set.program, &e.to_string()),
            })?;
    }
    Ok(parsed)
}

/// Parses `std::env::args()` for a daemon. On `--help` prints the usage to
/// stderr and exits 0; on a bad flag prints `<message>\n<usage>` and exits
/// 2; on a bad `--config` file prints a FATAL log line and exits 1.
pub fn parse_command_line(set: &FlagSet) -> Parsed {
    // Non-UTF-8 arguments are taken lossily rather than aborting.
    let args = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned());
    match parse_args(set, args) {
        Ok(parsed) => parsed,
        Err(exit) => {
            eprint!("{}", exit.stderr);
            std::process::exit(exit.code);
        }
    }
}

/// NSQ's fatal log line: `[<program>] YYYY/MM/DD HH:MM:SS.micros FATAL: <msg>`
/// in local time (UTC if the local offset is unknown), newline-terminated.
pub fn fatal_line(program: &str, message: &str) -> String {
    let now = OffsetDateTime::now_local().unwrap_or_else(|_| OffsetDateTime::now_utc());
    let stamp = now
        .format(format_description!(
            "[year]/[month]/[day] [hour]:[minute]:[second].[subsecond digits:6]"
        ))
        .unwrap_or_default();
    format!("[{program}] {stamp} FATAL: {message}\n")
}
