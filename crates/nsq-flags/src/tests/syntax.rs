//! Go `flag` syntax on a small demo set (flags.md §1).

use std::time::Duration;

use crate::{FlagError, FlagKind, FlagSet, FlagSpec, Source};

fn demo() -> FlagSet {
    FlagSet::new(
        "demo",
        vec![
            FlagSpec::new("deflate", FlagKind::Bool, "true", "compress"),
            FlagSpec::new("verbose", FlagKind::Bool, "false", "chatty"),
            FlagSpec::new("msg-timeout", FlagKind::Duration, "60s", "timeout"),
            FlagSpec::new("max-rdy-count", FlagKind::Int, "2500", "rdy"),
            FlagSpec::new("tcp-address", FlagKind::String, "0.0.0.0:4150", "addr"),
            FlagSpec::new("lookupd-tcp-address", FlagKind::StringList, "", "peers"),
            FlagSpec::new("pct", FlagKind::FloatList, "", "percentiles"),
            FlagSpec::new("log-level", FlagKind::LogLevel, "info", "level"),
            FlagSpec::new("tls-required", FlagKind::TlsRequired, "false", "tls"),
            FlagSpec::new("tls-min-version", FlagKind::TlsMinVersion, "tls1.0", "min"),
        ],
    )
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn parse(list: &[&str]) -> crate::Parsed {
    demo().parse(args(list)).expect("parse")
}

fn error_message(list: &[&str]) -> String {
    match demo().parse(args(list)) {
        Err(FlagError::Invalid { message, usage }) => {
            assert!(usage.starts_with("Usage of demo:\n"), "{usage}");
            message
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
}

#[test]
fn empty_command_line_gives_defaults() {
    let p = parse(&[]);
    assert!(p.bool("deflate"));
    assert!(!p.bool("verbose"));
    assert_eq!(p.duration("msg-timeout"), Duration::from_secs(60));
    assert_eq!(p.int("max-rdy-count"), 2500);
    assert_eq!(p.string("tcp-address"), "0.0.0.0:4150");
    assert!(p.string_list("lookupd-tcp-address").is_empty());
    assert!(p.float_list("pct").is_empty());
    assert_eq!(p.log_level("log-level"), "info");
    assert_eq!(p.tls_required(), crate::TlsRequired::False);
    assert_eq!(p.tls_min_version(), 0x0301);
    assert!(p.args().is_empty());
    assert!(!p.is_set("deflate"));
    assert_eq!(p.source("deflate"), Source::Default);
}

#[test]
fn one_or_two_dashes_are_equivalent() {
    for form in [
        &["-max-rdy-count=7"][..],
        &["--max-rdy-count=7"],
        &["-max-rdy-count", "7"],
        &["--max-rdy-count", "7"],
    ] {
        let p = parse(form);
        assert_eq!(p.int("max-rdy-count"), 7, "{form:?}");
        assert!(p.is_set("max-rdy-count"));
    }
}

#[test]
fn value_may_contain_equals_and_start_with_dash() {
    let p = parse(&["--tcp-address=a=b", "--max-rdy-count", "-5"]);
    assert_eq!(p.string("tcp-address"), "a=b");
    assert_eq!(p.int("max-rdy-count"), -5);
    // A separate value is taken even if it looks like a flag.
    let p = parse(&["--tcp-address", "--verbose"]);
    assert_eq!(p.string("tcp-address"), "--verbose");
    assert!(!p.bool("verbose"));
    // Empty inline value for a string.
    assert_eq!(parse(&["--tcp-address="]).string("tcp-address"), "");
}

#[test]
fn bool_forms() {
    assert!(parse(&["--verbose"]).bool("verbose"));
    assert!(!parse(&["--deflate=false"]).bool("deflate"));
    for word in ["1", "t", "T", "TRUE", "true", "True"] {
        assert!(parse(&["-deflate=false", &format!("--deflate={word}")]).bool("deflate"));
    }
    for word in ["0", "f", "F", "FALSE", "false", "False"] {
        assert!(!parse(&[&format!("--deflate={word}")]).bool("deflate"));
    }
    assert_eq!(
        error_message(&["--deflate=yes"]),
        "invalid boolean value \"yes\" for -deflate: parse error"
    );
    assert_eq!(
        error_message(&["--deflate="]),
        "invalid boolean value \"\" for -deflate: parse error"
    );
}

#[test]
fn bool_with_separate_false_stops_parsing() {
    let p = parse(&["--deflate", "false", "--msg-timeout=30s", "--verbose"]);
    assert!(p.bool("deflate"), "--deflate alone means true");
    assert!(p.is_set("deflate"));
    assert_eq!(p.duration("msg-timeout"), Duration::from_secs(60));
    assert!(!p.is_set("msg-timeout"));
    assert!(!p.bool("verbose"));
    assert_eq!(p.args(), ["false", "--msg-timeout=30s", "--verbose"]);
}

#[test]
fn double_dash_ends_parsing_and_is_consumed() {
    let p = parse(&["--verbose", "--", "--deflate=false", "x"]);
    assert!(p.bool("verbose"));
    assert!(p.bool("deflate"));
    assert_eq!(p.args(), ["--deflate=false", "x"]);
}

#[test]
fn first_positional_ends_parsing() {
    let p = parse(&["pos", "--verbose"]);
    assert!(!p.bool("verbose"));
    assert_eq!(p.args(), ["pos", "--verbose"]);
    // A lone "-" is positional too.
    let p = parse(&["-", "--verbose"]);
    assert_eq!(p.args(), ["-", "--verbose"]);
    assert!(!p.bool("verbose"));
}

#[test]
fn repeated_scalars_last_wins() {
    let p = parse(&[
        "--max-rdy-count=1",
        "--max-rdy-count",
        "2",
        "--log-level=debug",
        "--log-level=ERROR",
    ]);
    assert_eq!(p.int("max-rdy-count"), 2);
    assert_eq!(p.log_level("log-level"), "error");
}

#[test]
fn repeated_string_list_appends_without_comma_split() {
    let p = parse(&[
        "--lookupd-tcp-address=a:1,b:2",
        "--lookupd-tcp-address",
        "c:3",
    ]);
    assert_eq!(p.string_list("lookupd-tcp-address"), ["a:1,b:2", "c:3"]);
}

#[test]
fn float_list_splits_and_sorts_descending() {
    let p = parse(&["--pct=0.5,0.99", "--pct", "1.0"]);
    assert_eq!(p.float_list("pct"), [1.0, 0.99, 0.5]);
    assert_eq!(
        error_message(&["--pct=0.5,abc"]),
        "invalid value \"0.5,abc\" for flag -pct: Could not parse: abc"
    );
}

#[test]
fn int_syntax_and_errors() {
    assert_eq!(parse(&["--max-rdy-count=0x10"]).int("max-rdy-count"), 16);
    assert_eq!(parse(&["--max-rdy-count=0o10"]).int("max-rdy-count"), 8);
    assert_eq!(parse(&["--max-rdy-count=010"]).int("max-rdy-count"), 8);
    assert_eq!(parse(&["--max-rdy-count=0b11"]).int("max-rdy-count"), 3);
    assert_eq!(parse(&["--max-rdy-count=1_000"]).int("max-rdy-count"), 1000);
    assert_eq!(parse(&["--max-rdy-count=+3"]).int("max-rdy-count"), 3);
    assert_eq!(
        error_message(&["--max-rdy-count=abc"]),
        "invalid value \"abc\" for flag -max-rdy-count: parse error"
    );
    assert_eq!(
        error_message(&["--max-rdy-count=1.5"]),
        "invalid value \"1.5\" for flag -max-rdy-count: parse error"
    );
    assert_eq!(
        error_message(&["--max-rdy-count=9223372036854775808"]),
        "invalid value \"9223372036854775808\" for flag -max-rdy-count: value out of range"
    );
}

#[test]
fn duration_syntax_and_errors() {
    let d = |v: &str| parse(&[&format!("--msg-timeout={v}")]).duration("msg-timeout");
    assert_eq!(d("30s"), Duration::from_secs(30));
    assert_eq!(d("1h30m"), Duration::from_secs(5400));
    assert_eq!(d("1.5h"), Duration::from_secs(5400));
    assert_eq!(d("250ms"), Duration::from_millis(250));
    assert_eq!(d("10us"), Duration::from_micros(10));
    assert_eq!(d("10µs"), Duration::from_micros(10));
    assert_eq!(d("7ns"), Duration::from_nanos(7));
    assert_eq!(d("+2m"), Duration::from_secs(120));
    assert_eq!(d("0"), Duration::ZERO);
    assert_eq!(
        error_message(&["--msg-timeout=60"]),
        "invalid value \"60\" for flag -msg-timeout: parse error"
    );
    assert_eq!(
        error_message(&["--msg-timeout", "5 s"]),
        "invalid value \"5 s\" for flag -msg-timeout: parse error"
    );
    assert_eq!(
        error_message(&["--msg-timeout=-1s"]),
        "invalid value \"-1s\" for flag -msg-timeout: negative durations are not supported"
    );
}

#[test]
fn log_level_values() {
    assert_eq!(
        parse(&["--log-level", "DeBuG"]).log_level("log-level"),
        "debug"
    );
    assert_eq!(parse(&["--log-level=warn"]).log_level("log-level"), "warn");
    assert_eq!(
        error_message(&["--log-level=trace"]),
        "invalid value \"trace\" for flag -log-level: \
         invalid log level 'trace' (debug, info, warn, error, fatal)"
    );
}

#[test]
fn tls_required_forms() {
    use crate::TlsRequired::*;
    assert_eq!(parse(&["--tls-required"]).tls_required(), True);
    assert_eq!(parse(&["--tls-required=true"]).tls_required(), True);
    assert_eq!(parse(&["--tls-required=1"]).tls_required(), True);
    assert_eq!(parse(&["--tls-required=false"]).tls_required(), False);
    assert_eq!(parse(&["--tls-required=0"]).tls_required(), False);
    assert_eq!(
        parse(&["--tls-required=tcp-https"]).tls_required(),
        TcpHttps
    );
    assert_eq!(
        parse(&["--tls-required=TCP-HTTPS"]).tls_required(),
        TcpHttps
    );
    assert_eq!(parse(&["--tls-required=tcp-https"]).int("tls-required"), 1);
    // Boolean flag: a separate word is positional and stops parsing.
    let p = parse(&["--tls-required", "tcp-https", "--verbose"]);
    assert_eq!(p.tls_required(), True);
    assert_eq!(p.args(), ["tcp-https", "--verbose"]);
    assert_eq!(
        error_message(&["--tls-required=sometimes"]),
        "invalid boolean value \"sometimes\" for -tls-required: \
         strconv.ParseBool: parsing \"sometimes\": invalid syntax"
    );
}

#[test]
fn tls_min_version_forms() {
    let v = |s: &str| parse(&[&format!("--tls-min-version={s}")]).tls_min_version();
    assert_eq!(v("tls1.0"), 0x0301);
    assert_eq!(v("tls1.1"), 0x0302);
    assert_eq!(v("TLS1.2"), 0x0303);
    assert_eq!(v("tls1.3"), 0x0304);
    assert_eq!(v(""), 0x0301, "empty keeps the default");
    assert_eq!(
        error_message(&["--tls-min-version=ssl3.0"]),
        "invalid value \"ssl3.0\" for flag -tls-min-version: unknown tlsVersionOption \"ssl3.0\""
    );
    assert_eq!(
        error_message(&["--tls-min-version"]),
        "flag needs an argument: -tls-min-version"
    );
}

#[test]
fn unknown_flag() {
    assert_eq!(
        error_message(&["--nope=1"]),
        "flag provided but not defined: -nope"
    );
    assert_eq!(error_message(&["-x"]), "flag provided but not defined: -x");
}

#[test]
fn missing_value_at_the_end() {
    assert_eq!(
        error_message(&["--verbose", "--msg-timeout"]),
        "flag needs an argument: -msg-timeout"
    );
    assert_eq!(
        error_message(&["--tcp-address"]),
        "flag needs an argument: -tcp-address"
    );
}

#[test]
fn bad_flag_syntax() {
    assert_eq!(
        error_message(&["---verbose"]),
        "bad flag syntax: ---verbose"
    );
    assert_eq!(error_message(&["-=x"]), "bad flag syntax: -=x");
    assert_eq!(error_message(&["--=x"]), "bad flag syntax: --=x");
}

#[test]
fn help_in_every_spelling() {
    for form in ["-h", "--h", "-help", "--help", "--help=1"] {
        match demo().parse(args(&["--verbose", form, "--nope"])) {
            Err(FlagError::Help { usage }) => assert_eq!(usage, demo().usage()),
            other => panic!("{form}: {other:?}"),
        }
    }
    // After parsing stopped, -h is just an argument.
    assert_eq!(parse(&["x", "-h"]).args(), ["x", "-h"]);
}

#[test]
fn errors_report_exit_codes_and_stderr() {
    let help = demo().parse(args(&["-h"])).unwrap_err();
    assert_eq!(help.exit_code(), 0);
    assert_eq!(help.stderr_text(), demo().usage());
    let bad = demo().parse(args(&["--nope"])).unwrap_err();
    assert_eq!(bad.exit_code(), 2);
    assert_eq!(
        bad.stderr_text(),
        format!("flag provided but not defined: -nope\n{}", demo().usage())
    );
    assert_eq!(bad.to_string(), "flag provided but not defined: -nope");
}

#[test]
fn odd_input_never_panics() {
    let odd = [
        "-é",
        "--é=1",
        "-\u{0}",
        "--=",
        "-",
        "--",
        "---",
        "-=",
        "--msg-timeout=\u{b5}",
        "--pct=,",
        "--max-rdy-count=0x",
        "--deflate=\u{1F600}",
        "--tls-min-version=\u{130}",
    ];
    for a in odd {
        let _ = demo().parse(args(&[a]));
        let _ = demo().parse(args(&[a, a]));
    }
}
