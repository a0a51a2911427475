//! IDENTIFY: Go JSON decoding rules, validation, negotiation and the reply.

use nsq_protocol::{ErrorCode, IdentifyRequest, NegotiatedSettings, ServerIdentifyLimits};

const DECODE_FAILED: &str = "E_BAD_BODY IDENTIFY failed to decode JSON body";

fn parse(json: &str) -> IdentifyRequest {
    match IdentifyRequest::from_json(json.as_bytes()) {
        Ok(req) => req,
        Err(e) => panic!("{json}: {}", e.wire_text()),
    }
}

fn parse_err(json: &[u8]) {
    match IdentifyRequest::from_json(json) {
        Ok(req) => panic!("{:?} decoded to {req:?}", String::from_utf8_lossy(json)),
        Err(e) => {
            assert_eq!(e.wire_text(), DECODE_FAILED);
            assert_eq!(e.code, ErrorCode::BadBody);
            assert!(e.is_fatal());
        }
    }
}

fn negotiate(json: &str) -> NegotiatedSettings {
    let req = parse(json);
    match req.negotiate(&ServerIdentifyLimits::default()) {
        Ok(s) => s,
        Err(e) => panic!("{json}: {}", e.wire_text()),
    }
}

fn negotiate_err(json: &str, limits: &ServerIdentifyLimits) -> String {
    let e = parse(json)
        .negotiate(limits)
        .expect_err("negotiation should fail");
    assert!(e.is_fatal());
    e.wire_text()
}

fn response_json(json: &str, limits: &ServerIdentifyLimits) -> String {
    let settings = parse(json).negotiate(limits).expect("negotiate");
    String::from_utf8(settings.response(limits).to_json()).expect("utf8")
}

mod decoding {
    use super::*;

    #[test]
    fn all_fields() {
        let req = parse(
            r#"{"client_id":"c","hostname":"h","user_agent":"u","feature_negotiation":true,
               "heartbeat_interval":1000,"output_buffer_size":100,"output_buffer_timeout":30,
               "tls_v1":true,"snappy":false,"deflate":true,"deflate_level":3,
               "sample_rate":5,"msg_timeout":2000}"#,
        );
        assert_eq!(
            req,
            IdentifyRequest {
                client_id: Some("c".into()),
                hostname: Some("h".into()),
                user_agent: Some("u".into()),
                feature_negotiation: Some(true),
                heartbeat_interval: Some(1000),
                output_buffer_size: Some(100),
                output_buffer_timeout: Some(30),
                tls_v1: Some(true),
                snappy: Some(false),
                deflate: Some(true),
                deflate_level: Some(3),
                sample_rate: Some(5),
                msg_timeout: Some(2000),
            }
        );
    }

    #[test]
    fn empty_object_and_null_are_all_defaults() {
        assert_eq!(parse("{}"), IdentifyRequest::default());
        assert_eq!(parse(" null "), IdentifyRequest::default());
    }

    #[test]
    fn unknown_keys_are_ignored() {
        let req = parse(
            r#"{"short_id":"s","long_id":"l","extra":{"a":[1,{"b":null}]},"n":1.5e3,"client_id":"c"}"#,
        );
        assert_eq!(req.client_id.as_deref(), Some("c"));
        assert_eq!(
            IdentifyRequest {
                client_id: None,
                ..req
            },
            IdentifyRequest::default()
        );
    }

    #[test]
    fn keys_match_case_insensitively() {
        let req = parse(
            r#"{"Client_ID":"c","HOSTNAME":"h","Heartbeat_Interval":2000,"TLS_V1":true,"Sample_Rate":3}"#,
        );
        assert_eq!(req.client_id.as_deref(), Some("c"));
        assert_eq!(req.hostname.as_deref(), Some("h"));
        assert_eq!(req.heartbeat_interval, Some(2000));
        assert_eq!(req.tls_v1, Some(true));
        assert_eq!(req.sample_rate, Some(3));
    }

    #[test]
    fn go_folds_long_s_onto_s() {
        // U+017F LATIN SMALL LETTER LONG S folds to `s` in Go's key matching.
        let req = parse("{\"\u{17f}ample_rate\":7,\"\u{17f}NAPPY\":true}");
        assert_eq!(req.sample_rate, Some(7));
        assert_eq!(req.snappy, Some(true));
        // Other look-alikes do not match.
        assert_eq!(parse("{\"client_\u{131}d\":\"x\"}").client_id, None);
        assert_eq!(
            parse(r#"{"client_id ":"x","clientid":"y"}"#).client_id,
            None
        );
    }

    #[test]
    fn escaped_keys_match() {
        assert_eq!(
            parse(r#"{"client\u005fid":"c"}"#).client_id.as_deref(),
            Some("c")
        );
    }

    #[test]
    fn null_leaves_the_default_and_later_keys_win() {
        let req = parse(r#"{"client_id":null,"msg_timeout":null,"tls_v1":null}"#);
        assert_eq!(req, IdentifyRequest::default());
        let req = parse(r#"{"heartbeat_interval":1000,"HEARTBEAT_INTERVAL":2000}"#);
        assert_eq!(req.heartbeat_interval, Some(2000));
        // A later null does not undo an earlier value.
        let req = parse(r#"{"heartbeat_interval":1000,"heartbeat_interval":null}"#);
        assert_eq!(req.heartbeat_interval, Some(1000));
    }

    #[test]
    fn string_escapes_and_bad_utf8() {
        let req = parse(r#"{"client_id":"a\"b\\c\u00e9\ud83d\ude00","hostname":"\ud800x"}"#);
        assert_eq!(req.client_id.as_deref(), Some("a\"b\\cé😀"));
        assert_eq!(req.hostname.as_deref(), Some("\u{fffd}x"));
        let req = IdentifyRequest::from_json(b"{\"user_agent\":\"a\xffb\"}").unwrap();
        assert_eq!(req.user_agent.as_deref(), Some("a\u{fffd}b"));
    }

    #[test]
    fn negative_zero_is_an_integer() {
        assert_eq!(parse(r#"{"msg_timeout":-0}"#).msg_timeout, Some(0));
    }

    #[test]
    fn integer_limits() {
        assert_eq!(
            parse(r#"{"heartbeat_interval":-9223372036854775808}"#).heartbeat_interval,
            Some(i64::MIN)
        );
        assert_eq!(
            parse(r#"{"sample_rate":2147483647}"#).sample_rate,
            Some(i32::MAX)
        );
        assert_eq!(
            parse(r#"{"sample_rate":-2147483648}"#).sample_rate,
            Some(i32::MIN)
        );
    }

    #[test]
    fn wrong_types_fail() {
        for json in [
            r#"{"heartbeat_interval":30000.0}"#,
            r#"{"heartbeat_interval":"30000"}"#,
            r#"{"heartbeat_interval":3e4}"#,
            r#"{"heartbeat_interval":true}"#,
            r#"{"heartbeat_interval":[1]}"#,
            r#"{"heartbeat_interval":{}}"#,
            r#"{"heartbeat_interval":9223372036854775808}"#,
            r#"{"sample_rate":2147483648}"#,
            r#"{"sample_rate":-2147483649}"#,
            r#"{"client_id":5}"#,
            r#"{"client_id":true}"#,
            r#"{"client_id":["x"]}"#,
            r#"{"feature_negotiation":"true"}"#,
            r#"{"feature_negotiation":1}"#,
            r#"{"tls_v1":0}"#,
            r#"{"Deflate_Level":"6"}"#,
            // A type error anywhere fails, even if a later duplicate is fine.
            r#"{"msg_timeout":"x","msg_timeout":1000}"#,
        ] {
            parse_err(json.as_bytes());
        }
    }

    #[test]
    fn malformed_documents_fail() {
        for json in [
            &b"not json"[..],
            b"",
            b" ",
            b"[]",
            b"\"x\"",
            b"42",
            b"true",
            b"{",
            b"{\"client_id\":\"x\"",
            b"{\"client_id\":\"x\",}",
            b"{\"client_id\":\"x\"} {}",
            b"{\"a\":01}",
            b"{\"a\":\"\x01\"}",
            b"{\"a\":\"\\q\"}",
            b"{\"a\":NaN}",
            b"{a:1}",
        ] {
            parse_err(json);
        }
    }

    #[test]
    fn deep_nesting_in_unknown_keys() {
        let depth_ok = format!("{{\"x\":{}{}}}", "[".repeat(9_999), "]".repeat(9_999));
        assert!(IdentifyRequest::from_json(depth_ok.as_bytes()).is_ok());
        let too_deep = format!("{{\"x\":{}{}}}", "[".repeat(10_000), "]".repeat(10_000));
        parse_err(too_deep.as_bytes());
    }
}

mod validation {
    use super::*;

    #[test]
    fn defaults() {
        let s = negotiate("{}");
        assert_eq!(
            s,
            NegotiatedSettings {
                client_id: String::new(),
                hostname: String::new(),
                user_agent: String::new(),
                feature_negotiation: false,
                heartbeat_interval_ms: Some(30_000),
                output_buffer_size: 16_384,
                output_buffer_timeout_ms: 250,
                sample_rate: 0,
                msg_timeout_ms: 60_000,
                tls_v1: false,
                deflate: false,
                deflate_level: 6,
                snappy: false,
            }
        );
        assert_eq!(
            s,
            negotiate(
                r#"{"heartbeat_interval":0,"output_buffer_size":0,"output_buffer_timeout":0,"msg_timeout":0,"sample_rate":0}"#
            )
        );
    }

    #[test]
    fn special_values() {
        let s = negotiate(r#"{"heartbeat_interval":-1,"output_buffer_timeout":-1}"#);
        assert_eq!(s.heartbeat_interval_ms, None);
        assert_eq!(s.output_buffer_timeout_ms, 0);
        assert_eq!(s.output_buffer_size, 16_384);
        // output_buffer_size -1: size 1 and the timeout forced to 0.
        let s = negotiate(r#"{"output_buffer_size":-1,"output_buffer_timeout":1000}"#);
        assert_eq!(s.output_buffer_size, 1);
        assert_eq!(s.output_buffer_timeout_ms, 0);
    }

    #[test]
    fn inclusive_bounds_are_accepted() {
        for json in [
            r#"{"heartbeat_interval":1000}"#,
            r#"{"heartbeat_interval":60000}"#,
            r#"{"output_buffer_size":64}"#,
            r#"{"output_buffer_size":65536}"#,
            r#"{"output_buffer_timeout":25}"#,
            r#"{"output_buffer_timeout":30000}"#,
            r#"{"sample_rate":99}"#,
            r#"{"msg_timeout":1000}"#,
            r#"{"msg_timeout":900000}"#,
        ] {
            negotiate(json);
        }
        let s = negotiate(
            r#"{"heartbeat_interval":1000,"output_buffer_size":64,"output_buffer_timeout":25,"sample_rate":99,"msg_timeout":900000}"#,
        );
        assert_eq!(s.heartbeat_interval_ms, Some(1000));
        assert_eq!(s.output_buffer_size, 64);
        assert_eq!(s.output_buffer_timeout_ms, 25);
        assert_eq!(s.sample_rate, 99);
        assert_eq!(s.msg_timeout_ms, 900_000);
    }

    #[test]
    fn out_of_range_values() {
        let limits = ServerIdentifyLimits::default();
        for (json, text) in [
            (
                r#"{"heartbeat_interval":100}"#,
                "heartbeat interval (100) is invalid",
            ),
            (
                r#"{"heartbeat_interval":60001}"#,
                "heartbeat interval (60001) is invalid",
            ),
            (
                r#"{"heartbeat_interval":-2}"#,
                "heartbeat interval (-2) is invalid",
            ),
            (
                r#"{"heartbeat_interval":999}"#,
                "heartbeat interval (999) is invalid",
            ),
            (
                r#"{"output_buffer_timeout":24}"#,
                "output buffer timeout (24) is invalid",
            ),
            (
                r#"{"output_buffer_timeout":30001}"#,
                "output buffer timeout (30001) is invalid",
            ),
            (
                r#"{"output_buffer_timeout":-5}"#,
                "output buffer timeout (-5) is invalid",
            ),
            (
                r#"{"output_buffer_size":63}"#,
                "output buffer size (63) is invalid",
            ),
            (
                r#"{"output_buffer_size":65537}"#,
                "output buffer size (65537) is invalid",
            ),
            (
                r#"{"output_buffer_size":-2}"#,
                "output buffer size (-2) is invalid",
            ),
            (r#"{"sample_rate":100}"#, "sample rate (100) is invalid"),
            (r#"{"sample_rate":-1}"#, "sample rate (-1) is invalid"),
            (r#"{"msg_timeout":999}"#, "msg timeout (999) is invalid"),
            (
                r#"{"msg_timeout":900001}"#,
                "msg timeout (900001) is invalid",
            ),
            (r#"{"msg_timeout":-1}"#, "msg timeout (-1) is invalid"),
        ] {
            assert_eq!(
                negotiate_err(json, &limits),
                format!("E_BAD_BODY IDENTIFY {text}"),
                "{json}"
            );
        }
    }

    #[test]
    fn validation_order() {
        let limits = ServerIdentifyLimits::default();
        let all_bad = r#"{"msg_timeout":1,"sample_rate":100,"output_buffer_size":1,"output_buffer_timeout":1,"heartbeat_interval":1}"#;
        assert_eq!(
            negotiate_err(all_bad, &limits),
            "E_BAD_BODY IDENTIFY heartbeat interval (1) is invalid"
        );
        let no_heartbeat = r#"{"msg_timeout":1,"sample_rate":100,"output_buffer_size":1,"output_buffer_timeout":1}"#;
        assert_eq!(
            negotiate_err(no_heartbeat, &limits),
            "E_BAD_BODY IDENTIFY output buffer timeout (1) is invalid"
        );
        assert_eq!(
            negotiate_err(
                r#"{"msg_timeout":1,"sample_rate":100,"output_buffer_size":1}"#,
                &limits
            ),
            "E_BAD_BODY IDENTIFY output buffer size (1) is invalid"
        );
        assert_eq!(
            negotiate_err(r#"{"msg_timeout":1,"sample_rate":100}"#, &limits),
            "E_BAD_BODY IDENTIFY sample rate (100) is invalid"
        );
    }

    #[test]
    fn custom_limits() {
        let limits = ServerIdentifyLimits {
            max_heartbeat_interval_ms: 5000,
            max_output_buffer_size: 1000,
            min_output_buffer_timeout_ms: 100,
            max_output_buffer_timeout_ms: 200,
            max_msg_timeout_ms: 10_000,
            ..ServerIdentifyLimits::default()
        };
        assert_eq!(
            negotiate_err(r#"{"heartbeat_interval":5001}"#, &limits),
            "E_BAD_BODY IDENTIFY heartbeat interval (5001) is invalid"
        );
        assert_eq!(
            negotiate_err(r#"{"output_buffer_size":1001}"#, &limits),
            "E_BAD_BODY IDENTIFY output buffer size (1001) is invalid"
        );
        assert_eq!(
            negotiate_err(r#"{"output_buffer_timeout":99}"#, &limits),
            "E_BAD_BODY IDENTIFY output buffer timeout (99) is invalid"
        );
        assert_eq!(
            negotiate_err(r#"{"msg_timeout":10001}"#, &limits),
            "E_BAD_BODY IDENTIFY msg timeout (10001) is invalid"
        );
    }

    #[test]
    fn names_are_replaced_even_when_absent() {
        let s = negotiate(r#"{"client_id":"a","hostname":"b","user_agent":"c"}"#);
        assert_eq!(
            (
                s.client_id.as_str(),
                s.hostname.as_str(),
                s.user_agent.as_str()
            ),
            ("a", "b", "c")
        );
        let again = parse("{}")
            .negotiate_from(&s, &ServerIdentifyLimits::default())
            .unwrap();
        assert_eq!(again.client_id, "");
        assert_eq!(again.hostname, "");
        assert_eq!(again.user_agent, "");
    }

    #[test]
    fn repeated_identify_keeps_current_values_for_zero() {
        let limits = ServerIdentifyLimits::default();
        let first = negotiate(
            r#"{"heartbeat_interval":-1,"output_buffer_size":100,"output_buffer_timeout":50,"msg_timeout":5000,"sample_rate":10}"#,
        );
        let second = parse(r#"{"heartbeat_interval":0}"#)
            .negotiate_from(&first, &limits)
            .unwrap();
        assert_eq!(second.heartbeat_interval_ms, None);
        assert_eq!(second.output_buffer_size, 100);
        assert_eq!(second.output_buffer_timeout_ms, 50);
        assert_eq!(second.msg_timeout_ms, 5000);
        // The sample rate is always replaced.
        assert_eq!(second.sample_rate, 0);
    }
}

mod negotiation {
    use super::*;

    fn limits(tls: bool, deflate: bool, snappy: bool) -> ServerIdentifyLimits {
        ServerIdentifyLimits {
            tls_available: tls,
            deflate_enabled: deflate,
            snappy_enabled: snappy,
            ..ServerIdentifyLimits::default()
        }
    }

    fn settings(json: &str, limits: &ServerIdentifyLimits) -> NegotiatedSettings {
        parse(json).negotiate(limits).expect("negotiate")
    }

    #[test]
    fn features_need_request_and_server_support() {
        let all = r#"{"feature_negotiation":true,"tls_v1":true,"snappy":true}"#;
        let s = settings(all, &limits(true, true, true));
        assert!(s.tls_v1 && s.snappy && !s.deflate);
        let s = settings(all, &limits(false, true, false));
        assert!(!s.tls_v1 && !s.snappy);
        let s = settings(r#"{"feature_negotiation":true}"#, &limits(true, true, true));
        assert!(!s.tls_v1 && !s.snappy && !s.deflate);
        let s = settings(
            r#"{"feature_negotiation":true,"deflate":true}"#,
            &limits(false, true, true),
        );
        assert!(s.deflate && !s.snappy);
    }

    #[test]
    fn nothing_is_granted_without_feature_negotiation() {
        let s = settings(
            r#"{"tls_v1":true,"deflate":true,"snappy":true}"#,
            &limits(true, true, true),
        );
        assert!(!s.feature_negotiation);
        assert!(!s.tls_v1 && !s.deflate && !s.snappy);
    }

    #[test]
    fn deflate_and_snappy_together_fail() {
        let e = parse(r#"{"feature_negotiation":true,"deflate":true,"snappy":true}"#)
            .negotiate(&limits(false, true, true))
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::IdentifyFailed);
        assert!(e.is_fatal());
        assert_eq!(
            e.wire_text(),
            "E_IDENTIFY_FAILED cannot enable both deflate and snappy compression"
        );
        // Only when both are actually granted.
        let s = settings(
            r#"{"feature_negotiation":true,"deflate":true,"snappy":true}"#,
            &limits(false, true, false),
        );
        assert!(s.deflate && !s.snappy);
    }

    #[test]
    fn validation_errors_come_before_the_compression_conflict() {
        assert_eq!(
            negotiate_err(
                r#"{"feature_negotiation":true,"deflate":true,"snappy":true,"sample_rate":100}"#,
                &limits(false, true, true)
            ),
            "E_BAD_BODY IDENTIFY sample rate (100) is invalid"
        );
    }

    #[test]
    fn deflate_level_rules() {
        let on = |level: &str, max: i64| {
            let l = ServerIdentifyLimits {
                max_deflate_level: max,
                ..limits(false, true, false)
            };
            settings(
                &format!(
                    r#"{{"feature_negotiation":true,"deflate":true,"deflate_level":{level}}}"#
                ),
                &l,
            )
            .deflate_level
        };
        assert_eq!(on("1", 6), 1);
        assert_eq!(on("9", 6), 6);
        assert_eq!(on("9", 9), 9);
        assert_eq!(on("0", 9), 6);
        assert_eq!(on("-3", 9), 6);
        assert_eq!(on("5", 3), 3);
        assert_eq!(on("0", 3), 3);
        // A level without deflate granted is reported as 6 (capped).
        let s = settings(
            r#"{"feature_negotiation":true,"deflate_level":9}"#,
            &ServerIdentifyLimits {
                max_deflate_level: 9,
                ..limits(false, true, false)
            },
        );
        assert!(!s.deflate);
        assert_eq!(s.deflate_level, 6);
    }

    #[test]
    fn response_fields() {
        let l = ServerIdentifyLimits {
            max_rdy_count: 100,
            max_msg_timeout_ms: 123_000,
            max_deflate_level: 8,
            auth_required: true,
            ..limits(true, true, false)
        };
        assert_eq!(
            response_json(
                r#"{"feature_negotiation":true,"tls_v1":true,"deflate":true,"deflate_level":7,"sample_rate":3,"msg_timeout":2000,"output_buffer_size":64,"output_buffer_timeout":30}"#,
                &l
            ),
            concat!(
                r#"{"max_rdy_count":100,"version":"1.3.0","max_msg_timeout":123000,"msg_timeout":2000,"#,
                r#""tls_v1":true,"deflate":true,"deflate_level":7,"max_deflate_level":8,"snappy":false,"#,
                r#""sample_rate":3,"auth_required":true,"output_buffer_size":64,"output_buffer_timeout":30}"#
            )
        );
    }
}

mod fixtures {
    use super::*;

    /// wire/01: the request body and the exact reply body.
    #[test]
    fn default_negotiation_matches_fixture_01() {
        let request = r#"{"client_id":"fixture","hostname":"nsq-host","feature_negotiation":true,"heartbeat_interval":30000,"output_buffer_size":16384,"output_buffer_timeout":250,"tls_v1":false,"snappy":false,"deflate":false,"deflate_level":6,"sample_rate":0,"user_agent":"fixture-capture/1.0","msg_timeout":0}"#;
        let expected = r#"{"max_rdy_count":2500,"version":"1.3.0","max_msg_timeout":900000,"msg_timeout":60000,"tls_v1":false,"deflate":false,"deflate_level":6,"max_deflate_level":6,"snappy":false,"sample_rate":0,"auth_required":false,"output_buffer_size":16384,"output_buffer_timeout":250}"#;
        assert_eq!(request.len(), 0x11d);
        assert_eq!(expected.len(), 264);
        let limits = ServerIdentifyLimits::default();
        assert_eq!(response_json(request, &limits), expected);
        let s = negotiate(request);
        assert_eq!(s.client_id, "fixture");
        assert_eq!(s.hostname, "nsq-host");
        assert_eq!(s.user_agent, "fixture-capture/1.0");
        assert!(s.feature_negotiation);
    }

    /// wire/01b: disabled heartbeats and buffering, custom msg timeout and sample rate.
    #[test]
    fn custom_negotiation_matches_fixture_01b() {
        let request = r#"{"client_id":"fixture","hostname":"nsq-host","feature_negotiation":true,"heartbeat_interval":-1,"output_buffer_size":-1,"output_buffer_timeout":-1,"tls_v1":false,"snappy":false,"deflate":false,"deflate_level":6,"sample_rate":50,"user_agent":"fixture-capture/1.0","msg_timeout":30000}"#;
        let expected = r#"{"max_rdy_count":2500,"version":"1.3.0","max_msg_timeout":900000,"msg_timeout":30000,"tls_v1":false,"deflate":false,"deflate_level":6,"max_deflate_level":6,"snappy":false,"sample_rate":50,"auth_required":false,"output_buffer_size":1,"output_buffer_timeout":0}"#;
        assert_eq!(request.len(), 0x11b);
        assert_eq!(expected.len(), 259);
        assert_eq!(
            response_json(request, &ServerIdentifyLimits::default()),
            expected
        );
        assert_eq!(negotiate(request).heartbeat_interval_ms, None);
    }

    /// wire/17: only client_id and feature_negotiation.
    #[test]
    fn minimal_negotiation_matches_fixture_17() {
        let expected = r#"{"max_rdy_count":2500,"version":"1.3.0","max_msg_timeout":900000,"msg_timeout":60000,"tls_v1":false,"deflate":false,"deflate_level":6,"max_deflate_level":6,"snappy":false,"sample_rate":0,"auth_required":false,"output_buffer_size":16384,"output_buffer_timeout":250}"#;
        assert_eq!(
            response_json(
                r#"{"client_id":"fixture","feature_negotiation":true}"#,
                &ServerIdentifyLimits::default()
            ),
            expected
        );
    }

    /// wire/03: heartbeat bounds and a body that is not JSON.
    #[test]
    fn errors_match_fixture_03() {
        let limits = ServerIdentifyLimits::default();
        assert_eq!(
            negotiate_err(
                r#"{"client_id":"fixture","heartbeat_interval":100,"feature_negotiation":true}"#,
                &limits
            ),
            "E_BAD_BODY IDENTIFY heartbeat interval (100) is invalid"
        );
        assert_eq!(
            negotiate_err(r#"{"heartbeat_interval":60001}"#, &limits),
            "E_BAD_BODY IDENTIFY heartbeat interval (60001) is invalid"
        );
        parse_err(b"not json");
    }
}
