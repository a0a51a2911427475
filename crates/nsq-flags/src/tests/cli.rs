//! The daemon start-up path: parse, `--version`, `--config`, exit codes.

use std::path::Path;

use crate::tables::nsqd;
use crate::{fatal_line, parse_args};

fn run(list: &[&str]) -> Result<crate::Parsed, crate::CommandLineExit> {
    parse_args(&nsqd(), list.iter().map(|s| s.to_string()))
}

fn fixture() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/nsqd.cfg")
        .display()
        .to_string()
}

#[test]
fn config_flag_loads_the_file() {
    let p = run(&[&format!("--config={}", fixture()), "--max-body-size=1"]).unwrap();
    assert_eq!(p.int("max-msg-size"), 1024768);
    assert_eq!(p.int("max-body-size"), 1);
}

#[test]
fn version_skips_the_config_file() {
    let p = run(&["--version", "--config=/nonexistent.cfg"]).unwrap();
    assert!(p.bool("version"));
}

#[test]
fn bad_config_exits_1_with_a_fatal_line() {
    let exit = run(&["--config=/nonexistent.cfg"]).unwrap_err();
    assert_eq!(exit.code, 1);
    assert!(exit.stderr.starts_with("[nsqd] "), "{}", exit.stderr);
    assert!(
        exit.stderr.ends_with(
            " FATAL: failed to load config file /nonexistent.cfg - \
             open /nonexistent.cfg: no such file or directory\n"
        ),
        "{}",
        exit.stderr
    );
}

#[test]
fn help_exits_0_and_bad_flags_exit_2() {
    let help = run(&["--help"]).unwrap_err();
    assert_eq!(help.code, 0);
    assert_eq!(help.stderr, nsqd().usage());
    let bad = run(&["--msg-timeout=60"]).unwrap_err();
    assert_eq!(bad.code, 2);
    assert_eq!(
        bad.stderr,
        format!(
            "invalid value \"60\" for flag -msg-timeout: parse error\n{}",
            nsqd().usage()
        )
    );
}

#[test]
fn fatal_line_layout() {
    let line = fatal_line("nsqlookupd", "boom");
    let rest = line.strip_prefix("[nsqlookupd] ").unwrap();
    // YYYY/MM/DD HH:MM:SS.micros
    let (stamp, msg) = rest.split_at(26);
    assert_eq!(msg, " FATAL: boom\n");
    let b = stamp.as_bytes();
    assert_eq!(
        (b[4], b[7], b[10], b[13], b[16], b[19]),
        (b'/', b'/', b' ', b':', b':', b'.')
    );
    assert!(stamp
        .chars()
        .enumerate()
        .all(|(i, c)| [4, 7, 10, 13, 16, 19].contains(&i) || c.is_ascii_digit()));
}
